"""Writing a data product's cells to a file: CSV, JSON Lines or Parquet.

Every format has the same columns, one row per delivered cell: ``product``,
``group``, ``bucket`` (the bucket's start, UTC), ``value`` (exact: plain decimal
text in CSV and JSON Lines, ``decimal128(38, 9)`` in Parquet), ``events`` and
``owners`` (how many raw events and distinct owners made the cell).

:func:`write_cells` writes to a temporary file beside ``path``; :func:`publish`
moves it into place once the export is stored, and :func:`discard` removes it
when the export was refused, so a failed export leaves no file behind.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from iotbill.domain.models.data_products import Cell, DataProduct

COLUMNS = ("product", "group", "bucket", "value", "events", "owners")


def pending_path(path: Path) -> Path:
    """Where :func:`write_cells` writes before :func:`publish`."""
    return path.with_name(f".{path.name}.partial")


def write_cells(path: Path, format: str, product: DataProduct, cells: Sequence[Cell]) -> None:
    """Write ``cells`` of ``product`` as ``format`` to :func:`pending_path` of ``path``."""
    target = pending_path(path)
    if format == "parquet":
        _parquet(target, product, cells)
        return
    with target.open("w", newline="", encoding="utf-8") as file:
        if format == "csv":
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            for cell in cells:
                view = cell.as_json(product.code)
                writer.writerow([view[column] for column in COLUMNS])
        else:
            for cell in cells:
                file.write(json.dumps(cell.as_json(product.code)) + "\n")


def publish(path: Path) -> None:
    """Move the written file into place at ``path``."""
    os.replace(pending_path(path), path)


def discard(path: Path) -> None:
    """Remove what :func:`write_cells` wrote for ``path``, if anything."""
    pending_path(path).unlink(missing_ok=True)


def _parquet(target: Path, product: DataProduct, cells: Sequence[Cell]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("product", pa.string()),
            ("group", pa.string()),
            ("bucket", pa.timestamp("us", tz="UTC")),
            ("value", pa.decimal128(38, 9)),
            ("events", pa.int64()),
            ("owners", pa.int64()),
        ]
    )
    nano = Decimal(1).scaleb(-9)
    table = pa.table(
        {
            "product": [product.code] * len(cells),
            "group": [cell.group for cell in cells],
            "bucket": [cell.bucket for cell in cells],
            "value": [cell.value.quantize(nano) for cell in cells],
            "events": [cell.events for cell in cells],
            "owners": [cell.owners for cell in cells],
        },
        schema=schema,
    )
    pq.write_table(table, target)
