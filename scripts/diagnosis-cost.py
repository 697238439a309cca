#!/usr/bin/env python3
"""What a diagnosis costs beside a plain classification, as BENCHMARKS.md measures it: `pcdiag classify
--no-diagnostics` and `pcdiag batch` (every indicator) on the same scans, wall time, process start and
reading included, each binary given alternated round by round; prints the medians and the ratios.

    scripts/diagnosis-cost.py --model Models/pointnet-pointda10-scans.safetensors --rounds 3 \
        --pcdiag old=/tmp/pcdiag-old --pcdiag new=.build/release/pcdiag

The scans: the first `--per-class` files (sorted) of each class folder of `--data`. `batch` writes its
rows to `--out`/NAME.jsonl, to compare the binaries' rows afterwards.
"""
import argparse, os, statistics, subprocess, time

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--pcdiag", action="append", required=True, help="NAME=PATH, one per binary")
parser.add_argument("--data", default="../shared/data/scans-sim/test")
parser.add_argument("--per-class", type=int, default=20)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--out", default="/tmp/diagnosis-cost")
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
files = [os.path.abspath(os.path.join(args.data, c, f)) for c in sorted(os.listdir(args.data))
         for f in sorted(os.listdir(os.path.join(args.data, c)))[: args.per_class]]
listing = os.path.join(args.out, "scans.txt")
with open(listing, "w") as out:
    out.write("\n".join(files) + "\n")
binaries = dict(entry.split("=", 1) for entry in args.pcdiag)


def timed(command):
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


times = {(name, what): [] for name in binaries for what in ("classify", "batch")}
for round in range(args.rounds):
    for name, binary in binaries.items():
        load = os.getloadavg()[0]
        times[name, "classify"].append(timed([binary, "classify", "@" + listing, "--no-diagnostics", "--model", args.model,
                                              "--format", "jsonl"]))
        times[name, "batch"].append(timed([binary, "batch", "@" + listing, "-o", os.path.join(args.out, name + ".jsonl"), "--force",
                                           "--model", args.model]))
        print(f"round {round + 1} {name}: classify {times[name, 'classify'][-1]:.2f} s, batch {times[name, 'batch'][-1]:.2f} s,"
              f" load {load:.1f}", flush=True)
classify = statistics.median([t for name in binaries for t in times[name, "classify"]])
print(f"{len(files)} scans; classify --no-diagnostics, median of every run: {classify:.2f} s")
for name in binaries:
    batch = statistics.median(times[name, "batch"])
    print(f"{name}: batch median {batch:.2f} s = {batch / classify:.1f}x classify")
