#!/usr/bin/env python3
"""Exports a pcdiag model file to ONNX through the reference PyTorch network.

  /tmp/torchenv/bin/python scripts/export-onnx.py MODEL.safetensors OUT.onnx [--points 1024]

The graph takes `points`, float32 [batch, 3, N] prepared as pcdiag prepares them (the model's
preprocessing, shown by `pcdiag info MODEL`), and gives `logits` [batch, classes]; batch and N are
dynamic. The class names go into the ONNX metadata (`classes`, comma-separated). Checked against
pcdiag by scripts/check-torch-export.py --onnx. Needs torch, safetensors and onnx (not pcdiag
dependencies).
"""
import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_networks  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("output")
    ap.add_argument("--points", type=int, default=1024, help="points of the example input the graph is traced with")
    args = ap.parse_args()
    model, classes = reference_networks.load(args.model)
    example = torch.rand(2, 3, args.points) * 2 - 1
    temporary = args.output + ".tmp"
    # The TorchScript exporter: the torch.export one needs onnxscript, and gives the same graph here.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(model, (example,), temporary, input_names=["points"], output_names=["logits"],
                      dynamic_axes={"points": {0: "batch", 2: "points"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    import onnx
    graph = onnx.load(temporary)
    entry = graph.metadata_props.add()
    entry.key, entry.value = "classes", ",".join(classes)
    onnx.save(graph, temporary)
    os.replace(temporary, args.output)  # whole or absent


if __name__ == "__main__":
    main()
