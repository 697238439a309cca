#!/usr/bin/env python3
"""Batch-shift false alarms: the shift test of `pcdiag merge` on random subsets of a batch's rows.

A row of `pcdiag batch` depends only on its cloud (the random drops are seeded by the cloud's own
points), so the shift verdict of a subset's rows is the verdict `pcdiag batch` gives on those clouds.

    scripts/shift-subsets.py --pcdiag .build/release/pcdiag --model M --rows clean.jsonl \
        --subsets 20 --size 100 --seed 1
Prints one line per subset and the count of subsets reported as shifted.
"""
import argparse, json, os, random, subprocess, tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--pcdiag", default=".build/release/pcdiag")
parser.add_argument("--model", required=True)
parser.add_argument("--rows", required=True, help="rows written by pcdiag batch -o (.jsonl)")
parser.add_argument("--subsets", type=int, default=20)
parser.add_argument("--size", type=int, default=100)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

rows = [line for line in open(args.rows) if line.strip()]
rng = random.Random(args.seed)
shifted = 0
with tempfile.TemporaryDirectory() as scratch:
    for i in range(args.subsets):
        part = os.path.join(scratch, f"subset-{i}.jsonl")
        with open(part, "w") as f:
            f.writelines(rng.sample(rows, args.size))
        summary = os.path.join(scratch, f"summary-{i}.json")
        subprocess.run([args.pcdiag, "merge", part, "-o", os.path.join(scratch, f"merged-{i}.jsonl"),
                        "--model", args.model, "--summary", summary, "-q"], check=True, stdout=subprocess.DEVNULL)
        shift = json.load(open(summary))["shift"]
        moved = [r["key"] for r in shift["indicators"] if r["shifted"]]
        shifted += bool(shift["shifted"])
        print(f"subset {i + 1:2d}: {'SHIFT ' + ', '.join(moved) if shift['shifted'] else 'no shift'}")
print(f"{shifted} of {args.subsets} subsets of {args.size} reported as shifted")
