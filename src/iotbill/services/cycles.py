"""Python's cycle collector, paused while a batch makes many objects that form no cycle.

A bill run's batch or an ingest's stretch makes hundreds of thousands of objects
(events, rows, lines, invoices), freed by their reference counts as it ends. The
collector, run every few hundred new objects, walks the young ones each time: a
list being filled is walked again and again as it grows. That took a tenth of a
bill run, and of an ingest. What little a batch leaves in a cycle is collected
after it, once the collector runs again, or by :func:`collect` in a long run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_collection() -> Iterator[None]:
    """The cycle collector paused for the block, then as it was (paused already by the
    caller, or by another thread's block that began first: it stays so)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def collect() -> None:
    """Collect now what is left in cycles, while the collector is paused: a long paused
    run does so now and then, so that what it leaves never adds up."""
    gc.collect()
