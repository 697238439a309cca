#!/usr/bin/env python3
"""Writes the malformed-input corpus under Tests/Corpus/ (clouds/ and models/), deterministically.

Each file is small and broken in one way (or, where its name starts with "valid-", a legitimate edge
case pcdiag must read). Tests/pcdiagTests/CorpusTests.swift runs every file through the binary.
Python standard library only; run from the package root: python3 scripts/make-corpus.py
"""
import json
import math
import os
import random
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Corpus")
CLOUDS = os.path.join(ROOT, "clouds")
MODELS = os.path.join(ROOT, "models")
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Models", "pointnet-pointda10.safetensors")

rng = random.Random(20261207)


def write(folder, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- clouds

POINTS = [(math.cos(i * 0.7) * (1 + i % 5), math.sin(i * 0.7) * (1 + i % 3), (i % 11) * 0.1) for i in range(48)]


def pcd_header(points, data, width=None, height=1, fields="x y z", size="4 4 4", type_="F F F", count="1 1 1", extra=""):
    width = points if width is None else width
    return (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {fields}\nSIZE {size}\nTYPE {type_}\n"
            f"COUNT {count}\n{extra}WIDTH {width}\nHEIGHT {height}\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {points}\nDATA {data}\n")


def pcd_ascii(points, rows=None):
    rows = rows if rows is not None else [" ".join(repr(v) for v in p) for p in points]
    return pcd_header(len(points), "ascii") + "".join(r + "\n" for r in rows)


def pcd_binary(points):
    return pcd_header(len(points), "binary").encode() + b"".join(struct.pack("<3f", *p) for p in points)


def lzf_literal(data):
    """LZF with literal runs only (control byte n < 32: n + 1 literal bytes): valid, if not smaller."""
    out = bytearray()
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def pcd_compressed(points):
    # binary_compressed stores each field's values together: all x, then all y, then all z.
    raw = b"".join(struct.pack(f"<{len(points)}f", *[p[axis] for p in points]) for axis in range(3))
    packed = lzf_literal(raw)
    return pcd_header(len(points), "binary_compressed").encode() + struct.pack("<II", len(packed), len(raw)) + packed


def ply_header(fmt, vertices, props="property float x\nproperty float y\nproperty float z\n", extra=""):
    return f"ply\nformat {fmt} 1.0\nelement vertex {vertices}\n{props}{extra}end_header\n"


def ply_ascii(points):
    return ply_header("ascii", len(points)) + "".join(" ".join(repr(v) for v in p) + "\n" for p in points)


def ply_binary(points, endian="<"):
    fmt = "binary_little_endian" if endian == "<" else "binary_big_endian"
    return ply_header(fmt, len(points)).encode() + b"".join(struct.pack(endian + "3f", *p) for p in points)


def half(data):
    return data[: len(data) // 2 + 7]


def clouds():
    P = POINTS
    files = {
        # The reproducers: a list-typed vertex property (PCL aborts), and one of count 1 (read as z).
        "ply-list-vertex-property.ply": "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                                        "property list uchar int z\nend_header\n1 2 2 3 4\n",
        "ply-list-vertex-property-count1.ply": "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                                               "property list uchar int z\nend_header\n1 2 1 3\n",
        "ply-binary-list-vertex-property.ply": ply_header("binary_little_endian", 2, "property float x\nproperty float y\n"
                                                          "property list uchar float z\n").encode()
                                               + b"".join(struct.pack("<2fBf", 1, 2, 1, 3) for _ in range(2)),
        # Truncated data in every encoding.
        "pcd-ascii-truncated.pcd": half(pcd_ascii(P)),
        "pcd-binary-truncated.pcd": half(pcd_binary(P)),
        "pcd-compressed-truncated.pcd": half(pcd_compressed(P)),
        "pcd-compressed-no-block.pcd": pcd_header(len(P), "binary_compressed"),
        "ply-ascii-truncated.ply": half(ply_ascii(P)),
        "ply-binary-le-truncated.ply": half(ply_binary(P, "<")),
        "ply-binary-be-truncated.ply": half(ply_binary(P, ">")),
        # Headers that promise more than the data holds.
        "pcd-points-larger-than-data.pcd": pcd_header(4 * len(P), "binary").encode() + b"".join(struct.pack("<3f", *p) for p in P),
        "pcd-width-height-mismatch.pcd": pcd_header(len(P), "binary", width=len(P), height=3).encode() + pcd_binary(P).split(b"DATA binary\n")[1],
        "pcd-huge-points.pcd": pcd_header(4_000_000_000, "binary"),
        "pcd-absurd-width.pcd": pcd_header(90_000_000_000_000, "binary", width=90_000_000_000_000),
        "pcd-huge-width-times-height.pcd": pcd_header(1, "binary", width=5_000_000_000, height=5_000_000_000),
        "pcd-huge-count.pcd": pcd_header(2, "binary", count="1 1 1000000"),
        "pcd-bad-size.pcd": pcd_header(2, "binary", size="4 4 3") + "\0" * 22,
        "pcd-compressed-lying-sizes.pcd": pcd_header(len(P), "binary_compressed").encode() + struct.pack("<II", 16, 4_000_000_000) + b"\0" * 16,
        "ply-vertex-count-larger-than-data.ply": ply_header("binary_little_endian", 1000).encode() + b"\0" * 120,
        "ply-huge-vertex-count.ply": ply_header("ascii", 10**18) + "1 2 3\n",
        "ply-face-count-larger-than-data.ply": ply_header("ascii", len(P), extra="") .replace("end_header", "element face 100000\nproperty list uchar int vertex_indices\nend_header")
                                               + "".join(" ".join(repr(v) for v in p) + "\n" for p in P),
        # Coordinates that are not numbers.
        "pcd-all-nan.pcd": pcd_ascii(P[:3], ["nan nan nan", "nan 1 2", "inf 0 0"]),
        "pcd-binary-all-inf.pcd": pcd_header(4, "binary").encode() + struct.pack("<12f", *[math.inf] * 12),
        "ply-all-nan.ply": ply_header("ascii", 2) + "nan nan nan\ninf -inf 0\n",
        # Wrong column counts.
        "pcd-ascii-short-rows.pcd": pcd_ascii(P[:8], ["1 2"] * 8),
        "pcd-ascii-words.pcd": pcd_ascii(P[:4], ["one two three"] * 4),
        "ply-ascii-short-rows.ply": ply_header("ascii", 6) + "1 2\n" * 6,
        # Empty files and garbage.
        "empty.pcd": b"",
        "empty.ply": b"",
        "garbage.pcd": bytes(rng.randrange(256) for _ in range(2048)),
        "garbage.ply": bytes(rng.randrange(256) for _ in range(2048)),
        "garbage-after-ply-magic.ply": b"ply\n" + bytes(rng.randrange(256) for _ in range(512)),
        "pcd-header-only.pcd": "VERSION 0.7\nFIELDS x y z\n",
        # PLY headers against the format.
        "ply-unknown-format.ply": "ply\nformat binary_middle_endian 1.0\nelement vertex 1\nproperty float x\nend_header\n\0\0\0\0",
        "ply-version-2.ply": "ply\nformat ascii 2.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
        "ply-property-before-element.ply": "ply\nformat ascii 1.0\nproperty float x\nelement vertex 1\nproperty float y\nend_header\n1 2\n",
        "ply-element-twice.ply": "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nelement vertex 1\nproperty float y\nend_header\n1\n2\n",
        "ply-float-list-count.ply": ply_header("ascii", 1, extra="element face 1\nproperty list float int vertex_indices\n") + "1 2 3\n3 0 0 0\n",
        "ply-unknown-property-type.ply": ply_header("ascii", 1, "property float x\nproperty float y\nproperty quad z\n") + "1 2 3\n",
        "ply-no-end-header.ply": "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n",
        "ply-no-vertex.ply": "ply\nformat ascii 1.0\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n3 0 1 2\n",
        # Legitimate edge cases: these must be read (exit 0).
        "valid-pcd-ascii.pcd": pcd_ascii(P),
        "valid-pcd-binary.pcd": pcd_binary(P),
        "valid-pcd-compressed.pcd": pcd_compressed(P),
        "valid-ply-ascii.ply": ply_ascii(P),
        "valid-ply-binary-le.ply": ply_binary(P, "<"),
        "valid-ply-binary-be.ply": ply_binary(P, ">"),
        "valid-ply-with-faces.ply": ply_header("ascii", len(P), extra="element face 2\nproperty list uchar int vertex_indices\n")
                                    + "".join(" ".join(repr(v) for v in p) + "\n" for p in P) + "3 0 1 2\n3 2 3 4\n",
        "valid-pcd-some-nan.pcd": pcd_ascii(P, [" ".join(repr(v) for v in p) for p in P[:-2]] + ["nan nan nan", "inf 1 2"]),
    }
    for name, data in files.items():
        write(CLOUDS, name, data)


# ---------------------------------------------------------------- models

def safetensors(tensors, metadata, header_override=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":"))
    raw = text.encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(t[3] for t in tensors)


EMBEDDING, CLASSES = 8, ["chair", "table"]


def floats(values):
    return struct.pack(f"<{len(values)}f", *values)


def tiny_pointnet():
    """A PointNet of embedding 8 and two classes, weights seeded; names and shapes as pcdiag writes them."""
    shapes = [("conv1.weight", [64, 3, 1]), ("conv2.weight", [64, 64, 1]), ("conv3.weight", [64, 64, 1]),
              ("conv4.weight", [128, 64, 1]), ("conv5.weight", [EMBEDDING, 128, 1])]
    for i, c in enumerate([64, 64, 64, 128, EMBEDDING, 512], 1):
        shapes += [(f"bn{i}.weight", [c]), (f"bn{i}.bias", [c]), (f"bn{i}.running_mean", [c]), (f"bn{i}.running_var", [c])]
    shapes += [("linear1.weight", [512, EMBEDDING]), ("linear2.weight", [len(CLASSES), 512]), ("linear2.bias", [len(CLASSES)])]
    tensors = []
    for name, shape in shapes:
        n = math.prod(shape)
        if name.endswith("running_var") or (name.startswith("bn") and name.endswith("weight")):
            values = [1.0] * n
        else:
            values = [round(rng.uniform(-0.2, 0.2), 4) for _ in range(n)]
        tensors.append((name, "F32", shape, floats(values)))
    return tensors


def as_f16(tensors):
    """The weights rounded to F16, to keep the corpus small (pcdiag widens F16 to F32 exactly)."""
    return [(n, "F16", shape, struct.pack(f"<{len(data) // 4}e", *struct.unpack(f"<{len(data) // 4}f", data)))
            for n, _, shape, data in tensors]


def pcdiag_metadata(architecture=None, steps=None, classes=None):
    classes = classes or CLASSES
    architecture = architecture or {"pointnet": {"classes": len(classes), "embedding": EMBEDDING, "dropout": 0.5}}
    steps = steps or [{"removeNonFinite": {}}, {"normalize": {}}, {"sample": {"points": 256, "seed": 1}}]
    meta = {"architecture": architecture, "classes": classes, "preprocessing": {"steps": steps}}
    return {"arch": "pointnet", "classes": ",".join(classes), "pcdiag": json.dumps(meta, separators=(",", ":"))}


def shipped_calibration():
    """The shipped model's calibration, its reference distributions thinned to every 16th quantile
    (still ascending, with the maximum) to keep the corpus small."""
    with open(SHIPPED, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        calibration = json.loads(json.loads(f.read(n))["__metadata__"]["attachment.diagnostics"])
    for reference in list(calibration["references"].values()) + [calibration["fragilityReference"]]:
        reference["quantiles"] = reference["quantiles"][::16] + reference["quantiles"][-1:]
    return json.dumps(calibration, separators=(",", ":"))


def calibration_tensors(rank=2, dimension=EMBEDDING):
    means = floats([round(rng.uniform(-1, 1), 4) for _ in range(len(CLASSES) * dimension)])
    basis = floats([1.0 if j == i else 0.0 for i in range(rank) for j in range(dimension)])
    variances = floats([2.0] * rank + [1.0])
    return [("attachment.mahalanobis.basis", "F32", [rank, dimension], basis),
            ("attachment.mahalanobis.class_means", "F32", [len(CLASSES), dimension], means),
            ("attachment.mahalanobis.variances", "F32", [rank + 1], variances)]


def replace(tensors, name, **change):
    out = []
    for t in tensors:
        if t[0] == name:
            t = (change.get("name", t[0]), change.get("dtype", t[1]), change.get("shape", t[2]), change.get("data", t[3]))
        out.append(t)
    return out


def models():
    full = tiny_pointnet()
    base = as_f16(full)
    meta = pcdiag_metadata()
    calibrated_meta = dict(meta, **{"attachment.diagnostics": shipped_calibration()})
    calibration = calibration_tensors()
    bn5 = next(t for t in base if t[0] == "bn5.weight")
    conv1 = next(t for t in full if t[0] == "conv1.weight")

    diagnostics = json.loads(shipped_calibration())
    absurd_options = json.loads(json.dumps(diagnostics))
    absurd_options["options"]["flipTrials"] = 1_000_000_000
    absurd_alpha = json.loads(json.dumps(diagnostics))
    absurd_alpha["options"]["alpha"] = 1e308
    short_weights = json.loads(json.dumps(diagnostics))
    short_weights["fragility"]["model"]["weights"] = short_weights["fragility"]["model"]["weights"][:3]

    good = safetensors(base, meta)
    files = {
        "valid-tiny-pointnet.safetensors": safetensors(full, meta),
        "valid-tiny-pointnet-f16.safetensors": good,
        "valid-tiny-pointnet-calibrated.safetensors": safetensors(base + calibration, calibrated_meta),
        # The reproducers.
        "absurd-sample-points.safetensors": safetensors(base, pcdiag_metadata(
            steps=[{"removeNonFinite": {}}, {"normalize": {}}, {"sample": {"points": 1_000_000_000, "seed": 1}}])),
        "wrong-dtype-i32.safetensors": safetensors(replace(base, "conv1.weight", dtype="I32", data=conv1[3]), meta),
        "wrong-shape-bn5.safetensors": safetensors(replace(base, "bn5.weight", shape=[EMBEDDING, 1]), meta),
        "missing-calibration-tensor.safetensors": safetensors(
            base + [t for t in calibration if t[0] != "attachment.mahalanobis.basis"], calibrated_meta),
        # Absurd metadata.
        "absurd-embedding.safetensors": safetensors(base, pcdiag_metadata(
            architecture={"pointnet": {"classes": 2, "embedding": 1_000_000_000, "dropout": 0.5}})),
        "absurd-dgcnn-k.safetensors": safetensors(base, pcdiag_metadata(
            architecture={"dgcnn": {"classes": 2, "k": 5000, "embedding": EMBEDDING, "dropout": 0.5}})),
        "absurd-outlier-neighbours.safetensors": safetensors(base, pcdiag_metadata(
            steps=[{"removeOutliers": {"neighbours": 100_000_000, "stddev": 1.0}}, {"sample": {"points": 256, "seed": 1}}])),
        "absurd-voxel-size.safetensors": safetensors(base, pcdiag_metadata(
            steps=[{"voxelGrid": {"size": -1.0}}, {"sample": {"points": 256, "seed": 1}}])),
        "absurd-class-count.safetensors": safetensors(base, pcdiag_metadata(
            architecture={"pointnet": {"classes": 100_000, "embedding": EMBEDDING, "dropout": 0.5}},
            classes=[f"c{i}" for i in range(100_000)][:3])),
        "absurd-plain-points.safetensors": safetensors(base, {"arch": "pointnet", "classes": "chair,table", "points": "1000000000",
                                                               "emb_dims": str(EMBEDDING)}),
        "absurd-flip-trials.safetensors": safetensors(base + calibration, dict(meta, **{"attachment.diagnostics": json.dumps(absurd_options)})),
        "absurd-alpha.safetensors": safetensors(base + calibration, dict(meta, **{"attachment.diagnostics": json.dumps(absurd_alpha)})),
        "calibration-weights-short.safetensors": safetensors(base + calibration, dict(meta, **{"attachment.diagnostics": json.dumps(short_weights)})),
        "calibration-json-missing.safetensors": safetensors(base + calibration, meta),
        "calibration-wrong-dimension.safetensors": safetensors(
            base + calibration_tensors(dimension=EMBEDDING // 2), calibrated_meta),
        # Broken weights.
        "wrong-shape-conv1.safetensors": safetensors(replace(base, "conv1.weight", shape=[64, 1, 3]), meta),
        "wrong-dtype-i16-same-size.safetensors": safetensors(replace(base, "bn5.weight", dtype="I16"), meta),
        "nan-weights.safetensors": safetensors(replace(base, "bn5.weight", dtype="F32", data=floats([math.nan] * EMBEDDING)), meta),
        "inf-weights.safetensors": safetensors(replace(base, "conv1.weight", data=struct.pack("<192e", *[math.inf] * 192)), meta),
        "missing-weight.safetensors": safetensors([t for t in base if t[0] != "linear2.bias"], meta),
        "duplicate-name.safetensors": safetensors(base + [bn5], meta, header_override=json.dumps({"__metadata__": meta})[:-1]
            + "," + ",".join(f'"{n}":{{"dtype":"{d}","shape":{s},"data_offsets":[{a},{b}]}}'
                               for n, d, s, a, b in _layout(base + [bn5])) + "}"),
        "duplicate-alias.safetensors": safetensors(base + [("module.conv1.weight",) + conv1[1:]], meta),
        "overlapping-offsets.safetensors": _overlapping(base, meta),
    }
    # Broken before any tensor is looked at: a small file will do.
    good = safetensors(base[:3], meta)
    files["offsets-past-end.safetensors"] = good[: len(good) - 64]
    header_length = struct.unpack("<Q", good[:8])[0]
    files["header-length-past-end.safetensors"] = struct.pack("<Q", len(good) * 2) + good[8:]
    files["header-length-huge.safetensors"] = struct.pack("<Q", 2**63) + good[8:]
    files["header-too-short-file.safetensors"] = good[:5]
    files["bad-json.safetensors"] = good[:8] + b"{\"conv1.weight\": [" + good[26: 8 + header_length] + good[8 + header_length:]
    files["header-not-object.safetensors"] = safetensors([], None, header_override="[1, 2, 3]")
    files["empty.safetensors"] = b""
    files["garbage.safetensors"] = bytes(rng.randrange(256) for _ in range(4096))
    for name, data in files.items():
        write(MODELS, name, data)


def formats():
    """The formats pcdiag parses itself (text, NPY, .bin, meshes, LAS): a valid file of each kind, and
    files broken the ways their readers must refuse. No random bytes, so this part can be rerun alone."""
    P = POINTS
    rows = "".join("{!r} {!r} {!r}\n".format(*p) for p in P)
    npy_header = lambda descr, shape, fortran=False: (lambda h: b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())(
        "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n" % (descr, fortran, shape))
    tetra = "3 0 1 2\n3 0 1 3\n3 0 2 3\n3 1 2 3\n"
    las = bytearray(227)
    las[0:4] = b"LASF"
    las[24:26] = bytes([1, 2])
    struct.pack_into("<HII", las, 94, 227, 227, 0)
    struct.pack_into("<6d", las, 131, 0.001, 0.001, 0.001, 0, 0, 0)
    def las_file(fmt, length, count, records):
        h = bytearray(las)
        struct.pack_into("<BHI", h, 104, fmt, length, count)
        return bytes(h) + b"".join(records)
    las_records = [struct.pack("<3iH", int(x * 1000), int(y * 1000), int(z * 1000), i) + bytes([0x09, 2]) + bytes(4) for i, (x, y, z) in enumerate(P)]
    files = {
        "valid-text-modelnet-resampled.txt": "".join("{!r},{!r},{!r},0,0,1\n".format(*p) for p in P),
        "valid-npy-f8-fortran.npy": npy_header(">f8", (len(P), 3), True) + struct.pack(">%dd" % (3 * len(P)), *[p[a] for a in range(3) for p in P]),
        "valid-kitti.bin": b"".join(struct.pack("<4f", *p, 0.5) for p in P),
        "valid-off-modelnet.off": "OFF%d 4 0\n" % len(P) + rows + tetra,
        "valid-stl-binary.stl": bytes(80) + struct.pack("<I", 4) + b"".join(
            struct.pack("<3f", 0, 0, 1) + b"".join(struct.pack("<3f", *P[i]) for i in f) + b"\0\0" for f in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]),
        "valid-las-format0.las": las_file(0, 20, len(P), las_records),
        "fmt-text-column-missing.xyz": rows + "1 2\n",
        "fmt-text-lying-count.pts": "4000000000\n" + rows,
        "fmt-text-words.csv": "x,y,z\n1,2,3\none,two,three\n",
        "fmt-text-all-nan.xyz": "nan nan nan\nnan 1 2\ninf 0 0\n",
        "fmt-npy-short-data.npy": npy_header("<f4", (1000000, 3)) + bytes(12),
        "fmt-npy-huge-shape.npy": npy_header("<f8", (10 ** 18, 3)),
        "fmt-npy-integers.npy": npy_header("<i4", (1, 3)) + bytes(12),
        "fmt-bin-broken-record.bin": bytes(18),
        "fmt-off-huge-counts.off": "OFF\n4000000000 4000000000 0\n" + rows,
        "fmt-off-bad-index.off": "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 9\n",
        "fmt-off-zero-area.off": "OFF\n3 1 0\n0 0 0\n1 0 0\n2 0 0\n3 0 1 2\n",
        "fmt-obj-bad-index.obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n",
        "fmt-stl-lying-count.stl": bytes(80) + struct.pack("<I", 2 ** 30) + bytes(50),
        "fmt-las-huge-count.las": las_file(0, 20, 2 ** 32 - 1, las_records),
        "fmt-las-format-11.las": las_file(11, 20, len(P), las_records),
        "fmt-las-compressed.las": las_file(0x80, 20, len(P), las_records),
        "fmt-laz.laz": las_file(0, 20, len(P), las_records),
    }
    for name, data in files.items():
        write(CLOUDS, name, data)


def _layout(tensors):
    offset = 0
    for name, dtype, shape, data in tensors:
        yield name, dtype, json.dumps(shape), offset, offset + len(data)
        offset += len(data)


def _overlapping(base, meta):
    """Two tensors pointing at the same bytes: conv1 is given the start of conv2's."""
    data = safetensors(base, meta)
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    begin, end = header["conv1.weight"]["data_offsets"]
    second = header["conv2.weight"]["data_offsets"][0]
    header["conv1.weight"]["data_offsets"] = [second, second + end - begin]
    return safetensors(base, meta, header_override=json.dumps(header))


if __name__ == "__main__":
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(CLOUDS)
    os.makedirs(MODELS)
    clouds()
    models()
    formats()
