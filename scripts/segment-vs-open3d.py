#!/usr/bin/env python3
"""`pcdiag segment` against Open3D's plane RANSAC + DBSCAN on the mOSD scenes, in the same run.

For each scene: pcdiag in its own process (`segment SCENE -o OUT`, wall time with start-up, reading and
writing), on the organized scene and on an unorganized copy (NaNs dropped, points shuffled, seeded);
Open3D (installed into a venv by this script; not a dependency of pcdiag) on the finite points:
segment_plane(1 cm, 3, 1000) then cluster_dbscan(eps 1.5 cm, 50 points) on the rest, timed around those
two calls. Every labelling is scored here, independently of pcdiag's own scoring, with the mOSD rules
(README of the data): per object its best IoU, recall at IoU >= 0.5, WOv, precision over segments of
>= 50 points, pooled over the objects of all scenes. With --loco, also leave-one-category-out: distances
and the minimum object size chosen on three categories from a grid, scored on the fourth.

  scripts/segment-vs-open3d.py                      # venv in /tmp/pcdiag-open3d
  scripts/segment-vs-open3d.py --no-open3d --loco   # pcdiag only
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORIES = {"boxes": [0, 4, 8, 12], "stacked": [17, 19, 21, 23], "occluded": [25, 27, 29, 31], "cylinders": [33, 36, 39, 42]}


def ensure_venv(path):
    """A venv with numpy and open3d; returns its python, or None when open3d cannot be installed here."""
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    ok = subprocess.run([python, "-c", "import open3d"], capture_output=True).returncode == 0
    if not ok:
        r = subprocess.run([python, "-m", "pip", "install", "-q", "numpy", "open3d"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"open3d could not be installed on {sys.version.split()[0]}: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None
    return python


def read_ascii_pcd(path):
    """(fields, rows) of an ascii PCD; pcdiag convert writes them."""
    import numpy as np
    with open(path) as f:
        fields = []
        while True:
            words = f.readline().split()
            if words[0] == "FIELDS":
                fields = words[1:]
            if words[0] == "DATA":
                break
        data = np.loadtxt(f, dtype=np.float64, ndmin=2)
    return fields, data


def as_ascii(pcdiag, path, scratch):
    out = os.path.join(scratch, "ascii-" + os.path.basename(path))
    subprocess.run([pcdiag, "convert", path, out, "--encoding", "ascii", "--force", "-q"], check=True)
    return read_ascii_pcd(out)


def score(truth_labels, predicted, tally):
    """Adds one scene to `tally` (objects, recalled, object points, Σ|o|·IoU, segments, matched)."""
    import numpy as np
    valid = truth_labels != 0
    truth = np.where(truth_labels >= 20, truth_labels // 10, 0)[valid].astype(np.int64)
    pred = predicted[valid].astype(np.int64)
    objects = [t for t in np.unique(truth) if t > 0]
    segments = [s for s in np.unique(pred) if s > 0]
    best_seg = {s: 0.0 for s in segments}
    for t in objects:
        in_t = truth == t
        best = 0.0
        for s in np.unique(pred[in_t]):
            if s <= 0:
                continue
            in_s = pred == s
            inter = np.count_nonzero(in_t & in_s)
            iou = inter / (np.count_nonzero(in_t) + np.count_nonzero(in_s) - inter)
            best = max(best, iou)
            best_seg[s] = max(best_seg[s], iou)
        size = np.count_nonzero(in_t)
        tally[0] += 1
        tally[1] += best >= 0.5
        tally[2] += size
        tally[3] += size * best
    for s in segments:
        if np.count_nonzero(pred == s) >= 50:
            tally[4] += 1
            tally[5] += best_seg[s] >= 0.5


def figures(tally, seconds):
    objects, recalled, points, weighted, segments, matched = tally
    return {"recall": recalled / objects, "wov": weighted / points, "precision": matched / segments if segments else float("nan"),
            "s_per_scene": sum(seconds) / len(seconds), "objects": objects, "segments": segments}


def shuffled_copy(fields, data, path, seed):
    """The finite points in a seeded random order, as an unorganized ascii PCD (label kept as uint32)."""
    import numpy as np
    xyz = data[:, :3]
    keep = np.isfinite(xyz).all(axis=1)
    rows = data[keep][np.random.default_rng(seed).permutation(int(keep.sum()))]
    types = {"x": "F", "y": "F", "z": "F", "rgba": "U", "rgb": "U", "label": "U"}
    with open(path, "w") as f:
        f.write(f"VERSION 0.7\nFIELDS {' '.join(fields)}\nSIZE {' '.join('4' for _ in fields)}\n"
                f"TYPE {' '.join(types.get(n, 'F') for n in fields)}\nCOUNT {' '.join('1' for _ in fields)}\n"
                f"WIDTH {len(rows)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(rows)}\nDATA ascii\n")
        for r in rows:
            f.write(" ".join(repr(float(v)) if types.get(n, "F") == "F" else str(int(v)) for n, v in zip(fields, r)) + "\n")


def run_pcdiag(pcdiag, scene, scratch, extra=()):
    """(labels in the scene's order, wall seconds of the whole process, its CPU seconds: user + system)."""
    import resource
    out = os.path.join(scratch, "segmented-" + os.path.basename(scene))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([pcdiag, "segment", scene, "-o", out, "--force", "-q", "--format", "jsonl", *extra], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    fields, data = as_ascii(pcdiag, out, scratch)
    return data[:, fields.index("object")], seconds, cpu


OPEN3D_SNIPPET = r"""
import json, sys, time
import numpy as np, open3d as o3d
xyz = np.load(sys.argv[1])
pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
start = time.perf_counter()
_, inliers = pcd.segment_plane(distance_threshold=0.01, ransac_n=3, num_iterations=1000)
rest = pcd.select_by_index(inliers, invert=True)
clusters = np.asarray(rest.cluster_dbscan(eps=0.015, min_points=50))
seconds = time.perf_counter() - start
labels = np.zeros(len(xyz), dtype=np.int64)
mask = np.ones(len(xyz), dtype=bool); mask[inliers] = False
labels[np.flatnonzero(mask)] = clusters + 1  # DBSCAN noise (-1) becomes 0
np.save(sys.argv[2], labels)
print(json.dumps({"seconds": seconds, "version": o3d.__version__}))
"""


def run_open3d(python, xyz, scratch):
    import numpy as np
    src, dst, code = (os.path.join(scratch, n) for n in ("o3d-in.npy", "o3d-out.npy", "o3d.py"))
    np.save(src, xyz)
    with open(code, "w") as f:
        f.write(OPEN3D_SNIPPET)
    info = json.loads(subprocess.run([python, code, src, dst], check=True, capture_output=True, text=True).stdout)
    return np.load(dst), info


def loco(pcdiag, scenes_by_number):
    """Leave one category out: the grid point with the best recall + WOv + precision on three categories, scored on the fourth."""
    grid = [(p, c, m) for p in ("0.006", "0.01", "0.015") for c in ("0.006", "0.009", "0.015") for m in ("100", "300", "1000")]

    def pooled(numbers, setting):
        p, c, m = setting
        rows = subprocess.run([pcdiag, "segment", *[scenes_by_number[n] for n in numbers], "--truth", "label", "--format", "jsonl", "-q",
                               "--plane-distance", p, "--cluster-distance", c, "--min-points", m],
                              check=True, capture_output=True, text=True).stdout.splitlines()
        rows = [json.loads(r) for r in rows]
        return rows[-1] if len(rows) > 1 else rows[0]

    print("\n| held out | chosen on the other three (plane, cluster, min points) | recall | WOv | precision |\n|---|---|---|---|---|")
    recalled = objects = 0
    for held, numbers in CATEGORIES.items():
        train = [n for k, ns in CATEGORIES.items() if k != held for n in ns]
        best = max(grid, key=lambda s: (lambda r: r["recall"] + r["wov"] + r["precision"])(pooled(train, s)))
        r = pooled(numbers, best)
        print(f"| {held} | {best[0]} m, {best[1]} m, {best[2]} | {r['recall']:.3f} | {r['wov']:.3f} | {r['precision']:.3f} |")
        recalled += r["recalled"]
        objects += r["objects"]
    print(f"| all four held-out categories pooled | | {recalled / objects:.3f} | | |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pcdiag", default=os.path.join(HERE, "..", ".build", "release", "pcdiag"))
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "mosd"))
    parser.add_argument("--venv", default="/tmp/pcdiag-open3d")
    parser.add_argument("--no-open3d", action="store_true")
    parser.add_argument("--loco", action="store_true")
    args = parser.parse_args()
    import numpy as np
    python = None if args.no_open3d else ensure_venv(args.venv)
    scenes = {n: os.path.join(args.data, f"learn{n}.pcd") for ns in CATEGORIES.values() for n in ns}
    tallies = {k: [0, 0, 0, 0.0, 0, 0] for k in ("pcdiag", "pcdiag unorganized", "pcdiag unorganized --single-view", "open3d")}
    seconds = {k: [] for k in tallies}
    cpu = {k: [] for k in tallies}
    version = ""
    with tempfile.TemporaryDirectory() as scratch:
        for n, scene in sorted(scenes.items()):
            print(f"learn{n}", file=sys.stderr)
            fields, data = as_ascii(args.pcdiag, scene, scratch)
            truth = data[:, fields.index("label")].astype(np.int64)
            labels, s, c = run_pcdiag(args.pcdiag, scene, scratch)
            score(truth, labels, tallies["pcdiag"])
            seconds["pcdiag"].append(s)
            cpu["pcdiag"].append(c)
            # Binary like the organized scenes, so that both read alike.
            text, flat = os.path.join(scratch, f"shuffled-learn{n}-ascii.pcd"), os.path.join(scratch, f"shuffled-learn{n}.pcd")
            shuffled_copy(fields, data, text, seed=n)
            subprocess.run([args.pcdiag, "convert", text, flat, "--force", "-q"], check=True)
            flat_fields, flat_data = as_ascii(args.pcdiag, flat, scratch)
            labels, s, c = run_pcdiag(args.pcdiag, flat, scratch)
            score(flat_data[:, flat_fields.index("label")].astype(np.int64), labels, tallies["pcdiag unorganized"])
            seconds["pcdiag unorganized"].append(s)
            cpu["pcdiag unorganized"].append(c)
            labels, s, c = run_pcdiag(args.pcdiag, flat, scratch, ["--single-view"])
            score(flat_data[:, flat_fields.index("label")].astype(np.int64), labels, tallies["pcdiag unorganized --single-view"])
            seconds["pcdiag unorganized --single-view"].append(s)
            cpu["pcdiag unorganized --single-view"].append(c)
            if python:
                finite = np.isfinite(data[:, :3]).all(axis=1)
                o3d_labels, info = run_open3d(python, data[finite, :3], scratch)
                score(truth[finite], o3d_labels, tallies["open3d"])
                seconds["open3d"].append(info["seconds"])
                version = info["version"]
    print("| method | recall | WOv | precision | s per scene (wall) | CPU s per scene |\n|---|---|---|---|---|---|")
    for name, tally in tallies.items():
        if not seconds[name]:
            continue
        f = figures(tally, seconds[name])
        label = f"Open3D {version} plane RANSAC 1 cm + DBSCAN 1.5 cm / 50 (the two calls)" if name == "open3d" else \
            f"{name} (one `pcdiag segment SCENE -o OUT` process, wall)"
        cpu_s = f"{sum(cpu[name]) / len(cpu[name]):.3f}" if cpu[name] else ""
        print(f"| {label} | {f['recall']:.3f} | {f['wov']:.3f} | {f['precision']:.3f} | {f['s_per_scene']:.3f} | {cpu_s} |")
    if args.loco:
        loco(args.pcdiag, scenes)


if __name__ == "__main__":
    main()
