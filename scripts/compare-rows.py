#!/usr/bin/env python3
"""Checks that sharded pcdiag batch rows, merged, are the rows of one run over the same inputs.

  scripts/compare-rows.py ONE.jsonl MERGED.jsonl [--parts part-1.jsonl part-2.jsonl ...]

Fails (exit 1) unless: both files hold the same set of paths, each once; every row of MERGED has the
same keys as ONE's row for that path and every value equal, `time_ms` aside (it is wall time); the
rows come in the same order (both are sorted by path). With --parts, also that the shards are
disjoint and together hold exactly MERGED's paths (merge keeps the first row of a path, so it would
hide a file processed by two shards). Values are compared as parsed JSON: the same text gives the
same float, so "equal" is exact, not within a tolerance.
"""
import argparse
import collections
import json
import sys

IGNORED = {"time_ms"}


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def by_path(name, table, problems):
    keyed = {}
    for row in table:
        if row["path"] in keyed:
            problems.append(f"{name}: {row['path']} appears twice")
        keyed[row["path"]] = row
    return keyed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("one")
    ap.add_argument("merged")
    ap.add_argument("--parts", nargs="*", default=[])
    args = ap.parse_args()
    problems = []
    one_rows, merged_rows = rows(args.one), rows(args.merged)
    one, merged = by_path(args.one, one_rows, problems), by_path(args.merged, merged_rows, problems)
    for path in sorted(one.keys() - merged.keys()):
        problems.append(f"only in {args.one}: {path}")
    for path in sorted(merged.keys() - one.keys()):
        problems.append(f"only in {args.merged}: {path}")
    values, differing, rows_differing, largest = 0, collections.Counter(), set(), 0.0
    for path in sorted(one.keys() & merged.keys()):
        a, b = one[path], merged[path]
        for key in sorted((a.keys() | b.keys()) - IGNORED):
            values += 1
            if key not in a or key not in b or a[key] != b[key]:
                problems.append(f"{path}: {key} {a.get(key, '<absent>')!r} != {b.get(key, '<absent>')!r}")
                differing[key] += 1
                rows_differing.add(path)
                if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a.get(key), b.get(key))):
                    largest = max(largest, abs(a[key] - b[key]) / max(abs(a[key]), abs(b[key])))
    if not problems and [r["path"] for r in one_rows] != [r["path"] for r in merged_rows]:
        problems.append("same rows, different order")
    if args.parts:
        seen = {}
        for part in args.parts:
            for row in rows(part):
                if row["path"] in seen:
                    problems.append(f"{row['path']} in two shards: {seen[row['path']]} and {part}")
                seen[row["path"]] = part
        if seen.keys() != merged.keys():
            problems.append(f"the shards hold {len(seen)} paths, the merged file {len(merged)}")
    for problem in problems[:20]:
        print(f"MISMATCH {problem}", file=sys.stderr)
    if problems:
        if differing:
            print(f"compare-rows: {sum(differing.values())} of {values} values differ, in {len(rows_differing)} of "
                  f"{len(one)} rows ({', '.join(f'{k} {n}' for k, n in differing.most_common())}); "
                  f"largest relative difference {largest:.2g}", file=sys.stderr)
        print(f"compare-rows: {len(problems)} mismatches", file=sys.stderr)
        sys.exit(1)
    print(f"compare-rows: {len(one)} rows, {values} values equal (time_ms ignored)"
          + (f", {len(args.parts)} disjoint shards" if args.parts else ""))


if __name__ == "__main__":
    main()
