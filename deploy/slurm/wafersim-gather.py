#!/usr/bin/env python3
"""Gathers the points of a job-array sweep (wafersim-array.sbatch) into one CSV table.

    wafersim-gather.py OUT [--table FILE]

One row per line of OUT/points.txt: the point's index, its results folder, its state (SUCCEEDED
when wafersim run exited 0 and wrote summary.json, FAILED when it exited otherwise, MISSING when
it never ended), the varied keys, and every figure of its summary.json flattened to dotted names
(the columns of the service's sweep table). Writes OUT/table.csv unless --table says otherwise;
exits 0 when every point SUCCEEDED, 1 otherwise. Python's standard library only.
"""
import argparse
import csv
import json
import os
import sys


def flatten(value, prefix, out):
    if isinstance(value, dict):
        for key in sorted(value):
            flatten(value[key], f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def read_points(path):
    points = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            pairs = [p.strip() for p in line.split(";") if p.strip()]
            points.append(dict(p.split("=", 1) if "=" in p else (p, "") for p in pairs))
    return points


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the array's output folder (holds points.txt and point-<i>/)")
    parser.add_argument("--table", help="the CSV file (default OUT/table.csv)")
    args = parser.parse_args()
    points = read_points(os.path.join(args.out, "points.txt"))
    keys = sorted({k for p in points for k in p})
    rows, figures = [], []
    for index, point in enumerate(points):
        folder = os.path.join(args.out, f"point-{index}")
        status_file = os.path.join(args.out, f"point-{index}.status")
        summary_file = os.path.join(folder, "summary.json")
        row = {"index": index, "run": f"point-{index}"}
        if not os.path.exists(status_file):
            row["state"] = "MISSING"
        else:
            with open(status_file, encoding="utf-8") as f:
                status = f.read().strip()
            row["state"] = "SUCCEEDED" if status == "0" and os.path.exists(summary_file) else "FAILED"
        for key in keys:
            row[key] = point.get(key, "")
        if row["state"] == "SUCCEEDED":
            summary = {}
            with open(summary_file, encoding="utf-8") as f:
                flatten(json.load(f), "", summary)
            for name in summary:
                if name not in figures:
                    figures.append(name)
            row.update(summary)
        rows.append(row)
    table = args.table or os.path.join(args.out, "table.csv")
    with open(table + ".part", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["index", "run", "state"] + keys + figures, restval="",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(table + ".part", table)
    done = sum(1 for r in rows if r["state"] == "SUCCEEDED")
    print(f"wafersim-gather: {done} of {len(rows)} points SUCCEEDED, table in {table}")
    return 0 if rows and done == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
