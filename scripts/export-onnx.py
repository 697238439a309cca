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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_networks  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("output")
    ap.add_argument("--points", type=int, default=1024, help="points of the example input the graph is traced with")
    args = ap.parse_args()
    model, classes = reference_networks.load(args.model)
    reference_networks.export_onnx(model, args.output, classes, args.points)


if __name__ == "__main__":
    main()
