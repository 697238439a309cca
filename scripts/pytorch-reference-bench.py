#!/usr/bin/env python3
"""The PyTorch side of BENCHMARKS.md: the reference PointNet and DGCNN measured the way
`pcdiag bench --only models` measures pcdiag, on the same machine, so the two can stand side by side.

The networks follow the reference implementations pcdiag loads weights from (PointNet without T-nets
and DGCNN with k = 20 and a 1024-d embedding, as in the DGCNN authors' PyTorch code): same layers,
same shapes. Random 1024-point clouds, batch 16; medians over repeats after one warm-up.

  inference_clouds_per_s   eval mode, no_grad, batch 16
  latency_ms               eval mode, no_grad, one cloud
  saliency_clouds_per_s    eval mode, forward + the input gradient only (torch.autograd.grad)
  train_clouds_per_s       train mode, forward + backward + Adam step (label smoothing 0.2)

Needs torch (not a pcdiag dependency):
  python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
  /tmp/torchenv/bin/python scripts/pytorch-reference-bench.py --threads 2 --repeat 5
"""
import argparse
import json
import statistics
import time

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
    return (-xx - inner - xx.transpose(2, 1)).topk(k=k, dim=-1)[1]  # [B, N, k], the point itself included


def graph_feature(x, k):
    b, c, n = x.shape
    idx = (knn(x, k) + torch.arange(b, device=x.device).view(-1, 1, 1) * n).view(-1)
    points = x.transpose(2, 1).contiguous()
    neighbours = points.view(b * n, -1)[idx, :].view(b, n, k, c)
    centre = points.view(b, n, 1, c).expand(-1, -1, k, -1)
    return torch.cat((neighbours - centre, centre), dim=3).permute(0, 3, 1, 2).contiguous()  # [B, 2C, N, k]


class DGCNN(nn.Module):
    def __init__(self, classes=10, k=20, emb=1024):
        super().__init__()
        self.k = k
        blocks = [(6, 64), (128, 64), (128, 128), (256, 256)]
        for i, (cin, cout) in enumerate(blocks, 1):
            setattr(self, f"conv{i}", nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)))
        self.conv5 = nn.Sequential(nn.Conv1d(512, emb, 1, bias=False), nn.BatchNorm1d(emb), nn.LeakyReLU(0.2))
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


def median_seconds(body, repeats):
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name, model, repeats, batch=16, points=1024):
    torch.manual_seed(1)
    x = torch.rand(batch, 3, points) * 2 - 1
    single = x[:1].clone()
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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, make in [("pointnet", PointNet), ("dgcnn", DGCNN)]:
        if args.only in (None, name):
            print(json.dumps(measure(name, make(), args.repeat)), flush=True)


if __name__ == "__main__":
    main()
