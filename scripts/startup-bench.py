#!/usr/bin/env python3
"""Start-up time of pcdiag commands: wall and CPU (user + system) medians over N runs.

    scripts/startup-bench.py [--runs 25] BINARY [BINARY ...]

Each binary runs each command in turn, round by round (binary A, binary B, A, B, ...), so a busy
machine weighs on all of them alike; compare binaries within one run. Run from the checkout (the
commands read Samples/ and find Models/ from the working directory). Prints one line per binary and
command: median wall ms, median CPU ms, and the 10th-90th percentile of wall.
"""
import argparse
import os
import statistics
import subprocess
import time

COMMANDS = [
    ["--version"],
    ["classify", "Samples/chair_scan.pcd", "--no-diagnostics"],
    ["classify", "Samples/table_scene_organized.pcd", "--no-diagnostics"],
    ["info", "Samples/lamp_cad.ply"],
]


def run_once(argv):
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} exited with status {status}")
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    results = {(b, i): ([], []) for b in args.binaries for i in range(len(COMMANDS))}
    for round_ in range(args.warmup + args.runs):
        for i, command in enumerate(COMMANDS):
            for binary in args.binaries:
                wall, cpu = run_once([binary] + command)
                if round_ >= args.warmup:
                    results[(binary, i)][0].append(wall)
                    results[(binary, i)][1].append(cpu)
    for i, command in enumerate(COMMANDS):
        for binary in args.binaries:
            walls, cpus = results[(binary, i)]
            deciles = statistics.quantiles(walls, n=10)
            print(f"{binary} {' '.join(command)}: wall {statistics.median(walls):.1f} ms "
                  f"(p10-p90 {deciles[0]:.1f}-{deciles[-1]:.1f}), CPU {statistics.median(cpus):.1f} ms")


if __name__ == "__main__":
    main()
