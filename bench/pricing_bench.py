"""Benchmark of the pricing core: aggregation speed and a whole ``iotbill preview``.

Prints, for 1,000,000 events:

* for each aggregation, on events already decoded into the core's in-memory
  columns: the time of selecting the meter's events and aggregating and pricing
  them (events/s), then of aggregating and pricing the selected window alone,
  beside a vectorised numpy floor of the same aggregation over the same columns
  measured in the same run: ``bincount`` for sums, counts, the time-weighted
  average and the increase, ``ufunc.at`` for max and min, a sort for latest and
  unique counts. Target: every meter's aggregation within 5x of its floor.
* the wall time of a whole ``iotbill preview`` over a 1,000,000-line JSON
  Lines file, beside the time the standard ``json`` module alone needs to
  parse that file. Target: under 5 s.

Run: ``python bench/pricing_bench.py [--events N]``. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from iotbill.adapters.event_files import read_event_table
from iotbill.domain.catalog import Charge, Meter
from iotbill.domain.metering import AGGREGATIONS, PropertyKind, Window
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period
from iotbill.domain.pricing import PerUnit, Usage

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
PLAN = """\
code: bench
name: Benchmark plan
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00"}]
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
  - {code: peak, event_type: pump.flow, aggregation: max, property: m3}
  - {code: pings, event_type: pump.flow, aggregation: count}
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 100000, unit_price: "0.50"}, {up_to: null, unit_price: "0.30"}]
  - {code: peak, meter: peak, model: per_unit, unit_price: "2.00"}
  - {code: pings, meter: pings, model: package, package_size: 1000, price: "1.00"}
"""


def write_events(path: Path, count: int, seed: int = 1) -> None:
    """``count`` events with random UUID4 ids over January 2026, in random order."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, int((END - START).total_seconds()), size=count)
    tenths = rng.integers(0, 1000, size=count)
    devices = rng.integers(0, 1000, size=count)
    random_bytes = rng.bytes(16 * count)
    with path.open("w") as out:
        for i in range(count):
            stamp = (START + timedelta(seconds=int(seconds[i]))).strftime("%Y-%m-%dT%H:%M:%SZ")
            event_id = uuid.UUID(bytes=random_bytes[16 * i : 16 * i + 16], version=4)
            out.write(
                f'{{"id":"{event_id}","type":"pump.flow","device":"pump-{devices[i]:04d}",'
                f'"timestamp":"{stamp}","properties":{{"m3":{tenths[i] / 10},'
                f'"sensor":"s{devices[i] % 50}"}}}}\n'
            )


def best_of(repeats: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def floor_of(name: str, codes: np.ndarray, window: Window) -> Callable[[], object]:
    """A vectorised numpy aggregation of the same kind over the same columns: bincount for
    sums, counts and averages (weighted by time for the time-weighted ones), ``ufunc.at``
    for max and min, a sort for latest and unique
    counts."""
    values, stamps, keys = window.values, window.timestamps, window.keys
    groups = codes[: window.count]
    floors: dict[str, Callable[[], object]] = {
        "count": lambda: np.bincount(groups),
        "sum": lambda: np.bincount(groups, weights=values),
        "max": lambda: np.maximum.at(np.zeros(1, np.int64), groups, values),
        "min": lambda: np.minimum.at(np.zeros(1, np.int64), groups, values),
        "unique_count": lambda: np.unique(keys).size,
        "latest": lambda: values[np.lexsort((stamps, groups))[-1:]],
        "average": lambda: np.bincount(groups, weights=values) / np.bincount(groups),
        "time_weighted_average": lambda: np.bincount(
            groups, weights=values * np.diff(np.append(stamps, stamps[-1]))
        ),
        "weighted_sum": lambda: np.bincount(groups, weights=values * (window.end - stamps)),
        "increase": lambda: np.bincount(groups[1:], weights=np.diff(values).clip(0)),
    }
    return floors[name]


def bench_aggregations(events_file: Path, count: int) -> None:
    print(f"\nSelection, aggregation and pricing on {count:,} decoded events (best of 5):")
    table = read_event_table(str(events_file))
    period = Period(START, END)
    model = PerUnit(Decimal("0.01"))
    codes = table.type_codes.astype(np.intp)
    header = (
        f"{'aggregation':<24}{'selected s':>11}{'events/s':>14}"
        f"{'aggregate s':>12}{'floor s':>10}{'x floor':>9}"
    )
    print(header)
    for name, aggregation in AGGREGATIONS.items():
        prop = None
        if aggregation.property_kind is PropertyKind.NUMBER:
            prop = "m3"
        elif aggregation.property_kind is PropertyKind.KEY:
            prop = "sensor"
        meter = Meter(name, "pump.flow", name, prop)
        charge = Charge(name, model, name)
        (usage,) = select(table, meter, period)  # decodes the property column once
        window = usage.window

        def rate(meter=meter, aggregation=aggregation, charge=charge) -> None:
            for selected in select(table, meter, period):
                quantity = aggregation.aggregate(selected.window)
                charge.model.price(Usage(quantity, selected.window.values))

        def aggregate(window=window, aggregation=aggregation, charge=charge) -> None:
            charge.model.price(Usage(aggregation.aggregate(window), window.values))

        seconds = best_of(5, rate)
        aggregate_seconds = best_of(5, aggregate)
        floor_seconds = best_of(5, floor_of(name, codes, window))
        print(
            f"{name:<24}{seconds:>11.4f}{window.count / seconds:>14,.0f}"
            f"{aggregate_seconds:>12.4f}{floor_seconds:>10.4f}"
            f"{aggregate_seconds / floor_seconds:>9.1f}"
        )
    print("target: every meter's aggregation within 5x of its numpy floor")


def bench_preview(events_file: Path, plan_file: Path, count: int) -> None:
    print(f"\nWhole `iotbill preview` over a {count:,}-line JSON Lines file:")
    started = time.perf_counter()
    with events_file.open() as lines:
        for line in lines:
            json.loads(line)
    json_seconds = time.perf_counter() - started
    command = [
        sys.executable, "-m", "iotbill.entrypoints.cli", "preview",
        "--plan", str(plan_file), "--events", str(events_file),
        "--from", "2026-01-01", "--to", "2026-02-01", "--json",
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    preview_seconds = time.perf_counter() - started
    total = json.loads(result.stdout)["total"]
    print(f"iotbill preview wall time      {preview_seconds:8.2f} s   (total {total} USD)")
    print(f"floor: stdlib json.loads alone {json_seconds:8.2f} s")
    print(f"ratio                          {preview_seconds / json_seconds:8.2f}x")
    print("target: under 5 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-preview", action="store_true", help="meters only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        events_file = Path(folder) / "events.jsonl"
        plan_file = Path(folder) / "plan.yaml"
        plan_file.write_text(PLAN)
        started = time.perf_counter()
        write_events(events_file, args.events)
        print(f"generated {args.events:,} events in {time.perf_counter() - started:.1f} s")
        bench_aggregations(events_file, args.events)
        if not args.no_preview:
            bench_preview(events_file, plan_file, args.events)


if __name__ == "__main__":
    main()
