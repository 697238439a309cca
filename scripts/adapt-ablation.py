#!/usr/bin/env python3
"""The SM-DSB ablation: source-only, multi-task without gate, with the skewness gate, and with a
random gate of the same keep ratio, over several seeds; each adapted model evaluated on the target
test set and on the clean source test set. Target labels are never given to `pcdiag adapt`.

    scripts/adapt-ablation.py --pcdiag .build/release/pcdiag --model Models/pointnet-pointda10.safetensors \
        --source ../shared/data/pointda10-modelnet-train.csv --target ../shared/data/scans-sim/train \
        --target-test ../shared/data/scans-sim/test --clean-test ../shared/data/pointda10-modelnet-test.csv \
        --out /tmp/ablation --seeds 1 2 3 -- --limit 1000 --epochs 5

Arguments after `--` go to every `pcdiag adapt` run. Finished runs (their results JSON) are reused,
so an interrupted ablation continues where it stopped. Prints a Markdown table of mean ± std.
"""
import argparse, json, os, statistics, subprocess, sys

# Table label → (file name, adapt arguments).
VARIANTS = {
    "source-only": ("source-only", ["--defrec-weight", "0", "--rotation-weight", "0", "--gate", "none"]),
    "source-only, no PCM": ("finetune", ["--defrec-weight", "0", "--rotation-weight", "0", "--gate", "none", "--no-mixup"]),
    "MTL, no gate": ("mtl", ["--gate", "none"]),
    "MTL + SM-DSB gate": ("gate", ["--gate", "skewness"]),
    "MTL + random gate": ("random-gate", ["--gate", "random"]),
    "MTL, no gate, no PCM": ("mtl-nopcm", ["--gate", "none", "--no-mixup"]),
    "MTL + SM-DSB gate, no PCM": ("gate-nopcm", ["--gate", "skewness", "--no-mixup"]),
    "MTL + random gate, no PCM": ("random-gate-nopcm", ["--gate", "random", "--no-mixup"]),
    "self-training, no PCM": ("self-training-nopcm", ["--defrec-weight", "0", "--rotation-weight", "0", "--gate", "none",
                                                      "--no-mixup", "--self-training-from", "2"]),
}

parser = argparse.ArgumentParser()
parser.add_argument("--pcdiag", default=".build/release/pcdiag")
parser.add_argument("--model", required=True)
parser.add_argument("--source", required=True)
parser.add_argument("--target", required=True)
parser.add_argument("--target-test", required=True)
parser.add_argument("--clean-test", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
parser.add_argument("--variants", nargs="+", default=["source-only", "MTL, no gate", "MTL + SM-DSB gate", "MTL + random gate"],
                    choices=list(VARIANTS))
args, extra = parser.parse_known_args()
extra = [a for a in extra if a != "--"]
os.makedirs(args.out, exist_ok=True)


def accuracy(model, data):
    out = subprocess.run([args.pcdiag, "evaluate", "--model", model, "--data", data, "--format", "json", "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["overall_accuracy"]


results = {}
for variant in args.variants:
    for seed in args.seeds:
        short, variant_args = VARIANTS[variant]
        name = f"{short}-s{seed}"
        model = os.path.join(args.out, f"{name}.safetensors")
        result_path = os.path.join(args.out, f"{name}.result.json")
        if not os.path.exists(result_path):
            command = [args.pcdiag, "adapt", "--model", args.model, "--source", args.source, "--target", args.target,
                       "-o", model, "--seed", str(seed), "--resume", *variant_args, *extra]
            print(" ".join(command), file=sys.stderr, flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            report = json.load(open(os.path.join(args.out, f"{name}.json")))
            result = {"variant": variant, "seed": seed, "target": accuracy(model, args.target_test),
                      "clean": accuracy(model, args.clean_test), "selected_epoch": report["selected_epoch"],
                      "seconds_per_epoch": statistics.median(e["seconds"] for e in report["epochs"]),
                      "measurer_seconds_per_epoch": statistics.median(e["measurer_seconds"] for e in report["epochs"]),
                      "agreement": [e.get("agreement") for e in report["epochs"]],
                      "gate": [e.get("gate") for e in report["epochs"]]}
            json.dump(result, open(result_path, "w"), indent=1)
        results.setdefault(variant, []).append(json.load(open(result_path)))


def mean_std(values):
    values = [100 * v for v in values]
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values) if len(values) > 1 else 0:.2f}"


print(f"| variant | target test accuracy % | clean test accuracy % | seconds / epoch (measurer) | seeds |")
print("|---|---|---|---|---|")
for variant, runs in results.items():
    seconds = statistics.median(r["seconds_per_epoch"] for r in runs)
    measurer = statistics.median(r["measurer_seconds_per_epoch"] for r in runs)
    print(f"| {variant} | {mean_std([r['target'] for r in runs])} | {mean_std([r['clean'] for r in runs])} | "
          f"{seconds:.0f} ({measurer:.0f}) | {', '.join(str(r['seed']) for r in runs)} |")

# SM-DSB's premise, measured: on each epoch's fixed probe batch, the cosine between the classification
# gradient and the self-supervised gradient of the batch's lower-skewness half and of its higher half.
print()
print("| variant | cos(classification, self-supervised), low-skewness half | high-skewness half | epochs where low > high |")
print("|---|---|---|---|")
for variant, runs in results.items():
    pairs = [(a["low_skewness"], a["high_skewness"]) for r in runs for a in r["agreement"] if a]
    if not pairs:
        continue
    low, high = [p[0] for p in pairs], [p[1] for p in pairs]
    print(f"| {variant} | {statistics.mean(low):+.3f} ± {statistics.stdev(low):.3f} | {statistics.mean(high):+.3f} ± {statistics.stdev(high):.3f} | "
          f"{sum(l > h for l, h in pairs)} of {len(pairs)} |")
