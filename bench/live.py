#!/usr/bin/env python3
"""What `rlsof --top` costs per refresh, and whether its memory stays flat.

    bench/live.py [--procs 200] [--fds 200] [--refreshes 1000] [--refreshes-no-bpf 200] [--runs 5]

Starts bench.py's fixture (fdload.py), then
* runs `rlsof -n -P` RUNS times (output thrown away) for its median CPU time
  (user + system);
* runs `rlsof --top -r1cNm.` in a tmux pane of its own, with the refresh
  interval at 0 ms (RLSOF_TOP_INTERVAL_MS, a knob for measuring), under GNU
  time: CPU time per refresh = its CPU time / N (start and drawing
  included); meanwhile its resident memory (VmRSS) is sampled every 0.2 s.
Prints both CPU times, their ratio, and the RSS after 1%, 10%, 50% and 100%
of the run, and the largest sample.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import Fixture, build_rlsof, note  # noqa: E402

GNU_TIME = "/usr/bin/time"


def cpu_of(argv, env):
    """CPU seconds of one run of argv (user + system), output discarded."""
    before = os.times()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=dict(os.environ, **env))
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def top_run(rlsof, refreshes, env):
    sock = f"rlsof-bench-{os.getpid()}"
    out = f"/tmp/rlsof-bench-top-{os.getpid()}.time"
    settings = " ".join(f"{k}={v}" for k, v in env.items())
    cmd = (f"{settings} RLSOF_TOP_INTERVAL_MS=0 {GNU_TIME} -f '%U %S %M' -o {out} "
           f"{rlsof} --top -r1c{refreshes}m.; sleep 600")
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    subprocess.run(tmux + ["new-session", "-d", "-s", "b", "-x", "160", "-y", "50", cmd], check=True)
    try:
        shell = subprocess.run(tmux + ["display-message", "-p", "-t", "b", "#{pane_pid}"],
                               capture_output=True, text=True, check=True).stdout.strip()
        pid = None
        samples = []
        started = time.monotonic()
        while not os.path.exists(out) or os.path.getsize(out) == 0:
            if pid is None:
                pid = find_rlsof(shell)
            elif (rss := rss_kib(pid)) is not None:
                samples.append((time.monotonic() - started, rss))
            time.sleep(0.2)
        user, system, peak = open(out).read().split()
        return float(user) + float(system), int(peak), samples
    finally:
        subprocess.run(tmux + ["kill-server"], check=False)
        if os.path.exists(out):
            os.remove(out)


def find_rlsof(shell):
    """rlsof, the child of GNU time, the child of the pane's shell."""
    pid = shell
    for _ in range(2):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        if not children:
            return None
        pid = children[0]
    return pid


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=200)
    parser.add_argument("--fds", type=int, default=200)
    parser.add_argument("--refreshes", type=int, default=1000)
    parser.add_argument("--refreshes-no-bpf", type=int, default=200,
                        help="refreshes for the RLSOF_NO_BPF=1 run (slower)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rlsof", help="binary to measure (default: build it)")
    args = parser.parse_args()
    rlsof = build_rlsof(args.rlsof)
    print(f"{args.procs} procs x {args.fds} fds")
    with Fixture(args.procs, args.fds):
        measure(rlsof, args.refreshes, args.runs, "", {})
        measure(rlsof, args.refreshes_no_bpf, args.runs, " RLSOF_NO_BPF=1", {"RLSOF_NO_BPF": "1"})


def measure(rlsof, refreshes, runs, label, env):
    cpu_of([rlsof, "-n", "-P"], env)
    listing = statistics.median(cpu_of([rlsof, "-n", "-P"], env) for _ in range(runs))
    note(f"running{label} --top for {refreshes} refreshes ...")
    total, peak, samples = top_run(rlsof, refreshes, env)
    per_refresh = total / refreshes
    print(f"{label.strip() or 'as is'}:")
    print(f"  rlsof -n -P, median CPU of {runs}: {listing * 1000:.1f} ms")
    print(f"  rlsof --top, CPU per refresh over {refreshes}: {per_refresh * 1000:.1f} ms"
          f" ({per_refresh / listing:.2f}x)")
    if samples:
        end = samples[-1][0]
        at = [next((s for s in samples if s[0] >= end * f), samples[-1]) for f in (0.01, 0.1, 0.5, 1.0)]
        print("  RSS (KiB) at 1%, 10%, 50%, 100% of the run: "
              + ", ".join(str(s[1]) for s in at)
              + f"; largest sample {max(s[1] for s in samples)}; GNU time peak {peak}")


if __name__ == "__main__":
    main()
