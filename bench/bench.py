#!/usr/bin/env python3
"""Benchmark rlsof against lsof and lsfd on processes that hold many files.

    bench/bench.py [--procs 200] [--fds 200] [--threads 8] [--runs 5] [--quick]

Builds rlsof (cargo build --release) unless --rlsof names a binary, starts
its own fixture processes (fdload.py, next to this file), and for each case
runs the commands in turn (A B C A B C ...) after one warm-up each, output
counted and thrown away. It prints, per command, the median wall time, the
median CPU time (user + system), the median peak resident memory (GNU time's
%M; Debian package `time`), the median output size, and rlsof's ratio to lsof.

Cases: `-n -P` on the whole system; field output (`-F`) and JSON Lines
(`-j`) on the whole system, rlsof also with `RLSOF_NO_BPF=1` (no kernel
iterators: every fdinfo read, whole socket tables); the same with threads
in the holders; `+L1`; `-i :PORT` on a port a holder listens on (with `ss`); the peak memory
of the streaming outputs `-F`, `-t`, `-j` with PROCS/10 and PROCS holders
(bounded memory: it should not grow with the machine); rlsof pinned to one
CPU (`taskset -c 0`) against lsof pinned the same way.

Every fixture process is stopped on exit, on Ctrl-C and on SIGTERM (and dies
with its parent if this script is killed). Machines are noisy: quote the
ratios, not the absolute times.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GNU_TIME = "/usr/bin/time"
CASES = ("whole", "fields", "threads", "links", "inet", "memory", "single", "fleet")


class Fixture:
    """fdload.py holders, started in their own session so Ctrl-C reaches only us."""

    def __init__(self, procs, fds, threads=1):
        self.dir = f"/tmp/rlsof-bench-{os.getpid()}-{procs}x{threads}x{fds}"
        self.label = f"{procs} procs x {threads} threads x {fds} fds"
        argv = [sys.executable, os.path.join(HERE, "fdload.py"), "--procs", str(procs),
                "--fds", str(fds), "--threads", str(threads), "--dir", self.dir]
        note(f"starting fixture: {self.label} ...")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
        try:
            self.pids = self.proc.stdout.readline().split()
            self.port = self.proc.stdout.readline().strip().decode()
        except BaseException:  # Ctrl-C while the holders start
            self.stop()
            raise
        if not self.pids:
            self.stop()
            sys.exit("bench: the fixture did not start (see fdload.py's message above)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # its holders die with it (PR_SET_PDEATHSIG)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.exists(self.dir):  # fdload was killed; its holders were still writing
            time.sleep(0.5)
            shutil.rmtree(self.dir, ignore_errors=True)


def note(text):
    print(text, file=sys.stderr, flush=True)


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                         model)
    except OSError:
        pass
    u = os.uname()
    usable = len(os.sched_getaffinity(0))
    lsof = next((l.strip() for l in subprocess.run(
        ["lsof", "-v"], capture_output=True, text=True).stderr.splitlines()
        if "revision:" in l), "not found") if shutil.which("lsof") else "not found"
    return [f"machine: {os.cpu_count()} CPUs ({usable} usable), {model}",
            f"kernel:  {u.sysname} {u.release} {u.machine}",
            f"lsof:    {lsof}",
            f"lsfd:    {first_line(['lsfd', '--version']) if shutil.which('lsfd') else 'not found'}",
            f"rlsof:   {first_line(['git', '-C', ROOT, 'describe', '--always', '--dirty'])}",
            f"user:    uid {os.geteuid()}" + ("" if os.geteuid() == 0 else
                                               " (not root: only your own processes are seen)")]


def build_rlsof(given):
    if given:
        return os.path.abspath(given)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "rlsof")
    if shutil.which("cargo"):
        note("building rlsof (cargo build --release) ...")
        if subprocess.call(["cargo", "build", "--release", "--quiet"], cwd=ROOT) != 0:
            sys.exit("bench: cargo build --release failed")
    elif not os.path.exists(binary):
        sys.exit(f"bench: cargo is not installed and {binary} does not exist; use --rlsof PATH")
    return binary


def run_once(argv):
    """Run argv once; return (wall s, cpu s, peak KiB, output bytes).

    GNU time starts the command, so the peak memory is the command's own and
    not that of this Python process; it reports through a pipe, so nothing is
    left behind. CPU comes from wait4 (microseconds, where GNU time has
    hundredths); it includes GNU time's own few.
    """
    report_r, report_w = os.pipe()
    start = time.perf_counter()
    try:
        proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", f"/dev/fd/{report_w}"] + argv,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                pass_fds=(report_w,))
    finally:
        os.close(report_w)
    size = 0
    while True:
        chunk = proc.stdout.read(1 << 16)
        if not chunk:
            break
        size += len(chunk)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    wall = time.perf_counter() - start
    proc.stdout.close()
    with os.fdopen(report_r) as report:
        words = report.read().split()
    rss = int(words[-1]) if words and words[-1].isdigit() else 0
    return wall, usage.ru_utime + usage.ru_stime, rss, size


def measure(commands, runs):
    """Interleaved runs after one warm-up each; the medians per command label."""
    samples = {label: [] for label, _ in commands}
    for _, argv in commands:
        run_once(argv)
    for _ in range(runs):
        for label, argv in commands:
            samples[label].append(run_once(argv))
    return {label: tuple(statistics.median(s[i] for s in rows) for i in range(4))
            for label, rows in samples.items()}


def available(commands):
    kept = []
    for label, argv in commands:
        programs = [argv[0], argv[3]] if argv[0] == "taskset" else [argv[0]]
        missing = [p for p in programs if not shutil.which(p)]
        if missing:
            note(f"skipping `{label}`: {missing[0]} not found")
        else:
            kept.append((label, argv))
    return kept


def tool(label):
    """The program a command label times: "taskset -c 0 lsof -n" -> "lsof"."""
    words = label.split()
    return words[3] if words[0] == "taskset" and len(words) > 3 else words[0]


def ratio(a, b):
    return f"{a / b:7.2f}" if b else f"{'-':>7}"


def table(title, commands, runs, same_output=True):
    commands = available(commands)
    medians = measure(commands, runs)
    base = next((m for label, m in medians.items() if tool(label) == "lsof"), None)
    print(f"\n== {title}  [{load()}]")
    print(f"{'command':<38} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'out KiB':>9}"
          f" {'wall/lsof':>9} {'cpu/lsof':>8} {'mem/lsof':>8}")
    for label, (wall, cpu, rss, out) in medians.items():
        rel = [ratio(x, base[i]) if base else f"{'-':>7}" for i, x in enumerate((wall, cpu, rss))]
        print(f"{label[:38]:<38} {wall:8.3f} {cpu:8.3f} {rss / 1024:9.1f} {out / 1024:9.1f}"
              f" {rel[0]:>9} {rel[1]:>8} {rel[2]:>8}")
    if same_output:
        warn_if_silent(medians)
    sys.stdout.flush()


def warn_if_silent(medians):
    """Timing a tool that lists less (or far more) than lsof compares nothing."""
    outs = {tool(label): m[3] for label, m in medians.items()}
    mine, theirs = outs.get("rlsof"), outs.get("lsof")
    if mine is not None and theirs and not theirs / 2 <= mine <= theirs * 2:
        print(f"   note: rlsof printed {mine / 1024:.0f} KiB where lsof printed"
              f" {theirs / 1024:.0f} KiB: these figures do not compare like with like")


def load():
    """The machine's load averages: other work on it slows every command."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def memory_table(rlsof, small, large, runs):
    """Peak memory of the streaming outputs with few and with many processes."""
    commands = available([
        ("rlsof -n -P -F", [rlsof, "-n", "-P", "-F"]),
        ("lsof -n -P -F", ["lsof", "-n", "-P", "-F"]),
        ("rlsof -n -P -t", [rlsof, "-n", "-P", "-t"]),
        ("lsof -n -P -t", ["lsof", "-n", "-P", "-t"]),
        ("rlsof -n -P -j", [rlsof, "-n", "-P", "-j"]),
    ])
    got = []
    for fixture_size in (small, large):
        with Fixture(*fixture_size) as f:
            got.append((f.label, measure(commands, runs)))
    (small_label, few), (large_label, many) = got
    print(f"\n== Bounded memory: peak MiB of streaming output, {small_label} vs {large_label}"
          f"  [{load()}]")
    print(f"{'command':<38} {'out KiB':>9} {'peak MiB':>9} {'out KiB':>9} {'peak MiB':>9}"
          f" {'peak growth':>12}")
    for label, _ in commands:
        a, b = few[label], many[label]
        print(f"{label:<38} {a[3] / 1024:9.1f} {a[2] / 1024:9.1f} {b[3] / 1024:9.1f}"
              f" {b[2] / 1024:9.1f} {ratio(b[2], a[2]):>12}")
    print("   (output grows with the processes; a streaming printer's peak should not)")
    sys.stdout.flush()


def cases_on(rlsof, f, a):
    """The cases that run on the plain fixture `f`."""
    if "whole" in a.only:
        table(f"-n -P, whole system ({f.label})", [
            ("rlsof -n -P", [rlsof, "-n", "-P"]),
            ("lsof -n -P", ["lsof", "-n", "-P"]),
            ("lsfd --threads", ["lsfd", "--threads"]),
        ], a.runs)
    if "fields" in a.only:
        table(f"-F and -j, whole system ({f.label})", [
            ("rlsof -n -P -F", [rlsof, "-n", "-P", "-F"]),
            ("lsof -n -P -F", ["lsof", "-n", "-P", "-F"]),
            ("rlsof -n -P -j", [rlsof, "-n", "-P", "-j"]),
            ("rlsof -n -P -F, RLSOF_NO_BPF=1", ["env", "RLSOF_NO_BPF=1", rlsof, "-n", "-P", "-F"]),
        ], a.runs)
    if "links" in a.only:
        table(f"+L1, open files with no link ({f.label})", [
            ("rlsof -n -P +L1", [rlsof, "-n", "-P", "+L1"]),
            ("lsof -n -P +L1", ["lsof", "-n", "-P", "+L1"]),
            ("lsfd --threads -Q DELETED", ["lsfd", "--threads", "-Q", "DELETED"]),
        ], a.runs)
    if "inet" in a.only and f.port:
        port = f.port
        table(f"-i :{port}, a port one holder listens on ({f.label})", [
            (f"rlsof -n -P -i :{port}", [rlsof, "-n", "-P", "-i", f":{port}"]),
            (f"lsof -n -P -i :{port}", ["lsof", "-n", "-P", "-i", f":{port}"]),
            (f"ss -ltnp sport = :{port}", ["ss", "-ltnp", "sport", "=", f":{port}"]),
        ], a.runs)
    if "fleet" in a.only:
        # A report of the same scan, not a listing: outputs differ in size.
        table(f"--metrics and --summary against a listing ({f.label})", [
            ("rlsof --metrics", [rlsof, "--metrics"]),
            ("rlsof --summary", [rlsof, "--summary"]),
            ("lsof -n -P", ["lsof", "-n", "-P"]),
        ], a.runs, same_output=False)
    if "single" in a.only:
        table(f"one CPU: taskset -c 0 ({f.label})", [
            ("taskset -c 0 rlsof -n -P", ["taskset", "-c", "0", rlsof, "-n", "-P"]),
            ("taskset -c 0 lsof -n -P", ["taskset", "-c", "0", "lsof", "-n", "-P"]),
        ], a.runs)


def options():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--procs", type=int, default=200, help="holder processes (default 200)")
    ap.add_argument("--fds", type=int, default=200, help="descriptors per holder (default 200)")
    ap.add_argument("--threads", type=int, default=8,
                    help="threads per holder in the threads case (default 8)")
    ap.add_argument("--thread-fds", type=int, default=150,
                    help="descriptors per holder in the threads case (default 150)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 20 procs x 40 fds, 4 threads x 30 fds, 2 runs")
    ap.add_argument("--only", default=",".join(CASES),
                    help=f"comma-separated cases to run, of: {','.join(CASES)}")
    ap.add_argument("--rlsof", help="the rlsof binary to time (default: build target/release)")
    a = ap.parse_args()
    if a.quick:
        a.procs, a.fds, a.threads, a.thread_fds, a.runs = 20, 40, 4, 30, 2
    a.only = set(a.only.split(","))
    unknown = a.only - set(CASES)
    if unknown:
        ap.error(f"unknown case(s): {','.join(sorted(unknown))}")
    if min(a.procs, a.fds, a.threads, a.thread_fds, a.runs) < 1:
        ap.error("sizes and runs must be at least 1")
    return a


def main():
    a = options()
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"bench: {GNU_TIME} is missing (GNU time measures peak memory):"
                 " apt-get install time")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rlsof = build_rlsof(a.rlsof)
    print("\n".join(machine()))
    print(f"runs:    {a.runs} timed runs per command after one warm-up, medians shown")
    sys.stdout.flush()
    if "memory" in a.only:
        memory_table(rlsof, (max(1, a.procs // 10), a.fds), (a.procs, a.fds), a.runs)
    if a.only & {"whole", "fields", "links", "inet", "single", "fleet"}:
        with Fixture(a.procs, a.fds) as f:
            cases_on(rlsof, f, a)
    if "threads" in a.only:
        with Fixture(a.procs, a.thread_fds, a.threads) as f:
            table(f"-n -P, whole system, threaded holders ({f.label})", [
                ("rlsof -n -P", [rlsof, "-n", "-P"]),
                ("lsof -n -P", ["lsof", "-n", "-P"]),
                ("lsfd --threads", ["lsfd", "--threads"]),
            ], a.runs)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
