"""Benchmark of ``iotbill adoption cascade`` as a process, against NDlib and a floor.

Writes Watts–Strogatz edge lists (k = 10, p = 0.1; a ``#`` comment line, then one
``u v`` pair per line in shuffled order) and a 1% random seed set, then runs, each as
its own Python process, timed from start to exit with its peak resident memory:

* ``iotbill adoption cascade --edges FILE --seeds ... --threshold 0.2 --json``: the
  whole command, imports, reading, cascade and JSON output included;
* NDlib's ThresholdModel: its imports, its own read of the same file
  (``networkx.read_edgelist``), the same seeds and threshold, iterated until no node
  changes; at ``--nodes`` only (target: iotbill at least 20x faster). Both must end
  with the same adopters, which is checked and printed;
* the floor: a process that reads the same file with pyarrow's CSV reader and builds
  the symmetric scipy sparse matrix, nothing else; at ``--big`` (target: iotbill
  within 3x of it in time and in peak memory).

iotbill's modules are compiled to bytecode first, as an installed iotbill's are
(``bench/installed.py``).

Run: ``python bench/cascade_cli_bench.py [--nodes N] [--big N] [--repeat R]``.
Asserts nothing about time; prints figures and ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from installed import compile_iotbill
from iotbill.adoption.smallworld import watts_strogatz

THRESHOLD = "0.2"

NDLIB = """
import json, sys
import networkx as nx
import ndlib.models.epidemics as epidemics
import ndlib.models.ModelConfig as model_config
path, seeds, threshold = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
network = nx.read_edgelist(path, comments="#", nodetype=str)
model = epidemics.ThresholdModel(network, seed=0)
config = model_config.Configuration()
config.add_model_initial_configuration("Infected", seeds)
for node in network:
    config.add_node_configuration("threshold", node, threshold)
model.set_initial_status(config)
model.iteration()
while model.iteration()["status"]:
    pass
json.dump(sorted(node for node, status in model.status.items() if status == 1), sys.stdout)
"""

FLOOR = """
import sys
import numpy as np
import pyarrow.csv as csv
import scipy.sparse as sp
table = csv.read_csv(
    sys.argv[1],
    read_options=csv.ReadOptions(skip_rows=1, column_names=["u", "v"]),
    parse_options=csv.ParseOptions(delimiter=" "),
)
u = table.column("u").to_numpy()
v = table.column("v").to_numpy()
n = int(max(u.max(), v.max())) + 1
rows = np.concatenate((u, v)).astype(np.int32)
cols = np.concatenate((v, u)).astype(np.int32)
adjacency = sp.csr_array((np.ones(rows.size, dtype=np.int32), (rows, cols)), shape=(n, n))
adjacency.sum_duplicates()
print(adjacency.nnz)
"""


def write_graph(directory: Path, node_count: int, seed: int) -> tuple[Path, str]:
    """An edge-list file of a Watts–Strogatz graph and its seed list, comma separated."""
    rng = np.random.default_rng(seed)
    graph = watts_strogatz(node_count, 10, 0.1, rng)
    upper = sp.triu(graph.adjacency, k=1).tocoo()
    order = rng.permutation(upper.row.size)
    path = directory / f"ws{node_count}.txt"
    with path.open("w", encoding="utf-8") as file:
        file.write(f"# Watts–Strogatz graph, {node_count} nodes, k = 10, p = 0.1\n")
        np.savetxt(file, np.column_stack((upper.row[order], upper.col[order])), fmt="%d")
    seeds = np.sort(rng.choice(node_count, size=node_count // 100, replace=False))
    return path, ",".join(map(str, seeds.tolist()))


def run(command: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak resident MiB and standard output of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024, output


def repeated(command: list[str], times: int) -> tuple[float, float, bytes]:
    runs = [run(command) for _ in range(times)]
    return (
        statistics.median(r[0] for r in runs),
        max(r[1] for r in runs),
        runs[-1][2],
    )


def iotbill_command(path: Path, seeds: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "iotbill.entrypoints.cli",
        "adoption",
        "cascade",
        "--edges",
        str(path),
        "--seeds",
        seeds,
        "--threshold",
        THRESHOLD,
        "--json",
    ]


def against_ndlib(directory: Path, node_count: int, repeat: int) -> None:
    path, seeds = write_graph(directory, node_count, 2026)
    ours, our_memory, output = repeated(iotbill_command(path, seeds), repeat)
    adopters = json.loads(output)["adopters"]
    theirs, their_memory, their_output = run(
        [sys.executable, "-c", NDLIB, str(path), seeds, THRESHOLD]
    )
    same = sorted(adopters) == json.loads(their_output)
    print(f"cascade CLI against NDlib, {node_count:,} nodes, q = {THRESHOLD}, as processes:")
    print(f"  iotbill adoption cascade: {ours:.2f} s, {our_memory:.0f} MiB peak")
    print(f"  NDlib ThresholdModel:     {theirs:.2f} s, {their_memory:.0f} MiB peak")
    print(
        f"  ratio {theirs / ours:.1f}x (target at least 20x); "
        f"{len(adopters):,} adopters, same adopters: {same}"
    )


def against_floor(directory: Path, node_count: int, repeat: int) -> None:
    path, seeds = write_graph(directory, node_count, 2027)
    ours, our_memory, output = repeated(iotbill_command(path, seeds), repeat)
    adopters = len(json.loads(output)["adopters"])
    floor, floor_memory, _ = repeated([sys.executable, "-c", FLOOR, str(path)], repeat)
    print(f"cascade CLI against a read-and-build floor, {node_count:,} nodes, as processes:")
    print(f"  iotbill adoption cascade: {ours:.2f} s, {our_memory:.0f} MiB peak")
    print(f"  floor (pyarrow + scipy):  {floor:.2f} s, {floor_memory:.0f} MiB peak")
    print(
        f"  ratio {ours / floor:.2f}x in time, {our_memory / floor_memory:.2f}x in memory "
        f"(target within 3x of each); {adopters:,} adopters"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="graph size against NDlib")
    parser.add_argument("--big", type=int, default=1_000_000, help="graph size against the floor")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast process")
    arguments = parser.parse_args()
    compile_iotbill()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        against_ndlib(directory, arguments.nodes, arguments.repeat)
        against_floor(directory, arguments.big, arguments.repeat)


if __name__ == "__main__":
    main()
