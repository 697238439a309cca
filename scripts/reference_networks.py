"""The reference PyTorch PointNet and DGCNN, and how to load a pcdiag model file into them.

The networks follow the reference implementations pcdiag reads weights from (PointNet without T-nets;
DGCNN with its authors' layer names, k = 20 and a 1024-d embedding by default): same layers, same
shapes, same parameter names, so a pcdiag `.safetensors` file loads with `load_state_dict`.

    import safetensors.torch, reference_networks as rn
    model, classes = rn.load("Models/pointnet-pointda10.safetensors")   # eval mode
    logits = model(points)   # points: float32 [B, 3, N], prepared as pcdiag prepares them

Needs torch and safetensors (not pcdiag dependencies): python3 -m venv /tmp/torchenv &&
/tmp/torchenv/bin/pip install torch safetensors.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class PointNet(nn.Module):
    def __init__(self, classes=10, emb=1024):
        super().__init__()
        widths = [3, 64, 64, 64, 128, emb]
        for i in range(1, 6):
            setattr(self, f"conv{i}", nn.Conv1d(widths[i - 1], widths[i], 1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm1d(widths[i]))
        self.linear1 = nn.Linear(emb, 512, bias=False)
        self.bn6 = nn.BatchNorm1d(512)
        self.dp1 = nn.Dropout(0.5)
        self.linear2 = nn.Linear(512, classes)

    def forward(self, x):  # x: [B, 3, N]
        for i in range(1, 6):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        x = F.adaptive_max_pool1d(x, 1).squeeze(-1)
        x = self.dp1(F.relu(self.bn6(self.linear1(x))))
        return self.linear2(x)


def knn(x, k):
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x ** 2, dim=1, keepdim=True)
    closeness = -xx - inner - xx.transpose(2, 1)
    # The authors' topk leaves the order of tied distances open (duplicate points and the even spacing
    # of depth scans make exact ties); a stable sort gives them to the lower index, as pcdiag does and
    # as ONNX's TopK (what topk exports to) does.
    if torch.onnx.is_in_onnx_export():
        return closeness.topk(k=k, dim=-1)[1]
    return torch.sort(closeness, dim=-1, descending=True, stable=True)[1][..., :k]  # [B, N, k], the point itself included


def graph_feature(x, k):
    b, c, n = x.shape
    idx = (knn(x, k) + torch.arange(b, device=x.device).view(-1, 1, 1) * n).view(-1)
    points = x.transpose(2, 1).contiguous()
    neighbours = points.view(b * n, -1)[idx, :].view(b, n, k, c)
    centre = points.view(b, n, 1, c).expand(-1, -1, k, -1)
    return torch.cat((neighbours - centre, centre), dim=3).permute(0, 3, 1, 2).contiguous()  # [B, 2C, N, k]


class DGCNN(nn.Module):
    """As in the DGCNN authors' code: `bnI` is also the second module of `convI`."""

    def __init__(self, classes=10, k=20, emb=1024):
        super().__init__()
        self.k = k
        blocks = [(6, 64), (128, 64), (128, 128), (256, 256)]
        for i, (cin, cout) in enumerate(blocks, 1):
            bn = nn.BatchNorm2d(cout)
            setattr(self, f"bn{i}", bn)
            setattr(self, f"conv{i}", nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), bn, nn.LeakyReLU(0.2)))
        self.bn5 = nn.BatchNorm1d(emb)
        self.conv5 = nn.Sequential(nn.Conv1d(512, emb, 1, bias=False), self.bn5, nn.LeakyReLU(0.2))
        self.linear1 = nn.Linear(2 * emb, 512, bias=False)
        self.bn6 = nn.BatchNorm1d(512)
        self.dp1 = nn.Dropout(0.5)
        self.linear2 = nn.Linear(512, 256)
        self.bn7 = nn.BatchNorm1d(256)
        self.dp2 = nn.Dropout(0.5)
        self.linear3 = nn.Linear(256, classes)

    def forward(self, x):  # x: [B, 3, N]
        features = []
        for i in range(1, 5):
            x = getattr(self, f"conv{i}")(graph_feature(x, self.k)).max(dim=-1)[0]
            features.append(x)
        x = self.conv5(torch.cat(features, dim=1))
        x = torch.cat((F.adaptive_max_pool1d(x, 1).squeeze(-1), F.adaptive_avg_pool1d(x, 1).squeeze(-1)), dim=1)
        x = self.dp1(F.leaky_relu(self.bn6(self.linear1(x)), 0.2))
        x = self.dp2(F.leaky_relu(self.bn7(self.linear2(x)), 0.2))
        return self.linear3(x)


def export_onnx(model, path, classes=None, points=1024):
    """Writes `model` as ONNX to `path`: input `points` float32 [batch, 3, N], output `logits`
    [batch, classes], batch and N dynamic; the class names, when given, in the metadata (`classes`).
    Needs onnx besides torch. Written to a temporary file renamed at the end: whole or absent."""
    import os
    import warnings

    import onnx

    example = torch.rand(2, 3, points) * 2 - 1
    temporary = path + ".tmp"
    # The TorchScript exporter: the torch.export one needs onnxscript, and gives the same graph here.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(model, (example,), temporary, input_names=["points"], output_names=["logits"],
                      dynamic_axes={"points": {0: "batch", 2: "points"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    if classes:
        graph = onnx.load(temporary)
        entry = graph.metadata_props.add()
        entry.key, entry.value = "classes", ",".join(classes)
        onnx.save(graph, temporary)
    os.replace(temporary, path)


def load(path):
    """A pcdiag model file as (reference network in eval mode, class names).

    pcdiag stores `convI.weight` and `bnI.*`; the DGCNN's `convI.0.weight` and `convI.1.*` are the same
    tensors under their Sequential names. Attachments (the calibration) and optimiser moments are not network weights.
    """
    import safetensors
    import safetensors.torch

    with safetensors.safe_open(path, "pt") as f:
        metadata = f.metadata() or {}
    state = {k: v for k, v in safetensors.torch.load_file(path).items() if not k.startswith(("attachment.", "optimizer."))}
    arch = metadata.get("arch", "").lower()
    classes = [c.strip() for c in metadata.get("classes", "").split(",") if c.strip()]
    emb = int(metadata.get("emb_dims", 1024))
    if arch == "pointnet":
        model = PointNet(len(classes), emb=emb)
    elif arch == "dgcnn":
        model = DGCNN(len(classes), k=int(metadata.get("k", 20)), emb=emb)
        for i in range(1, 6):
            state[f"conv{i}.0.weight"] = state.pop(f"conv{i}.weight")
            state.update({f"conv{i}.1." + key[len(f"bn{i}."):]: value for key, value in list(state.items()) if key.startswith(f"bn{i}.")})
    else:
        raise ValueError(f"{path}: not a pcdiag model file (arch {arch!r})")
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Only the BatchNorm step counters may be missing: they take no part in inference.
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing[:4]}, unexpected {unexpected[:4]}")
    return model.eval(), classes


if __name__ == "__main__":
    import sys

    model, classes = load(sys.argv[1])
    print(json.dumps({"network": type(model).__name__, "classes": classes,
                      "parameters": sum(p.numel() for p in model.parameters())}))
