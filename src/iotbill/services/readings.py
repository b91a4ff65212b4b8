"""A device's readings of one property, as the side flows read them from the event store.

The reorder job reads a consumable's level, the alert job a metric such as
vibration: both need one device's values of one property of one event type,
in time order, up to an instant. :func:`device_readings` reads them through
:meth:`~iotbill.services.ports.EventStore.load` (a ``latest`` meter, so the
reading just before ``since`` comes along) and keeps the valid numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import VALID
from iotbill.domain.models.depletion import Reading
from iotbill.domain.periods import Period, from_micros
from iotbill.domain.quantities import SCALE
from iotbill.services.ports import EventScope, UnitOfWork

_JUST_AFTER = timedelta(microseconds=1)


def device_readings(
    uow: UnitOfWork,
    *,
    customer: str,
    device: str,
    meter: Meter,
    since: datetime,
    as_of: datetime,
) -> list[Reading]:
    """The values of ``meter``'s property reported by ``device`` of ``customer`` from
    ``since`` (and the one just before) to ``as_of`` included, in time order; an event
    without a number there is skipped."""
    assert meter.property is not None
    latest = Meter(meter.code, meter.event_type, "latest", meter.property)
    scope = EventScope(customer, devices=frozenset({device}))
    table = uow.events.load(scope, [latest], Period(since, as_of + _JUST_AFTER))
    view = table.view(meter.event_type)
    column = view.numbers(meter.property)
    valid = column.status == VALID
    return [
        Reading(from_micros(at), Decimal(value).scaleb(-SCALE))
        for at, value in zip(
            view.timestamps[valid].tolist(), column.values[valid].tolist(), strict=True
        )
    ]
