#!/usr/bin/env python3
"""Populate this machine with processes that hold many kinds of open files.

A fixture for benchmarks and comparison tests of an lsof-like tool:

    fdload.py --procs 200 --fds 100 [--threads 8] --dir /tmp/fdload -- COMMAND ...

starts PROCS holder processes, each holding about FDS descriptors of mixed
kinds (regular files, deleted-but-open files, pipes, unix socket pairs,
loopback TCP listeners and connections, UDP sockets, eventfds, epoll,
memory-mapped files, directories) and running THREADS threads in all (which
share its descriptors), waits until all are ready, runs COMMAND with
FDLOAD_PIDS (space-separated holder pids), FDLOAD_PORT (the TCP port the
first holder listens on, 127.0.0.1) and FDLOAD_DIR in its environment, then
tears everything down and exits with COMMAND's status. Without a COMMAND it
prints the pids on one line and the port on the next, and waits for Ctrl-C
or SIGTERM.

Traffic stays on 127.0.0.1. Every holder exits when its parent does, and the
parent exits when its own parent does.
"""
import argparse
import mmap
import os
import select
import signal
import socket
import subprocess
import sys
import time


def set_name(name):
    """Give the holder its own command name, so that `-c fdload-h` selects the holders."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def die_with_parent(signum=signal.SIGKILL):
    """Get `signum` when the parent dies, so that no holder outlives a killed benchmark."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signum)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def interrupt(signum, frame):
    raise KeyboardInterrupt


def odd_ones(d):
    """Files that test the edges: odd names, locks, IPv6, named unix sockets, connected UDP."""
    import fcntl
    kept = []
    odd = os.open(os.path.join(d.encode(), b"we ird\nname\xff\x1b[0m"),
                  os.O_RDWR | os.O_CREAT, 0o644)
    kept.append(odd)
    whole = open(os.path.join(d, "locked-whole"), "w+b")
    fcntl.lockf(whole, fcntl.LOCK_EX)
    part = open(os.path.join(d, "locked-part"), "w+b")
    part.write(b"p" * 100)
    part.flush()
    fcntl.lockf(part, fcntl.LOCK_EX, 10, 0)
    shared = open(os.path.join(d, "flocked"), "w+b")
    fcntl.flock(shared, fcntl.LOCK_SH)
    kept += [whole, part, shared]
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.bind(("::1", 0))
        v6.listen(8)
        kept.append(v6)
    except OSError:
        pass
    named = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    named.bind(os.path.join(d, "sock"))
    named.listen(8)
    kept.append(named)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.connect(("127.0.0.1", 9))
    kept.append(udp)
    return kept


def hold(index, fds, threads, root, ready_w):
    """Body of one holder process: open about `fds` descriptors, start threads, then sleep."""
    kept = []
    d = os.path.join(root, f"p{index}")
    os.makedirs(d, exist_ok=True)
    set_name(b"fdload-h")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    kept.append(listener)
    if index == 0:
        with open(os.path.join(root, "port"), "w") as f:
            f.write(str(listener.getsockname()[1]))
    kept += odd_ones(d)
    maps = []
    k = 0
    while len(kept) < fds:
        kind = k % 10
        k += 1
        if kind in (0, 1):
            f = open(os.path.join(d, f"f{k}"), "w+b")
            f.write(b"x" * (k * 37 % 4096))
            f.flush()
            kept.append(f)
        elif kind == 2:
            path = os.path.join(d, f"gone{k}")
            f = open(path, "w+b")
            f.write(b"y" * 8192)
            f.flush()
            os.unlink(path)
            kept.append(f)
        elif kind == 3:
            r, w = os.pipe()
            kept += [os.fdopen(r, "rb"), os.fdopen(w, "wb")]
        elif kind == 4:
            kept += list(socket.socketpair())
        elif kind == 5:
            c = socket.create_connection(listener.getsockname())
            s, _ = listener.accept()
            kept += [c, s]
        elif kind == 6:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            kept.append(u)
        elif kind == 7:
            kept.append(os.eventfd(0) if hasattr(os, "eventfd") else open(os.devnull))
        elif kind == 8:
            kept.append(select.epoll())
        else:
            path = os.path.join(d, f"m{k}")
            with open(path, "w+b") as f:
                f.write(b"z" * 4096)
                f.flush()
                maps.append(mmap.mmap(f.fileno(), 4096))
            kept.append(os.open(d, os.O_RDONLY | os.O_DIRECTORY))
    import threading
    for _ in range(threads - 1):
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    os.write(ready_w, b"r")
    os.close(ready_w)
    signal.pause()


def start_holders(a, pids):
    """Fork the holders (their pids go into `pids` at once, for cleanup) and wait until ready."""
    ready_r, ready_w = os.pipe()
    for i in range(a.procs):
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_r)
                die_with_parent()
                hold(i, a.fds, a.threads, a.dir, ready_w)
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(ready_w)
    got = 0
    deadline = time.time() + 300
    while got < a.procs and time.time() < deadline:
        chunk = os.read(ready_r, 4096)
        if not chunk:
            break
        got += len(chunk)
    os.close(ready_r)
    if got < a.procs:
        print(f"fdload: only {got} of {a.procs} holders got ready", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=100)
    ap.add_argument("--fds", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="threads per holder, main included")
    ap.add_argument("--dir", default="/tmp/fdload")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command

    # SIGTERM, not SIGKILL, when our parent dies: the holders and the files go too.
    die_with_parent(signal.SIGTERM)
    signal.signal(signal.SIGTERM, interrupt)
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, a.fds + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    os.makedirs(a.dir, exist_ok=True)

    pids = []
    status = 0
    try:
        start_holders(a, pids)
        try:
            with open(os.path.join(a.dir, "port")) as f:
                port = f.read().strip()
        except OSError:
            port = ""
        env = dict(os.environ, FDLOAD_PIDS=" ".join(map(str, pids)), FDLOAD_PORT=port,
                   FDLOAD_DIR=a.dir)
        if cmd:
            status = subprocess.call(cmd, env=env)
        else:
            print(" ".join(map(str, pids)), flush=True)
            print(port, flush=True)
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        subprocess.call(["rm", "-rf", a.dir])
    sys.exit(status)


if __name__ == "__main__":
    main()
