"""Customers and their devices.

A customer has a currency, an IANA time zone, a billing address, a tax
rate and a locale (one that the invoice documents can be written in: Babel's
CLDR data knows it). A device belongs to one customer from an instant and may move to another
from a later instant; its history is kept, so events follow the device's owner
at their own timestamps, including events already stored when a move is
recorded after the fact. A move that would give a device two owners at once
(one starting at or before the current owner's start), or change what a
finalized invoice counted, is refused and nothing is stored.

Dates are :data:`~iotbill.services.moments.Moment` s: a date is local midnight
in the zone of the customer who receives the device. Each function is one unit
of work: it enters the (not yet entered) ``uow`` it is given, validates
everything, then writes; an error stores nothing. A problem with the input,
including naming a customer that does not exist, is
:class:`~iotbill.domain.errors.InvalidInput` at the parameter's name; the
device a command acts on being unknown is
:class:`~iotbill.domain.errors.NotFound`; an id already taken is
:class:`~iotbill.domain.errors.Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from iotbill.domain.customers import DEFAULT_LOCALE, Customer, Device, locale_problems
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, Problem, ProblemCollector
from iotbill.services.moments import Moment, collect_instant
from iotbill.services.ports import Paging, UnitOfWork


def add_customer(
    uow: UnitOfWork,
    *,
    id: str,
    name: str,
    currency: str,
    timezone: str,
    billing_address: str = "",
    tax_rate: str | Decimal = Decimal(0),
    net_terms: int | str = 0,
    locale: str = DEFAULT_LOCALE,
) -> Customer:
    """Store a new customer; every problem with the input is reported at once.

    ``tax_rate`` is a percentage written exactly (``"19"``, ``"8.875"``);
    ``net_terms`` the days an invoice is due after it is finalized;
    ``locale`` a CLDR locale (``de_DE``) that Babel knows.
    """
    problems = ProblemCollector()
    try:
        customer = Customer.create(
            id=id,
            name=name,
            currency_code=currency,
            timezone=timezone,
            billing_address=billing_address,
            tax_rate=tax_rate,
            locale=locale,
            net_terms=net_terms,
        )
    except InvalidInput as error:
        problems.extend(error.problems)
    if not locale_problems(locale):
        problems.extend(unknown_locale_problems(locale))
    problems.raise_if_any()
    with uow:
        uow.customers.add(customer)
        uow.commit()
    return customer


def set_customer_locale(uow: UnitOfWork, id: str, locale: str) -> Customer:
    """Write the customer's documents in ``locale`` from now on (finalized ones too:
    a locale changes how amounts are spelled, never what they are)."""
    problems = ProblemCollector()
    problems.extend(locale_problems(locale))
    if not problems.problems:
        problems.extend(unknown_locale_problems(locale))
    problems.raise_if_any()
    with uow:
        customer = replace(uow.customers.get(id), locale=locale)
        uow.customers.save(customer)
        uow.commit()
    return customer


def unknown_locale_problems(locale: str) -> list[Problem]:
    """A problem at ``locale`` if Babel has no CLDR data for it (a well-formed one)."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return [Problem("locale", f"{locale!r} is not a locale iotbill can write documents in")]
    return []


def list_customers(uow: UnitOfWork, paging: Paging[str] | None = None) -> list[Customer]:
    """Every customer by id, or the page ``paging`` asks for."""
    with uow:
        return uow.customers.list(paging)


def get_customer(uow: UnitOfWork, id: str) -> Customer:
    """The customer ``id``; :class:`NotFound` if there is none."""
    with uow:
        return uow.customers.get(id)


def add_device(uow: UnitOfWork, id: str, *, customer: str, start: Moment) -> Device:
    """Store device ``id``, owned by ``customer`` from ``start``.

    A device id that exists is a :class:`Conflict` (``move_device`` changes owners).
    """
    with uow:
        problems = ProblemCollector()
        if not id.strip():
            problems.add("id", "must be a non-empty string")
        owner = find_customer(uow, customer, "customer", problems)
        begins = collect_instant(start, owner, "start", problems)
        problems.raise_if_any()
        assert owner is not None and begins is not None
        held = uow.devices.find([id]).get(id)
        if held is not None:
            raise Conflict(
                f"device {id!r} already exists, owned by {held.owner!r}"
                " (to give it another owner: devices move)"
            )
        device = Device.create(id, owner.id, begins)
        uow.devices.add(device)
        uow.commit()
    return device


_USAGE_LINES = ("usage", "minimum", "commitment")
"""The kinds of invoice line that events priced."""


@dataclass(frozen=True, slots=True)
class MovedDevice:
    """A device after a move, and how many of its stored events passed to the new owner."""

    device: Device
    events: int


def move_device(uow: UnitOfWork, id: str, *, to_customer: str, at: Moment) -> MovedDevice:
    """Device ``id`` owned by ``to_customer`` from ``at`` on.

    ``at`` must be after the current owner's start (a device never has two
    owners at once) and ``to_customer`` must differ from the current owner.
    Events of the device already stored from ``at`` on (a move recorded after
    the fact) pass to the new owner, as they would have had the move been
    recorded first, unless one of them falls in a period already invoiced,
    and finalized, to either customer: a finalized invoice never changes, so
    such a move is refused, saying from when the device may move. Any problem
    is :class:`InvalidInput` naming each, and nothing is stored.
    """
    with uow:
        uow.devices.hold(to_move=True)  # batches of events being stored are stored first
        device = uow.devices.get(id)
        problems = ProblemCollector()
        owner = find_customer(uow, to_customer, "to_customer", problems)
        moved_at = collect_instant(at, owner, "at", problems)
        problems.raise_if_any()
        assert owner is not None and moved_at is not None
        try:
            moved = device.move(owner.id, moved_at)
        except InvalidInput as error:
            raise InvalidInput(_renamed(error)) from None
        first = uow.events.earliest_of_device(id, device.owner, moved_at)
        events = 0
        if first is not None:
            _refuse_moving_invoiced_events(uow, device, owner.id, first)
            events = uow.events.reassign(id, device.owner, moved_at, owner.id)
        uow.devices.save(moved)
        uow.commit()
    return MovedDevice(moved, events)


def retire_device(uow: UnitOfWork, id: str, *, at: Moment) -> Device:
    """Device ``id`` out of service from ``at`` on (a date: its owner's midnight): usage it
    reports from then on is refused at ingest, and it cannot move again.

    ``at`` must be after its owner's start, and after every event of it already stored:
    a retired device has no usage after its retirement, so none is left unbilled or billed
    against the rule. :class:`InvalidInput` naming the problem (nothing stored);
    :class:`NotFound` for an unknown device; :class:`Conflict` if it is retired already.
    """
    with uow:
        uow.devices.hold(to_move=True)  # batches of events being stored are stored first
        device = uow.devices.get(id)
        problems = ProblemCollector()
        retired_at = collect_instant(at, uow.customers.get(device.owner), "at", problems)
        problems.raise_if_any()
        assert retired_at is not None
        retired = device.retire(retired_at)
        after = uow.events.earliest_of_device(id, device.owner, retired_at)
        if after is not None:
            raise InvalidInput.at(
                "at",
                f"device {id!r} has usage stored at {after.isoformat()}, from"
                f" {retired_at.isoformat()} on: a retired device reports no usage, so retire it"
                " after its last event",
            )
        uow.devices.save(retired)
        uow.commit()
    return retired


def _refuse_moving_invoiced_events(
    uow: UnitOfWork, device: Device, to_customer: str, first: datetime
) -> None:
    """:class:`InvalidInput` if an event from ``first`` on may lie in a period whose usage
    either owner has a finalized (or paid) invoice for.

    Usage is billed on the invoice that closes its period; an invoice of fees
    alone (the advance fees of a first period) counts no events.
    """
    invoiced = [
        invoice
        for customer in (device.owner, to_customer)
        for invoice in uow.invoices.list(customer=customer)
        if invoice.status in ("finalized", "paid")
        and invoice.period.end > first
        and any(line.kind in _USAGE_LINES for line in invoice.lines)
    ]
    if invoiced:
        latest = max(invoiced, key=lambda invoice: invoice.period.end)
        raise InvalidInput.at(
            "at",
            f"device {device.id!r} has events stored from {first.isoformat()} on, in a period"
            f" already invoiced to {latest.customer_id!r} ({latest.number}:"
            f" {latest.period.start.isoformat()} to {latest.period.end.isoformat()}), and a"
            f" finalized invoice never changes: move it from {latest.period.end.isoformat()}"
            " or later",
        )


def list_devices(
    uow: UnitOfWork, *, customer: str | None = None, paging: Paging[str] | None = None
) -> list[Device]:
    """Every device, or those that ``customer`` ever owned, by id (the page ``paging`` asks
    for)."""
    with uow:
        return uow.devices.list(customer, paging)


def find_customer(
    uow: UnitOfWork, id: str, location: str, problems: ProblemCollector
) -> Customer | None:
    """The customer ``id``, or ``None`` after recording at ``location`` that there is none."""
    if not id.strip():
        problems.add(location, "must be a non-empty string")
        return None
    try:
        return uow.customers.get(id)
    except NotFound:
        problems.add(location, f"unknown customer {id!r} (iotbill customers add creates it)")
        return None


def _renamed(error: InvalidInput) -> list[Problem]:
    """The domain's problem locations for a move, under this function's parameter names."""
    names = {"customer_id": "to_customer", "from": "at"}
    return [Problem(names.get(p.location, p.location), p.message) for p in error.problems]
