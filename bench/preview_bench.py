"""Benchmark of ``iotbill preview`` as a process, against an exact pyarrow floor.

Writes 1,000,000 events (random UUID4 ids, 1,000 devices, a decimal ``m3`` and a
``sensor`` key, over January 2026, in random order; the file of
``bench/pricing_bench.py``) and runs, each as its own Python process, timed from
start to exit with its peak resident memory and its CPU time:

* ``iotbill preview --plan PLAN --events FILE --from 2026-01-01 --to 2026-02-01
  --json``: the whole command, imports, reading, pricing and output included
  (the plan sums ``m3``, takes its maximum and counts the events);
* the floor: a process that reads the same file with pyarrow's JSON reader, exactly
  (``m3`` as decimal128(19, 9), the timestamps as microseconds in UTC), and sums
  ``m3`` over the period, nothing else.

iotbill's modules are compiled to bytecode first, as an installed iotbill's are
(``bench/installed.py``). Both must give the same sum of ``m3``, which is checked and
printed. Targets: the preview within 2x of the floor in time, and under 400 MB peak.
On a loaded machine the CPU seconds (user + system, of the process) tell more than
the wall time.

Run: ``python bench/preview_bench.py [--events N] [--repeat R]``.
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

from installed import compile_iotbill
from pricing_bench import PLAN, write_events

FLOOR = """
import sys
import pyarrow as pa, pyarrow.compute as pc, pyarrow.json as pj
schema = pa.schema([
    ("id", pa.string()), ("type", pa.string()), ("device", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("properties", pa.struct([("m3", pa.decimal128(19, 9))])),
])
table = pj.read_json(sys.argv[1], parse_options=pj.ParseOptions(
    explicit_schema=schema, unexpected_field_behavior="infer"))
start = pa.scalar(1767225600000000, pa.timestamp("us", tz="UTC"))
end = pa.scalar(1769904000000000, pa.timestamp("us", tz="UTC"))
at = table["timestamp"]
inside = pc.and_(pc.greater_equal(at, start), pc.less(at, end))
m3 = pc.struct_field(table["properties"], "m3")
print(pc.sum(pc.filter(m3, inside)).as_py())
"""


def run(command: list[str]) -> tuple[float, float, float, bytes]:
    """Wall seconds, CPU seconds, peak resident MiB and standard output of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed with exit code {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


def repeated(command: list[str], times: int) -> tuple[float, float, float, bytes]:
    runs = [run(command) for _ in range(times)]
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs),
        runs[-1][3],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    compile_iotbill()
    with tempfile.TemporaryDirectory() as folder:
        events_file = Path(folder) / "events.jsonl"
        plan_file = Path(folder) / "plan.yaml"
        plan_file.write_text(PLAN)
        write_events(events_file, arguments.events)
        preview = [
            sys.executable, "-m", "iotbill.entrypoints.cli", "preview",
            "--plan", str(plan_file), "--events", str(events_file),
            "--from", "2026-01-01", "--to", "2026-02-01", "--json",
        ]  # fmt: skip
        ours, our_cpu, our_memory, output = repeated(preview, arguments.repeat)
        floor, floor_cpu, floor_memory, floor_output = repeated(
            [sys.executable, "-c", FLOOR, str(events_file)], arguments.repeat
        )
    result = json.loads(output)
    [water] = [line for line in result["lines"] if line["charge"] == "water"]
    same = water["quantity"] == f"{json.loads(floor_output):f}".rstrip("0").rstrip(".")
    print(f"iotbill preview against an exact pyarrow floor, {arguments.events:,} events:")
    print(
        f"  iotbill preview: {ours:.2f} s ({our_cpu:.2f} s CPU), {our_memory:.0f} MiB peak"
        f"; total {result['total']} {result['currency']}"
    )
    print(f"  floor (pyarrow): {floor:.2f} s ({floor_cpu:.2f} s CPU), {floor_memory:.0f} MiB peak")
    print(
        f"  ratio {ours / floor:.2f}x in time ({our_cpu / floor_cpu:.2f}x in CPU), "
        f"target within 2x; peak {our_memory:.0f} MiB, target under 400 MB; "
        f"same sum of m3: {same} ({water['quantity']})"
    )


if __name__ == "__main__":
    main()
