"""Customers and their devices.

A customer has a currency, an IANA time zone, a billing address and a tax
rate. A device belongs to one customer from an instant and may move to another
from a later instant; its history is kept, so events follow the device's owner
at their own timestamps. A move that would give a device two owners at once
(one starting at or before the current owner's start) is refused and nothing
is stored.

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

from decimal import Decimal

from iotbill.domain.customers import Customer, Device
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, Problem, ProblemCollector
from iotbill.services.moments import Moment, collect_instant
from iotbill.services.ports import UnitOfWork


def add_customer(
    uow: UnitOfWork,
    *,
    id: str,
    name: str,
    currency: str,
    timezone: str,
    billing_address: str = "",
    tax_rate: str | Decimal = Decimal(0),
) -> Customer:
    """Store a new customer; every problem with the input is reported at once.

    ``tax_rate`` is a percentage written exactly (``"19"``, ``"8.875"``).
    """
    customer = Customer.create(
        id=id,
        name=name,
        currency_code=currency,
        timezone=timezone,
        billing_address=billing_address,
        tax_rate=tax_rate,
    )
    with uow:
        uow.customers.add(customer)
        uow.commit()
    return customer


def list_customers(uow: UnitOfWork) -> list[Customer]:
    """Every customer, by id."""
    with uow:
        return uow.customers.list()


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


def move_device(uow: UnitOfWork, id: str, *, to_customer: str, at: Moment) -> Device:
    """Device ``id`` owned by ``to_customer`` from ``at`` on.

    ``at`` must be after the current owner's start (a device never has two
    owners at once) and ``to_customer`` must differ from the current owner;
    otherwise :class:`InvalidInput` naming each problem, and nothing is stored.
    """
    with uow:
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
        uow.devices.save(moved)
        uow.commit()
    return moved


def list_devices(uow: UnitOfWork, *, customer: str | None = None) -> list[Device]:
    """Every device, or those that ``customer`` ever owned, by id."""
    with uow:
        return uow.devices.list(customer)


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
