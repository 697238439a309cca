#!/usr/bin/env python3
"""pcdiag's network benchmark side by side with the reference PyTorch networks, on this machine.

Runs `pcdiag bench --only models` and scripts/pytorch-reference-bench.py alternately, --rounds times
(the machine is shared: alternating spreads its slow and fast minutes over both), and prints the
median of the rounds for every figure as a Markdown table, with pcdiag's ratio to PyTorch and its
fraction of the GEMM limit measured in the same pcdiag runs. With --onnx, each round also measures
the same reference networks exported to ONNX and run by ONNX Runtime (pytorch-reference-bench.py
--onnxruntime: inference and latency only), shown in two more columns.

  scripts/bench-vs-pytorch.py --python /tmp/torchenv/bin/python --rounds 3 [--onnx]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = [("inference_clouds_per_s", "inference, batch 16 (clouds/s)", 1),
           ("latency_ms", "latency, 1 cloud (ms)", 2),
           ("saliency_clouds_per_s", "saliency: forward + input gradient, batch 16 (clouds/s)", 2),
           ("train_clouds_per_s", "training step (Adam), batch 16 (clouds/s)", 3)]


def run_json_lines(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pcdiag", default=os.path.join(HERE, "..", ".build", "release", "pcdiag"))
    parser.add_argument("--python", default=sys.executable, help="a Python with torch installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="pcdiag's repeats per figure (PyTorch: 3)")
    parser.add_argument("--onnx", action="store_true", help="also ONNX Runtime (needs onnx and onnxruntime in --python)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's and ONNX Runtime's intra-op threads")
    args = parser.parse_args()
    ours, theirs, ort = {}, {}, {}
    reference = [args.python, os.path.join(HERE, "pytorch-reference-bench.py"), "--repeat", "3", "--threads", str(args.threads)]
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
        for row in run_json_lines([args.pcdiag, "bench", "--only", "models", "--repeat", str(args.repeat), "--format", "jsonl", "-q"]):
            ours.setdefault(row["model"], []).append(row)
        for row in run_json_lines(reference):
            theirs.setdefault(row["model"], []).append(row)
        if args.onnx:
            for row in run_json_lines(reference + ["--onnxruntime"]):
                ort.setdefault(row["model"], []).append(row)

    def median(rows, key):
        return statistics.median(row[key] for row in rows)

    def ratio(key, a, b):  # pcdiag's figure a against another framework's b
        if key == "latency_ms":
            return f"{b / a:.1f}× faster" if b >= a else f"{a / b:.1f}× slower"
        return f"{a / b:.1f}×"

    onnx_header = f" ONNX Runtime {ort['pointnet'][0]['framework'].split()[-1]} | pcdiag ÷ ONNX Runtime |" if ort else ""
    blank = " | |" if ort else ""
    print(f"| | pcdiag | PyTorch {theirs['pointnet'][0]['framework'].split()[-1]} | pcdiag ÷ PyTorch | pcdiag ÷ GEMM limit |{onnx_header}")
    print("|---|---|---|---|---|" + ("---|---|" if ort else ""))
    for model in ["pointnet", "dgcnn"]:
        limit = median(ours[model], "gemm_limit_clouds_per_s")
        for key, title, work in FIGURES:
            a, b = median(ours[model], key), median(theirs[model], key)
            of_limit = f"{1000 / limit / a:.2f}" if key == "latency_ms" else f"{a / (limit / work):.2f}"
            onnx = blank
            if ort and key in ort[model][0]:
                c = median(ort[model], key)
                onnx = f" {c:g} | {ratio(key, a, c)} |"
            print(f"| {model} {title} | {a:g} | {b:g} | {ratio(key, a, b)} | {of_limit} |{onnx}")
        print(f"| {model} GEMM limit of inference (clouds/s; sgemm {median(ours[model], 'gemm_gflops'):g} GFLOP/s) "
              f"| {limit:g} | | | |{blank}")
        print(f"| {model} peak memory: classify one cloud / training step (MB) "
              f"| {median(ours[model], 'classify_peak_mb'):g} / {median(ours[model], 'train_peak_mb'):g} | | | |{blank}")
        if ort:
            print(f"| {model} ONNX export: largest logit difference from PyTorch | | | | |"
                  f" {max(row['max_abs_logit_difference_vs_pytorch'] for row in ort[model]):.1g} | |")


if __name__ == "__main__":
    main()
