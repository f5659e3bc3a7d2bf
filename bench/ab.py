#!/usr/bin/env python3
"""Two rlsof builds side by side, with lsof: did a change make rlsof slower?

    bench/ab.py BEFORE AFTER [--procs 200] [--fds 200] [--runs 9]

Starts bench.py's fixture once and times, interleaved (one warm-up each,
then RUNS rounds of every command), `-n -P`, `-n -P -F`, `-n -P +L1` and
`-n -P -t` with both builds and with lsof. Prints the medians, each
build's ratios to lsof, and AFTER's ratio to BEFORE. Then the streaming
outputs' peak memory with few and with many processes (as bench.py's
memory case), for both builds.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import Fixture, load, measure  # noqa: E402

CASES = (["-n", "-P"], ["-n", "-P", "-F"], ["-n", "-P", "+L1"], ["-n", "-P", "-t"])


def timing(before, after, procs, fds, runs):
    with Fixture(procs, fds) as _:
        commands = []
        for args in CASES:
            for name, binary in (("before", before), ("after", after), ("lsof", "lsof")):
                commands.append((f"{name} {' '.join(args)}", [binary] + args))
        medians = measure(commands, runs)
    print(f"\n== {procs} x {fds}, medians of {runs}  [{load()}]")
    print(f"{'case':<18} {'build':<7} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}"
          f" {'wall/lsof':>9} {'cpu/lsof':>8} {'after/before wall':>18} {'cpu':>6}")
    for args in CASES:
        case = " ".join(args)
        lsof = medians[f"lsof {case}"]
        b, a = medians[f"before {case}"], medians[f"after {case}"]
        for name in ("before", "after"):
            wall, cpu, rss, _ = medians[f"{name} {case}"]
            extra = ""
            if name == "after":
                extra = f" {a[0] / b[0]:18.2f} {a[1] / b[1]:6.2f}"
            print(f"{case:<18} {name:<7} {wall:8.3f} {cpu:8.3f} {rss / 1024:9.1f}"
                  f" {wall / lsof[0]:9.2f} {cpu / lsof[1]:8.2f}{extra}")


def memory(before, after, procs, fds, runs):
    commands = []
    for args in (["-n", "-P", "-F"], ["-n", "-P", "-t"], ["-n", "-P", "-j"]):
        for name, binary in (("before", before), ("after", after)):
            commands.append((f"{name} {' '.join(args)}", [binary] + args))
    got = []
    for size in ((max(1, procs // 10), fds), (procs, fds)):
        with Fixture(*size) as _:
            got.append(measure(commands, runs))
    few, many = got
    print(f"\n== peak MiB of streaming output, {procs // 10} vs {procs} x {fds}  [{load()}]")
    for label, _ in commands:
        a, b = few[label][2] / 1024, many[label][2] / 1024
        print(f"{label:<22} {a:8.2f} {b:8.2f}  growth {b / a:5.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--procs", type=int, default=200)
    ap.add_argument("--fds", type=int, default=200)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    timing(a.before, a.after, a.procs, a.fds, a.runs)
    memory(a.before, a.after, a.procs, a.fds, a.runs)


if __name__ == "__main__":
    main()
