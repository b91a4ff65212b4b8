"""Benchmark of per-window caps: the numpy twin beside the reference and a floor.

Prints, for one meter's window of 1,000,000 events over a month in
America/Chicago (a DST change included), capped per local day and per local
hour:

* the reference (:func:`~iotbill.domain.metering.window_cap.capped_quantity_reference`,
  event by event), run on the first 100,000 events and scaled to the whole;
* the numpy twin (:func:`~iotbill.domain.metering.window_cap.capped_quantity`);
* a floor measured in the same run: ``np.bincount`` of the same values by a
  precomputed bucket of each event (float sums, so not exact; only a speed
  bound), which is what grouping a million numbers costs at the least.

Both results are checked equal on the 100,000 events. Target: the twin within
5x of the floor, and at least 50x faster than the reference.

Run: ``python bench/window_cap_bench.py [--events N]``. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.domain.metering import AGGREGATIONS, Window
from iotbill.domain.metering.window_cap import (
    WindowCap,
    capped_quantity,
    capped_quantity_reference,
    window_starts,
)
from iotbill.domain.periods import to_micros
from iotbill.domain.quantities import UNIT

ZONE = ZoneInfo("America/Chicago")
START = datetime(2026, 3, 1, tzinfo=ZONE)
END = datetime(2026, 4, 1, tzinfo=ZONE)
SAMPLE = 100_000


def best_of(runs: int, work: Callable[..., Any], *arguments: Any, **options: Any) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work(*arguments, **options)
        times.append(time.perf_counter() - began)
    return min(times)


def month_of(events: int, rng: np.random.Generator) -> Window:
    start, end = to_micros(START), to_micros(END)
    stamps = np.sort(rng.integers(start, end, size=events, dtype=np.int64))
    values = rng.integers(0, 40 * UNIT, size=events, dtype=np.int64)
    return Window(start, end, stamps, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    events = parser.parse_args().events
    window = month_of(events, np.random.default_rng(2026))
    sample = Window(window.start, window.end, window.timestamps[:SAMPLE], window.values[:SAMPLE])
    total = AGGREGATIONS["sum"]
    print(f"{events:,} events over March 2026 in {ZONE.key}")
    for per, most in (("day", Decimal(250_000)), ("hour", Decimal(12_000))):
        cap = WindowCap(per, most)  # type: ignore[arg-type]
        fast = capped_quantity(sample, total, cap, ZONE)
        assert fast == capped_quantity_reference(sample, total, cap, ZONE), per
        reference = best_of(1, capped_quantity_reference, sample, total, cap, ZONE)
        reference *= events / min(events, SAMPLE)
        twin = best_of(3, capped_quantity, window, total, cap, ZONE)
        edges = window_starts(window.start, window.end, per, ZONE)  # type: ignore[arg-type]
        buckets = np.searchsorted(edges, window.timestamps, side="right")
        floor = best_of(3, np.bincount, buckets, weights=window.values)
        print(
            f"  per {per:4}: twin {twin * 1000:8.1f} ms   floor {floor * 1000:6.1f} ms"
            f" ({twin / floor:4.1f}x)   reference {reference:6.2f} s"
            f" ({reference / twin:,.0f}x the twin)"
        )


if __name__ == "__main__":
    main()
