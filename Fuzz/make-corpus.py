#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tiny valid files of every kind each reader takes, so the
fuzzer starts past the first checks. Python's standard library only; deterministic, so rerunning it
rewrites the same bytes. The batch-row seeds (corpus/rows) are real `pcdiag batch` output and are kept
as files instead (see Fuzz/README.md)."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
POINTS = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def pcd_header(fields, sizes, types, width, height, data):
    return (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {' '.join(fields)}\n"
            f"SIZE {' '.join(map(str, sizes))}\nTYPE {' '.join(types)}\nCOUNT {' '.join('1' for _ in fields)}\n"
            f"WIDTH {width}\nHEIGHT {height}\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {width * height}\nDATA {data}\n")


def lzf_literal(raw):
    """LZF with literal runs only (a control byte c < 32 copies c + 1 bytes): valid input for PCL's
    decompressor without writing a compressor."""
    out = bytearray()
    for i in range(0, len(raw), 32):
        chunk = raw[i:i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def packed_rgb(r, g, b):
    return struct.unpack("<f", struct.pack("<I", r << 16 | g << 8 | b))[0]


def pcd():
    xyz = ["x", "y", "z"]
    put("pcd", "ascii.pcd", pcd_header(xyz, [4] * 3, "FFF", 4, 1, "ascii")
        + "".join(f"{x} {y} {z}\n" for x, y, z in POINTS))
    put("pcd", "binary.pcd", pcd_header(xyz, [4] * 3, "FFF", 4, 1, "binary").encode()
        + b"".join(struct.pack("<3f", *p) for p in POINTS))
    # binary_compressed stores each field's column in turn.
    columns = b"".join(struct.pack("<4f", *(p[axis] for p in POINTS)) for axis in range(3))
    body = lzf_literal(columns)
    put("pcd", "compressed.pcd", pcd_header(xyz, [4] * 3, "FFF", 4, 1, "binary_compressed").encode()
        + struct.pack("<II", len(body), len(columns)) + body)
    # Organized (2 × 2), with packed colour and an extra field.
    put("pcd", "organized-rgb.pcd", pcd_header(xyz + ["rgb", "intensity"], [4] * 5, "FFFFF", 2, 2, "ascii")
        + "".join(f"{x} {y} {z} {packed_rgb(*c):.9g} {i}\n" for i, ((x, y, z), c) in enumerate(zip(POINTS, COLOURS))))
    # Padding field "_", integer types, a NaN point.
    put("pcd", "binary-padding.pcd",
        pcd_header(xyz + ["_", "label"], [4, 4, 4, 4, 2], ["F", "F", "F", "U", "U"], 4, 1, "binary").encode()
        + b"".join(struct.pack("<3fIH", *p, 0, i) for i, p in enumerate(POINTS[:3] + [(float("nan"),) * 3])))


def ply_header(fmt, properties, count, faces=None):
    lines = ["ply", f"format {fmt} 1.0", "comment pcdiag fuzz seed", f"element vertex {count}"]
    lines += [f"property {t} {n}" for t, n in properties]
    if faces is not None:
        lines += [f"element face {faces}", "property list uchar int vertex_indices"]
    return "\n".join(lines + ["end_header"]) + "\n"


def ply():
    xyz = [("float", "x"), ("float", "y"), ("float", "z")]
    put("ply", "ascii.ply", ply_header("ascii", xyz, 4) + "".join(f"{x} {y} {z}\n" for x, y, z in POINTS))
    put("ply", "binary-le-rgb.ply",
        ply_header("binary_little_endian", xyz + [("uchar", "red"), ("uchar", "green"), ("uchar", "blue")], 4).encode()
        + b"".join(struct.pack("<3f3B", *p, *c) for p, c in zip(POINTS, COLOURS)))
    put("ply", "binary-be-double.ply",
        ply_header("binary_big_endian", [("double", "x"), ("double", "y"), ("double", "z"), ("float", "intensity")], 4).encode()
        + b"".join(struct.pack(">3df", *p, 0.5) for p in POINTS))
    # A mesh: vertices then faces, whose list property pcdiag skips.
    put("ply", "mesh.ply", ply_header("ascii", xyz, 4, faces=2)
        + "".join(f"{x} {y} {z}\n" for x, y, z in POINTS) + "3 0 1 2\n3 0 2 3\n")


def safetensors(tensors, metadata):
    """tensors: list of (name, shape, float values) written as F32 in order."""
    header, data = {"__metadata__": metadata}, b""
    for name, shape, values in tensors:
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def model():
    # The smallest PointNet pcdiag builds: embedding 1, two classes (the widths 64/128/512 are fixed).
    classes, embedding = ["a", "b"], 1
    widths = [3, 64, 64, 64, 128, embedding]
    tensors = []
    for i in range(1, 6):
        tensors.append((f"conv{i}.weight", [widths[i], widths[i - 1], 1], [0.01] * (widths[i] * widths[i - 1])))
    for i, c in list(enumerate(widths[1:], 1)) + [(6, 512)]:
        tensors += [(f"bn{i}.weight", [c], [1.0] * c), (f"bn{i}.bias", [c], [0.0] * c),
                    (f"bn{i}.running_mean", [c], [0.0] * c), (f"bn{i}.running_var", [c], [1.0] * c)]
    tensors += [("linear1.weight", [512, embedding], [0.01] * 512 * embedding),
                ("linear2.weight", [len(classes), 512], [0.01] * 512 * len(classes)),
                ("linear2.bias", [len(classes)], [0.0] * len(classes))]
    pcdiag = {"classes": classes, "architecture": {"pointnet": {"classes": 2, "embedding": embedding, "dropout": 0.5}},
              "preprocessing": {"steps": [{"removeNonFinite": {}}, {"normalize": {}}, {"sample": {"points": 16, "seed": 1}}]}}
    plain = {"arch": "pointnet", "classes": ",".join(classes), "emb_dims": str(embedding), "points": "16"}
    put("model", "pointnet-tiny.safetensors", safetensors(tensors, {**plain, "pcdiag": json.dumps(pcdiag, separators=(",", ":"))}))
    # A PyTorch-style export: plain metadata only.
    put("model", "pointnet-tiny-plain.safetensors", safetensors(tensors, plain))
    # Small files that stop early, so mutations reach each check quickly.
    put("model", "header-only.safetensors", safetensors([("t", [2, 2], [1.0, 2.0, 3.0, 4.0])], {"pcdiag": json.dumps(pcdiag)}))
    put("model", "dgcnn-metadata.safetensors", safetensors([("attachment.x", [1], [0.0])], {
        "arch": "dgcnn", "classes": "a,b,c", "k": "4", "emb_dims": "8", "attachment.diagnostics": "{}"}))


def manifest():
    put("manifest", "header.csv", "path,label\nchair/a.pcd,chair\nchair/b.ply,chair\nlamp/c.pcd,lamp\n")
    put("manifest", "plain.csv", "/data/a.pcd,chair\n  b.pcd , lamp \n\n\"c d.pcd\",\"table\"\r\n")


def text():
    put("text", "plain.pts", "4\n" + "".join(f"{x} {y} {z} {i * 10} {r} {g} {b}\n" for i, ((x, y, z), (r, g, b)) in enumerate(zip(POINTS, COLOURS))))
    put("text", "header.pts", "x,y,z,red,green,blue,intensity\n" + "".join(f"{x},{y},{z},{r},{g},{b},nan\n" for (x, y, z), (r, g, b) in zip(POINTS, COLOURS)))
    put("text", "modelnet.pts", "".join(f"{x};{y};{z};0;0;1\n" for x, y, z in POINTS))


def npy_file(rows, descr="<f4", fortran=False, version=1):
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': ({len(rows)}, {len(rows[0])}), }}"
    length = 2 if version == 1 else 4
    header += " " * ((64 - (10 + (length - 2) + len(header) + 1) % 64) % 64) + "\n"
    cells = [v for col in zip(*rows) for v in col] if fortran else [v for row in rows for v in row]
    code = ("<" if descr[0] != ">" else ">") + ("f" if descr[-1] == "4" else "d") * len(cells)
    return (b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H" if version == 1 else "<I", len(header))
            + header.encode() + struct.pack(code, *cells))


def npy():
    rows = [list(p) + [float(i)] for i, p in enumerate(POINTS)]
    put("npy", "f4.npy", npy_file(rows))
    put("npy", "f8-big-fortran.npy", npy_file(rows, descr=">f8", fortran=True, version=2))


def bin_records():
    put("bin", "kitti.bin", b"".join(struct.pack("<4f", *p, 0.5) for p in POINTS))


def meshes():
    vertices = "".join(f"{x} {y} {z}\n" for x, y, z in POINTS)
    put("off", "modelnet.off", "OFF4 4 0\n" + vertices + "3 0 1 2\n3 0 1 3\n3 0 2 3\n4 1 2 3 0\n")
    put("off", "comments.off", "OFF\n# a tetrahedron\n4 2 0\n" + vertices + "3 0 1 2 255 0 0\n3 1 2 3\n")
    put("obj", "tetra.obj", "o t\n" + "".join(f"v {x} {y} {z}\n" for x, y, z in POINTS) + "vn 0 0 1\nf 1/1/1 2/1/1 3/1/1\nf -1 -2 -3 -4\n")
    facets = [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    put("stl", "ascii.stl", "solid t\n" + "".join("facet normal 0 0 1\nouter loop\n" + "".join(
        "vertex {} {} {}\n".format(*POINTS[i]) for i in f) + "endloop\nendfacet\n" for f in facets) + "endsolid t\n")
    put("stl", "binary.stl", bytes(80) + struct.pack("<I", len(facets)) + b"".join(
        struct.pack("<3f", 0, 0, 1) + b"".join(struct.pack("<3f", *POINTS[i]) for i in f) + b"\0\0" for f in facets))


def las_file(fmt, minor, records):
    lengths = {0: 20, 3: 34, 7: 36}
    header_size = 375 if minor >= 4 else 227
    h = bytearray(header_size)
    h[0:4] = b"LASF"
    h[24:26] = bytes([1, minor])
    struct.pack_into("<HII", h, 94, header_size, header_size, 0)
    struct.pack_into("<BHI", h, 104, fmt, lengths[fmt], len(records))
    struct.pack_into("<6d", h, 131, 0.01, 0.01, 0.01, 0.0, 0.0, 0.0)
    if minor >= 4:
        struct.pack_into("<Q", h, 247, len(records))
    body = b""
    for i, (x, y, z) in enumerate(records):
        rec = bytearray(lengths[fmt])
        struct.pack_into("<3iH", rec, 0, int(x * 100), int(y * 100), int(z * 100), i)
        if fmt >= 6:
            rec[14], rec[16] = 0x11, 2
        else:
            rec[14], rec[15] = 0x09, 2
        if fmt in (3, 7):
            struct.pack_into("<3H", rec, 28 if fmt == 3 else 30, 65535, 0, 32768)
        body += bytes(rec)
    return bytes(h) + body


def las():
    put("las", "v12-format0.las", las_file(0, 2, POINTS))
    put("las", "v12-format3.las", las_file(3, 2, POINTS))
    put("las", "v14-format7.las", las_file(7, 4, POINTS))


if __name__ == "__main__":
    pcd()
    ply()
    model()
    manifest()
    text()
    npy()
    bin_records()
    meshes()
    las()
