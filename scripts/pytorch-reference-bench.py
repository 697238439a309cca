#!/usr/bin/env python3
"""The PyTorch side of BENCHMARKS.md: the reference PointNet and DGCNN measured the way
`pcdiag bench --only models` measures pcdiag, on the same machine, so the two can stand side by side.

The networks are scripts/reference_networks.py's (the reference implementations pcdiag loads
weights from). Random 1024-point clouds, batch 16; medians over repeats after one warm-up.

  inference_clouds_per_s   eval mode, no_grad, batch 16
  latency_ms               eval mode, no_grad, one cloud
  saliency_clouds_per_s    eval mode, forward + the input gradient only (torch.autograd.grad)
  train_clouds_per_s       train mode, forward + backward + Adam step (label smoothing 0.2)

With --onnxruntime, the same networks exported to ONNX (reference_networks.export_onnx) and run by
ONNX Runtime's CPU provider with --threads intra-op threads: inference_clouds_per_s and latency_ms
only, on the same inputs, with the largest difference from PyTorch's logits as a check of the export.

Needs torch (not a pcdiag dependency; --onnxruntime also onnx and onnxruntime):
  python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
  /tmp/torchenv/bin/python scripts/pytorch-reference-bench.py --threads 2 --repeat 5 [--onnxruntime]
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from reference_networks import DGCNN, PointNet, export_onnx


def median_seconds(body, repeats):
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inputs(batch=16, points=1024):
    torch.manual_seed(1)
    x = torch.rand(batch, 3, points) * 2 - 1
    return x, x[:1].clone()


def measure_onnxruntime(name, model, repeats, threads):
    import onnxruntime as ort

    x, single = inputs()
    model.eval()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"{name}.onnx")
        export_onnx(model, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed, feed_one = {"points": x.numpy()}, {"points": single.numpy()}
    inference = median_seconds(lambda: session.run(None, feed), repeats)
    latency = median_seconds(lambda: session.run(None, feed_one), repeats)
    with torch.no_grad():
        difference = float((torch.from_numpy(session.run(None, feed)[0]) - model(x)).abs().max())
    return {"model": name, "inference_clouds_per_s": round(len(x) / inference, 1), "latency_ms": round(latency * 1000, 2),
            "max_abs_logit_difference_vs_pytorch": difference,
            "framework": f"onnxruntime {ort.__version__}", "threads": threads}


def measure(name, model, repeats):
    x, single = inputs()
    batch = len(x)
    labels = torch.arange(batch) % 10
    model.eval()
    with torch.no_grad():
        inference = median_seconds(lambda: model(x), repeats)
        latency = median_seconds(lambda: model(single), repeats)

    def saliency():
        points_ = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(points_), labels)
        torch.autograd.grad(loss, points_)

    salient = median_seconds(saliency, repeats)
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)

    def step():
        optimiser.zero_grad()
        F.cross_entropy(model(x), labels, label_smoothing=0.2).backward()
        optimiser.step()

    train = median_seconds(step, repeats)
    return {"model": name, "inference_clouds_per_s": round(batch / inference, 1), "latency_ms": round(latency * 1000, 2),
            "saliency_clouds_per_s": round(batch / salient, 1), "train_clouds_per_s": round(batch / train, 1),
            "framework": f"pytorch {torch.__version__}", "threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["pointnet", "dgcnn"])
    parser.add_argument("--onnxruntime", action="store_true", help="measure the ONNX export with ONNX Runtime instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, make in [("pointnet", PointNet), ("dgcnn", DGCNN)]:
        if args.only in (None, name):
            torch.manual_seed(1)  # the same weights in both frameworks' runs
            row = measure_onnxruntime(name, make(), args.repeat, args.threads) if args.onnxruntime else measure(name, make(), args.repeat)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
