#!/usr/bin/env python3
"""The GPU issue's peer table from one scripts/gpu-bench.sh call (issue 21): speedup over cuBLAS fp16 of our
gpu/int4-2:4 and gpu/int4-dense and of cuSPARSELt fp16 2:4 (from our bench, each timed round by round beside cuBLAS),
beside Sparse-Marlin (from the peer harness, ../shared/peers/gpu_marlin.py, its own cuBLAS in the same process).

    peer_table.py BENCH_CSV PEERS_TXT

BENCH_CSV is `nmscope-cli export --csv` of the bench database, PEERS_TXT the harness's output. Batches that only one
side measured are left out; a figure that is missing prints as "-".
"""
import csv
import json
import math
import re
import sys
from collections import defaultdict

OURS = ["gpu/int4-2:4", "gpu/int4-dense"]
CUBLAS = "gpu/cublas-fp16-dense"
CUSPARSELT = "gpu/cusparselt-fp16-2:4"


def our_speedups(path):
    """(shape, batch) -> {engine: speedup over cuBLAS}: the bench's interleaved median, else the ratio of medians."""
    times = defaultdict(dict)
    speedups = defaultdict(dict)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["status"] != "ok" or row["pattern"] not in ("2:4", "dense"):
                continue
            key = (f"{row['rows']}x{row['cols']}", int(row["batch"]))
            engine = row["engine"]
            # int4-2:4 is measured on the 2:4 pattern, int4-dense on dense; the baselines ride on both.
            if engine in OURS and (engine == "gpu/int4-2:4") != (row["pattern"] == "2:4"):
                continue
            times[key][engine] = float(row["time_us"])
            try:
                speedup = json.loads(row["details_json"] or "{}").get("speedup", {})
            except json.JSONDecodeError:
                speedup = {}
            if isinstance(speedup, dict) and speedup.get("baseline") == CUBLAS:
                speedups[key][engine] = float(speedup["median"])
    for key, engines in times.items():
        for engine, time in engines.items():
            if engine not in speedups[key] and CUBLAS in engines and time > 0:
                speedups[key][engine] = engines[CUBLAS] / time
    return speedups


def sparse_marlin_speedups(path):
    """(shape, batch) -> Sparse-Marlin's speedup over the harness's cuBLAS."""
    line = re.compile(r"^(\d+x\d+)\s+(\d+)\s*\|\s*([\d.na]+)\s*\|[^|]*\|\s*([\d.na]+)\s+([\d.na]+)\s*\|")
    result = {}
    with open(path) as handle:
        for text in handle:
            match = line.match(text)
            if match:
                value = float(match.group(5))
                if not math.isnan(value):
                    result[(match.group(1), int(match.group(2)))] = value
    return result


def main():
    if len(sys.argv) != 3:
        print("usage: peer_table.py BENCH_CSV PEERS_TXT", file=sys.stderr)
        return 2
    ours = our_speedups(sys.argv[1])
    marlin = sparse_marlin_speedups(sys.argv[2])
    keys = sorted(set(ours) & set(marlin), key=lambda key: (key[0], key[1]))
    if not keys:
        print("peer table: no (shape, batch) measured by both the bench and the peer harness", file=sys.stderr)
        return 1
    fmt = lambda value: "-" if value is None else f"{value:.2f}"
    print("| shape | batch | nmscope int4-2:4 | Sparse-Marlin | cuSPARSELt fp16 2:4 | nmscope int4-dense |")
    print("|---|---|---|---|---|---|")
    for shape, batch in keys:
        row = ours[(shape, batch)]
        print(f"| {shape} | {batch} | {fmt(row.get('gpu/int4-2:4'))} | {fmt(marlin[(shape, batch)])} | "
              f"{fmt(row.get(CUSPARSELT))} | {fmt(row.get('gpu/int4-dense'))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
