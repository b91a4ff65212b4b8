"""Bulk import of customers and devices: every row checked, nothing changed silently.

``import_customers(uow, rows)`` and ``import_devices(uow, rows)`` take the
rows of a file (:mod:`iotbill.adapters.record_files`: line number and fields)
and store the new ones, in one transaction. Each row is, exactly one of:

* **created**: valid and new;
* **unchanged**: the store already holds exactly this (a re-run of the same
  file creates nothing and changes nothing), or an earlier line of the file
  says the same;
* **rejected**: invalid, with its line and every problem at its field
  (``customers.csv:7: currency: unknown ISO 4217 currency code 'EUX'``);
  also a line whose id an earlier line gave other values;
* **a conflict**: valid, but the store holds something else under its id
  (another tax rate; a device owned by another customer, or from another
  instant). Nothing is changed: ``customers update`` and ``devices move`` do
  that, on purpose, one at a time.

Without ``atomic`` the created rows are stored and the others reported; with
``atomic`` one rejected or conflicting row stores nothing at all.

The fields are those the ``list --json`` commands print, so a list exported
can be imported elsewhere: a customer row has ``id``, ``currency``,
``timezone`` and optionally ``name`` (default: the id), ``billing_address``,
``tax_rate`` (a percentage, default 0) and ``locale`` (of its documents,
default ``en``); a device row has ``id``,
``customer`` and ``from`` (a date, meaning local midnight in the customer's
zone, or an instant with a UTC offset). A device row matches a stored device
whose ownership history holds that customer from that instant, so a device
moved since it was imported still matches its import row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Generic, TypeVar

from iotbill.domain.customers import DEFAULT_LOCALE, Customer, Device, Ownership, locale_problems
from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.events import Rejection
from iotbill.domain.periods import local_midnight, require_aware, zone
from iotbill.domain.quantities import decimal_text
from iotbill.services.customers import unknown_locale_problems
from iotbill.services.ports import UnitOfWork

CUSTOMER_FIELDS = ("id", "name", "currency", "timezone", "billing_address", "tax_rate", "locale")
DEVICE_FIELDS = ("id", "customer", "from")
Row = tuple[int, Mapping[str, Any]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: how many rows were created and unchanged (already stored), and
    the rows rejected and in conflict, each with its line and reason; ``stored`` is false
    when an atomic import stored nothing."""

    created: int
    unchanged: int
    rejected: tuple[Rejection, ...]
    conflicts: tuple[Rejection, ...]
    stored: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
            "conflicts": [{"line": r.line, "reason": r.reason} for r in self.conflicts],
            "stored": self.stored,
        }


@dataclass
class _Sorting(Generic[T]):
    """Rows sorted into new items (by id, with their line), repeats, rejections, conflicts."""

    new: dict[str, tuple[int, T]] = field(default_factory=dict)
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    conflicts: list[Rejection] = field(default_factory=list)

    def reject(self, line: int, problems: Sequence[Problem]) -> None:
        self.rejected.append(Rejection(line, "; ".join(str(problem) for problem in problems)))

    def report(self, uow: UnitOfWork, atomic: bool, write: Any) -> ImportReport:
        refused = atomic and bool(self.rejected or self.conflicts)
        if not refused and self.new:
            write([item for _, item in self.new.values()])
            uow.commit()
        return ImportReport(
            0 if refused else len(self.new),
            self.unchanged,
            tuple(sorted(self.rejected, key=lambda r: r.line)),
            tuple(sorted(self.conflicts, key=lambda r: r.line)),
            stored=not refused,
        )


def import_customers(
    uow: UnitOfWork,
    rows: Sequence[Row],
    *,
    unreadable: Sequence[Rejection] = (),
    atomic: bool = False,
) -> ImportReport:
    """Store the new customers of ``rows`` (see the module for the rules)."""
    sorting: _Sorting[Customer] = _Sorting(rejected=list(unreadable))
    parsed: list[tuple[int, Customer]] = []
    for line, fields in rows:
        try:
            parsed.append((line, _customer(fields)))
        except InvalidInput as error:
            sorting.reject(line, error.problems)
    with uow:
        stored = uow.customers.find([customer.id for _, customer in parsed])
        for line, customer in parsed:
            _sort(sorting, line, customer.id, customer, stored.get(customer.id), _customer_changes)
        return sorting.report(uow, atomic, uow.customers.add_many)


def import_devices(
    uow: UnitOfWork,
    rows: Sequence[Row],
    *,
    unreadable: Sequence[Rejection] = (),
    atomic: bool = False,
) -> ImportReport:
    """Store the new devices of ``rows`` (see the module for the rules).

    The customer a row names must be stored already (import customers first).
    """
    sorting: _Sorting[Device] = _Sorting(rejected=list(unreadable))
    read: list[tuple[int, str, str, date | datetime]] = []
    for line, fields in rows:
        try:
            read.append((line, *_device_fields(fields)))
        except InvalidInput as error:
            sorting.reject(line, error.problems)
    with uow:
        uow.devices.hold()  # as a move does: an ingest sees all of this import or none
        customers = uow.customers.find(sorted({customer for _, _, customer, _ in read}))
        stored = uow.devices.find([id for _, id, _, _ in read])
        for line, id, customer_id, moment in read:
            customer = customers.get(customer_id)
            if customer is None:
                sorting.reject(
                    line,
                    [Problem("customer", f"unknown customer {customer_id!r} (import it first)")],
                )
                continue
            start = moment if isinstance(moment, datetime) else _midnight(moment, customer.timezone)
            ownership = Ownership(customer.id, start)
            held = stored.get(id)
            if held is not None and id not in sorting.new and ownership in held.ownership:
                sorting.unchanged += 1  # the common case of a re-run, decided cheaply
                continue
            device = Device(id, (ownership,))
            _sort(sorting, line, id, device, held, _device_changes)
        return sorting.report(uow, atomic, uow.devices.add_many)


def _sort(
    sorting: _Sorting[T],
    line: int,
    id: str,
    item: T,
    stored: T | None,
    changes: Any,
) -> None:
    """File the row at ``line`` (``item`` under ``id``) into ``sorting``."""
    earlier = sorting.new.get(id)
    if earlier is not None:
        if earlier[1] == item:
            sorting.unchanged += 1
        else:
            sorting.reject(
                line,
                [Problem("id", f"{id!r} is on line {earlier[0]} too, with other values")],
            )
        return
    if stored is None:
        sorting.new[id] = (line, item)
        return
    differences = changes(stored, item)
    if not differences:
        sorting.unchanged += 1
        return
    sorting.conflicts.append(Rejection(line, f"{id!r} is stored with other values: {differences}"))


def _customer(fields: Mapping[str, Any]) -> Customer:
    problems = [
        Problem(name, f"unknown field (a customer row has {', '.join(CUSTOMER_FIELDS)})")
        for name in fields
        if name not in CUSTOMER_FIELDS
    ]
    texts = {
        name: _text(fields, name, problems, required=name in ("id", "currency", "timezone"))
        for name in ("id", "name", "currency", "timezone", "billing_address", "locale")
    }
    tax_rate = fields.get("tax_rate", Decimal(0))
    locale = texts["locale"] or DEFAULT_LOCALE
    if not locale_problems(locale):
        problems.extend(unknown_locale_problems(locale))
    if problems:
        raise InvalidInput(problems)
    try:
        return Customer.create(
            id=texts["id"],
            name=texts["name"] or texts["id"],
            currency_code=texts["currency"],
            timezone=texts["timezone"],
            billing_address=texts["billing_address"],
            tax_rate=tax_rate,
            locale=locale,
        )
    except InvalidInput as error:
        raise InvalidInput([_renamed(problem) for problem in error.problems]) from None


def _renamed(problem: Problem) -> Problem:
    names = {"currency_code": "currency"}
    return Problem(names.get(problem.location, problem.location), problem.message)


def _device_fields(fields: Mapping[str, Any]) -> tuple[str, str, date | datetime]:
    problems = [
        Problem(name, f"unknown field (a device row has {', '.join(DEVICE_FIELDS)})")
        for name in fields
        if name not in DEVICE_FIELDS
    ]
    id = _text(fields, "id", problems, required=True)
    customer = _text(fields, "customer", problems, required=True)
    start = _text(fields, "from", problems, required=True)
    moment: date | datetime | None = None
    if start:
        try:
            moment = _moment(start)
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems)
    assert moment is not None
    return id, customer, moment


def _text(fields: Mapping[str, Any], name: str, problems: list[Problem], *, required: bool) -> str:
    value = fields.get(name)
    if value is None:
        if required:
            problems.append(Problem(name, "is required"))
        return ""
    if not isinstance(value, str):
        problems.append(Problem(name, f"must be a string, not {type(value).__name__}"))
        return ""
    if required and not value.strip():
        problems.append(Problem(name, "must be a non-empty string"))
    return value


def _moment(text: str) -> date | datetime:
    """A date, or an instant with a UTC offset (as the command line reads them)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.at(
            "from", f"{text!r} is neither a date (2026-01-31) nor a date and time with an offset"
        ) from None
    if instant.tzinfo is None:
        raise InvalidInput.at("from", f"{text!r} has no UTC offset: add one or give a date")
    return require_aware(instant, "from")


@lru_cache(maxsize=4096)
def _midnight(day: date, timezone: str) -> datetime:
    return local_midnight(day, zone(timezone))


def _customer_changes(stored: Customer, new: Customer) -> str:
    pairs = [
        ("name", stored.name, new.name),
        ("currency", stored.currency.code, new.currency.code),
        ("timezone", stored.timezone, new.timezone),
        ("billing_address", stored.billing_address, new.billing_address),
    ]
    differences = [
        f"{name} is {old!r}, the file says {given!r}" for name, old, given in pairs if old != given
    ]
    if stored.tax_rate != new.tax_rate:
        old, given = decimal_text(stored.tax_rate), decimal_text(new.tax_rate)
        differences.append(f"tax_rate is {old}, the file says {given}")
    if not differences:
        return ""
    return "; ".join(differences) + " (customers update changes a customer)"


def _device_changes(stored: Device, new: Device) -> str:
    (wanted,) = new.ownership
    if wanted in stored.ownership:
        return ""
    history = ", ".join(
        f"{entry.customer_id!r} from {entry.start.isoformat()}" for entry in stored.ownership
    )
    return (
        f"owned by {history}; the file says {wanted.customer_id!r} from "
        f"{wanted.start.isoformat()} (devices move gives a device another owner)"
    )
