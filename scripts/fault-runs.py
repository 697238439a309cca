#!/usr/bin/env python3
"""Fault runs: kill -9 pcdiag at random (seeded) moments, then resume or rerun, and check the result.

For each command (batch and batch-csv, convert, train, adapt, calibrate) the script first runs it once uninterrupted
(the reference, which also gives its duration), then per cycle: starts it on a clean output folder,
kills it with SIGKILL at a random moment within that duration, checks what the kill left, resumes
(batch, train --resume, adapt --resume) or reruns (convert, calibrate) it to completion and checks:

- the output equals the reference: batch rows as a set of lines without `time_ms`; models and clouds
  byte for byte;
- what the kill left is whole or absent: a row file whose lines all parse but the torn last one
  (which batch drops on resume), a model or cloud equal to one a complete run writes, or nothing;
- no temporary file is left beside the outputs after the completed run (`.NAME.tmp*`, `*.tmp-*`,
  `.NAME.merging-*`).

A second uninterrupted run (the control) is checked the same way first: a difference there is the
command's own nondeterminism, not the kills'. A model that differs is diagnosed: tensors, or metadata
only.

Every invocation of a resumable command carries its resume flag, the reference's too, and runs in the
same folder with the same relative paths: the models record their command line, and the first run
without a checkpoint is a fresh start anyway.

Usage: scripts/fault-runs.py [--quick] [--kills N] [--seed S] [--only batch,train] [--bin PATH]
Exit status 0 when every check held, 1 otherwise. Small inputs: one cycle takes seconds.
"""
import argparse
import csv
import filecmp
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
TEMPORARY = re.compile(r"^\..+\.tmp.*$|.*\.tmp-.*$|^\..+\.merging-.*$")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(binary, argv, cwd, timeout=600):
    return subprocess.run([binary] + argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def rows_without_time(path):
    """A row file as a set of lines with time_ms dropped (jsonl or csv)."""
    with open(path, newline="") as f:
        text = f.read()
    if path.endswith(".csv"):
        records = [r for r in csv.reader(io.StringIO(text)) if r]
        if records and records[0][0] == "path":
            header, body = records[0], records[1:]
        else:  # a file without its header: time_ms is the last column of a row
            header, body = [""] * (len(records[0]) - 1) + ["time_ms"] if records else [], records
        keep = [i for i, k in enumerate(header) if k != "time_ms"]
        return {tuple(r[i] for i in keep if i < len(r)) for r in body}
    out = set()
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            record.pop("time_ms", None)
            out.add(json.dumps(record, sort_keys=True))
    return out


def whole_safetensors(path):
    """Whether a file is a complete safetensors file: the header parses and the data ends where the
    tensors say (what a torn write would not satisfy)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        return False
    n = struct.unpack("<Q", data[:8])[0]
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return False
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    return 8 + n + end == len(data)


def torn_rows(path):
    """Problems of a row file left by a kill: every line but a last unterminated one must be a row."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete = lines[:-1]  # the piece after the last newline is the torn tail, if any
    for i, line in enumerate(complete):
        if not line.strip():
            continue
        if path.endswith(".csv"):
            continue  # CSV cells may hold line breaks; batch re-reads and checks them
        try:
            json.loads(line)
        except ValueError:
            return [f"line {i + 1} is not JSON: {line[:60]!r}"]
    return []


def model_difference(path, reference):
    """Why two model files differ: their tensors, or only their metadata (and then whether only the
    JSON key order of a value differs)."""
    def parts(p):
        with open(p, "rb") as f:
            data = f.read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        return header.pop("__metadata__", {}), header, data[8 + n:]
    (m1, h1, d1), (m2, h2, d2) = parts(path), parts(reference)
    if h1 != h2 or d1 != d2:
        return "tensors differ"
    keys = sorted(k for k in set(m1) | set(m2) if m1.get(k) != m2.get(k))
    def normal(v):
        try:
            return json.dumps(json.loads(v), sort_keys=True)
        except (TypeError, ValueError):
            return v
    if all(normal(m1.get(k)) == normal(m2.get(k)) for k in keys):
        return f"tensors equal; metadata {', '.join(keys)} differ only in JSON key order"
    return f"tensors equal; metadata {', '.join(keys)} differ"


def temporaries(folder):
    found = []
    for dirpath, _, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(dirpath, f), folder) for f in files if TEMPORARY.match(f)]
    return sorted(found)


def prepare(work, binary):
    """Inputs shared by the scenarios, made once under work/in."""
    inputs = os.path.join(work, "in")
    os.makedirs(inputs, exist_ok=True)
    # Batch: six simulated scans of three classes.
    scans = []
    for cls in ("chair", "lamp", "table"):
        folder = os.path.join(DATA, "scans-sim", "test", cls)
        scans += [os.path.join(folder, f) for f in sorted(os.listdir(folder))[:2]]
    # Train / adapt / calibrate: a tiny manifest, 4 ModelNet clouds of each of three classes (absolute paths).
    def manifest(name, per_class):
        chosen, counts = [], {}
        with open(os.path.join(DATA, "pointda10-modelnet-train.csv")) as f:
            for row in csv.DictReader(f):
                if row["label"] in ("chair", "lamp", "table") and counts.get(row["label"], 0) < per_class:
                    counts[row["label"]] = counts.get(row["label"], 0) + 1
                    chosen.append((os.path.join(DATA, row["path"]), row["label"]))
        path = os.path.join(inputs, name)
        with open(path, "w") as f:
            f.write("path,label\n" + "".join(f"{p},{l}\n" for p, l in chosen))
        return path
    small = manifest("train.csv", 4)
    larger = manifest("calibrate.csv", 8)
    # Convert: the biggest sample cloud there is, so the write takes a moment.
    samples = [os.path.join(DATA, "pcl-samples", f) for f in os.listdir(os.path.join(DATA, "pcl-samples")) if f.endswith(".pcd")] \
        if os.path.isdir(os.path.join(DATA, "pcl-samples")) else []
    samples += [os.path.join(ROOT, "Samples", f) for f in os.listdir(os.path.join(ROOT, "Samples")) if f.endswith(".pcd")]
    cloud = max(samples, key=os.path.getsize)
    # Adapt and calibrate start from a small model; train one (3 classes, 128 points) uninterrupted.
    model = os.path.join(inputs, "tiny.safetensors")
    if not os.path.exists(model):
        r = run(binary, ["train", "--data", small, "--arch", "pointnet", "--epochs", "2", "--points", "128",
                         "--batch-size", "4", "--seed", "1", "-o", model, "--quiet"], inputs)
        if r.returncode != 0:
            sys.exit(f"fault-runs: cannot train the tiny model: {r.stderr.strip()}")
    return dict(scans=scans, small=small, larger=larger, cloud=cloud, model=model)


def scenarios(i):
    # Every command runs the tiny model: the shipped ones (1024 points, calibrated) take a minute per
    # batch run on a busy machine.
    tiny = ["--model", i["model"]]
    return {
        # Batch resumes its -o by itself: the same command again.
        "batch": dict(argv=["batch"] + tiny + ["-o", "rows.jsonl", "--batch-size", "2", "--jobs", "1", "--quiet"] + i["scans"],
                      outputs=["rows.jsonl"], kind="rows", resume=None),
        # The same as CSV: its resume reads the file back through the CSV side of RowFile.
        "batch-csv": dict(argv=["batch"] + tiny + ["-o", "rows.csv", "--batch-size", "2", "--jobs", "1", "--quiet"] + i["scans"],
                          outputs=["rows.csv"], kind="rows", resume=None),
        "convert": dict(argv=["convert", i["cloud"], "out.ply", "--encoding", "ascii", "--quiet"],
                        outputs=["out.ply"], kind="bytes", resume=["--force"]),
        "train": dict(argv=["train", "--data", i["small"], "--arch", "pointnet", "--epochs", "3", "--points", "128",
                            "--batch-size", "4", "--seed", "1", "-o", "model.safetensors", "--resume", "--quiet"],
                      outputs=["model.safetensors"], kind="model", resume=[]),
        "adapt": dict(argv=["adapt"] + tiny + ["--source", i["small"], "--target", "@targets.txt", "-o", "adapted.safetensors",
                                          "--epochs", "2", "--batch-size", "4", "--limit", "8", "--seed", "1", "--resume", "--quiet"],
                      outputs=["adapted.safetensors"], kind="model", resume=[],
                      files={"targets.txt": "\n".join(i["scans"]) + "\n"}),
        "calibrate": dict(argv=["calibrate"] + tiny + ["--data", i["larger"], "-o", "calibrated.safetensors", "--limit", "20",
                                                       "--corruptions", "jitter:2,occlusion:2", "--flip-trials", "0", "--drop-rounds", "0",
                                                       "--force", "--quiet"],
                          outputs=["calibrated.safetensors"], kind="model", resume=[]),
    }


def fresh(folder, spec):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, text in spec.get("files", {}).items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)


def check_left(folder, spec, reference):
    """What a kill left: each output whole (equal to a complete one) or absent."""
    problems = []
    for out in spec["outputs"]:
        path = os.path.join(folder, out)
        if not os.path.exists(path):
            continue
        if spec["kind"] == "rows":
            problems += [f"after the kill, {out}: {p}" for p in torn_rows(path)]
        elif spec["kind"] == "model":
            if not whole_safetensors(path):
                problems.append(f"after the kill, {out} is a partial safetensors file ({os.path.getsize(path)} bytes)")
        elif not filecmp.cmp(path, os.path.join(reference, out), shallow=False):
            problems.append(f"after the kill, {out} exists but differs from a complete one ({os.path.getsize(path)} bytes)")
    return problems


def check_final(folder, spec, reference):
    problems = []
    for out in spec["outputs"]:
        path, ref = os.path.join(folder, out), os.path.join(reference, out)
        if not os.path.exists(path):
            problems.append(f"{out} missing after the completed run")
        elif spec["kind"] == "rows":
            got, want = rows_without_time(path), rows_without_time(ref)
            if got != want:
                problems.append(f"{out}: {len(got - want)} rows not in the reference, {len(want - got)} reference rows missing")
            with open(path) as f:
                lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith("path,")]
            if len(lines) != len(want):
                problems.append(f"{out}: {len(lines)} rows for {len(want)} inputs")
        elif not filecmp.cmp(path, ref, shallow=False):
            why = f" ({model_difference(path, ref)})" if spec["kind"] == "model" else ""
            problems.append(f"{out} differs from the uninterrupted run's (cmp){why}")
    left = temporaries(folder)
    if left:
        problems.append("temporary files left: " + ", ".join(left))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 kills per command instead of 20")
    ap.add_argument("--kills", type=int, help="kills per command")
    ap.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    ap.add_argument("--only", help="comma-separated scenarios (batch,batch-csv,convert,train,adapt,calibrate)")
    ap.add_argument("--bin", help="pcdiag binary (default: the release build's)")
    ap.add_argument("--work", default="/tmp/pcdiag-fault-runs", help="scratch folder, emptied first")
    ap.add_argument("--threads", default="1", help="OMP_NUM_THREADS of the runs (default 1: on a busy machine "
                                                   "OpenMP's spinning threads make a 1 s batch take 10)")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = a.threads
    kills = a.kills or (3 if a.quick else 20)
    binary = a.bin or os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                                                  capture_output=True, text=True, check=True).stdout.strip(), "pcdiag")
    rng = random.Random(a.seed)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    inputs = prepare(a.work, binary)
    specs = scenarios(inputs)
    chosen = a.only.split(",") if a.only else list(specs)
    failures, summary = 0, []
    for name in chosen:
        spec = specs[name]
        reference = os.path.join(a.work, name + "-reference")
        fresh(reference, spec)
        started = time.monotonic()
        r = run(binary, spec["argv"], reference)
        duration = time.monotonic() - started
        if r.returncode != 0:
            log(f"{name}: the reference run failed ({r.returncode}): {r.stderr.strip()[-400:]}")
            failures += 1
            summary.append((name, 0, 0, ["reference run failed"]))
            continue
        log(f"{name}: reference run {duration:.1f}s")
        folder = os.path.join(a.work, name)
        problems_all, completed_before_kill = [], 0
        # A second uninterrupted run: what differs here is not the kills' doing.
        fresh(folder, spec)
        started = time.monotonic()
        r = run(binary, spec["argv"], folder)
        # The first run pays for cold caches: kill moments fall within the quicker of the two.
        duration = min(duration, time.monotonic() - started)
        control = [f"control (no kill): {p}" for p in
                   ([f"failed ({r.returncode})"] if r.returncode != 0 else check_final(folder, spec, reference))]
        for p in control:
            log(f"{name} {p}")
        problems_all += control
        for k in range(kills):
            fresh(folder, spec)
            moment = rng.uniform(0.02, 1.0) * duration
            process = subprocess.Popen([binary] + spec["argv"], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                process.wait(timeout=moment)
                completed_before_kill += 1  # finished first: the cycle still checks the rerun over a complete output
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
            problems = check_left(folder, spec, reference)
            argv = spec["argv"] + (spec["resume"] or [])
            r = run(binary, argv, folder)
            if r.returncode != 0:
                problems.append(f"the {'rerun' if spec['resume'] else 'resumed run'} failed ({r.returncode}): {r.stderr.strip()[-300:]}")
            else:
                problems += check_final(folder, spec, reference)
            tag = f"{name} kill {k + 1}/{kills} at {moment:.2f}s"
            if problems:
                log(f"{tag}: FAIL")
                for p in problems:
                    log(f"    {p}")
                problems_all += [f"kill at {moment:.2f}s: {p}" for p in problems]
            else:
                log(f"{tag}: ok")
        failures += bool(problems_all)
        summary.append((name, kills, completed_before_kill, problems_all))
    print(f"{'COMMAND':<10} {'KILLS':>5} {'FINISHED-FIRST':>14}  RESULT")
    for name, k, early, problems in summary:
        print(f"{name:<10} {k:>5} {early:>14}  {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print(f"           {p}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
