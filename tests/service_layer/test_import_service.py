"""Bulk import of customers and devices, on every store: every row checked and reported
with its line and field, re-runs change nothing, a differing row is a conflict."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.adapters.record_files import read_rows
from iotbill.domain.customers import Ownership
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.events import Rejection
from iotbill.services.imports import (
    CUSTOMER_FIELDS,
    DEVICE_FIELDS,
    ImportReport,
    import_customers,
    import_devices,
)
from tests.service_layer.conftest import NewUnitOfWork

CUSTOMERS = """\
id,name,currency,timezone,billing_address,tax_rate
acme,Acme Water,USD,America/New_York,"1 Main St, Springfield",8.875
bolt,,EUR,Europe/Berlin,,19
"""
DEVICES = """\
{"id": "pump-1", "customer": "acme", "from": "2026-01-01"}
{"id": "pump-2", "customer": "acme", "from": "2026-01-15T08:00:00+01:00"}
{"id": "meter-1", "customer": "bolt", "from": "2026-01-01"}
"""


def _customers(uow: NewUnitOfWork, text: str, tmp_path: Path, **options: bool) -> ImportReport:
    path = tmp_path / "customers.csv"
    path.write_text(text)
    read = read_rows(str(path), CUSTOMER_FIELDS)
    unreadable = [Rejection(line, reason) for line, reason in read.unreadable]
    return import_customers(uow(), read.rows, unreadable=unreadable, **options)


def _devices(uow: NewUnitOfWork, text: str, tmp_path: Path, **options: bool) -> ImportReport:
    path = tmp_path / "devices.jsonl"
    path.write_text(text)
    read = read_rows(str(path), DEVICE_FIELDS)
    unreadable = [Rejection(line, reason) for line, reason in read.unreadable]
    return import_devices(uow(), read.rows, unreadable=unreadable, **options)


def _lines(rejections: tuple[Rejection, ...]) -> list[tuple[int, str]]:
    return [(rejection.line, rejection.reason) for rejection in rejections]


def test_customers_and_devices_are_imported_and_a_rerun_changes_nothing(
    uow: NewUnitOfWork, tmp_path: Path
) -> None:
    first = _customers(uow, CUSTOMERS, tmp_path)
    devices = _devices(uow, DEVICES, tmp_path)
    again = _customers(uow, CUSTOMERS, tmp_path)
    devices_again = _devices(uow, DEVICES, tmp_path)

    assert (first.created, first.unchanged, first.rejected, first.conflicts) == (2, 0, (), ())
    assert (devices.created, devices_again.created, devices_again.unchanged) == (3, 0, 3)
    assert (again.created, again.unchanged) == (0, 2)
    with uow() as unit:
        acme, bolt = unit.customers.list()
        stored = unit.devices.find(["pump-1", "pump-2", "meter-1"])
    assert (acme.name, acme.billing_address, acme.tax_rate) == (
        "Acme Water",
        "1 Main St, Springfield",
        Decimal("8.875"),
    )
    assert (bolt.name, bolt.currency.code, bolt.tax_rate) == ("bolt", "EUR", Decimal(19))
    # A date is local midnight in the customer's zone; an instant is itself.
    assert stored["pump-1"].ownership == (Ownership("acme", datetime(2026, 1, 1, 5, tzinfo=UTC)),)
    assert stored["pump-2"].ownership == (Ownership("acme", datetime(2026, 1, 15, 7, tzinfo=UTC)),)
    assert stored["meter-1"].ownership == (
        Ownership("bolt", datetime(2025, 12, 31, 23, tzinfo=UTC)),
    )


def test_every_bad_row_is_reported_with_its_line_and_field_and_the_good_ones_stored(
    uow: NewUnitOfWork, tmp_path: Path
) -> None:
    text = """\
id,name,currency,timezone,billing_address,tax_rate
acme,Acme,USD,America/New_York,,8.875
bad,,XXX,Mars/Olympus,,120
,,USD,UTC,,0
acme,Acme,USD,America/New_York,,8.875
acme,Acme,USD,America/New_York,,9
x,y,USD,UTC,,0,extra
"""

    report = _customers(uow, text, tmp_path)

    assert report.created == 1 and report.unchanged == 1  # line 5 repeats line 2 exactly
    assert _lines(report.rejected) == [
        (
            3,
            "currency: unknown ISO 4217 currency code 'XXX'; timezone: unknown IANA time zone"
            " 'Mars/Olympus'; tax_rate: must be a percentage from 0 to 100, not 120",
        ),
        (4, "id: is required"),
        (6, "id: 'acme' is on line 2 too, with other values"),
        (7, "has 7 cells, the header names 6 columns"),
    ]
    with uow() as unit:
        assert [customer.id for customer in unit.customers.list()] == ["acme"]


def test_atomic_stores_nothing_when_any_row_is_bad(uow: NewUnitOfWork, tmp_path: Path) -> None:
    _customers(uow, CUSTOMERS, tmp_path)
    text = DEVICES + '{"id": "pump-9", "customer": "nobody", "from": "2026-01-01"}\nnot json\n'

    report = _devices(uow, text, tmp_path, atomic=True)

    assert (report.created, report.stored) == (0, False)
    assert _lines(report.rejected) == [
        (4, "customer: unknown customer 'nobody' (import it first)"),
        (5, "is not valid JSON (expecting value at column 1)"),
    ]
    with uow() as unit:
        assert unit.devices.list() == []


def test_a_row_that_differs_from_the_store_is_a_conflict_never_a_change(
    uow: NewUnitOfWork, tmp_path: Path
) -> None:
    _customers(uow, CUSTOMERS, tmp_path)
    _devices(uow, DEVICES, tmp_path)
    changed_rate = CUSTOMERS.replace(",8.875", ",9.5")
    moved = DEVICES.replace('"pump-1", "customer": "acme"', '"pump-1", "customer": "bolt"')

    customers = _customers(uow, changed_rate, tmp_path)
    devices = _devices(uow, moved, tmp_path)

    assert (customers.created, customers.unchanged) == (0, 1)
    assert _lines(customers.conflicts) == [
        (2, "'acme' is stored with other values: tax_rate is 8.875, the file says 9.5"
            " (customers update changes a customer)"),
    ]  # fmt: skip
    assert (devices.created, devices.unchanged) == (0, 2)
    assert _lines(devices.conflicts) == [
        (1, "'pump-1' is stored with other values: owned by 'acme' from"
            " 2026-01-01T05:00:00+00:00; the file says 'bolt' from 2025-12-31T23:00:00+00:00"
            " (devices move gives a device another owner)"),
    ]  # fmt: skip
    with uow() as unit:
        assert unit.customers.get("acme").tax_rate == Decimal("8.875")
        assert unit.devices.get("pump-1").owner == "acme"


def test_device_rows_are_checked_field_by_field(uow: NewUnitOfWork, tmp_path: Path) -> None:
    _customers(uow, CUSTOMERS, tmp_path)
    text = """\
{"id": "a", "customer": "acme"}
{"id": 7, "customer": "acme", "from": "2026-01-01", "colour": "red"}
{"id": "b", "customer": "acme", "from": "2026-01-01T00:00:00"}
{"id": "c", "customer": "acme", "from": "next tuesday"}
[1, 2]
"""

    report = _devices(uow, text, tmp_path)

    assert report.created == 0
    assert _lines(report.rejected) == [
        (1, "from: is required"),
        (2, "colour: unknown field (a device row has id, customer, from); id: must be a string,"
            " not int"),
        (3, "from: '2026-01-01T00:00:00' has no UTC offset: add one or give a date"),
        (4, "from: 'next tuesday' is neither a date (2026-01-31) nor a date and time with an"
            " offset"),
        (5, "must be a JSON object, not an array"),
    ]  # fmt: skip


def test_the_file_as_a_whole_is_refused_for_a_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("id,currency,zone,id\nacme,USD,UTC,acme\n")

    with pytest.raises(InvalidInput) as raised:
        read_rows(str(path), CUSTOMER_FIELDS)

    assert str(raised.value) == (
        f"{path}:1: unknown column 'zone'; column 'id' repeats (the columns are id, name,"
        " currency, timezone, billing_address, tax_rate, locale)"
    )


def test_adding_many_refuses_a_taken_id(uow: NewUnitOfWork, tmp_path: Path) -> None:
    _customers(uow, CUSTOMERS, tmp_path)
    with uow() as unit:
        acme = unit.customers.get("acme")
        with pytest.raises(Conflict, match="customer 'acme' already exists"):
            unit.customers.add_many([acme])
