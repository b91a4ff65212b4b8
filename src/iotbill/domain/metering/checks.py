"""Checking usage events at ingest against the meters that would bill them.

An event is billed on its device's own subscription if the device has one
(among its owner's subscriptions), otherwise on each of its owner's other
subscriptions; a subscription bills it by the plan version in force at the
event's timestamp (its phases), from the subscription's start (trial included:
a gauge's reading there is carried into the first billed period) until its
end. Each charge of that plan version selects its meter's events (and those of
its risk factor's two meters) as a bill run will
(:func:`~iotbill.domain.metering.selection.select`); an event one of them
would refuse, say a negative quantity where the meter forbids it, is refused
now, with the same words, instead of stopping a bill run later. The checks are
the pure core's own (:func:`~iotbill.domain.metering.selection.meter_problems`),
vectorised over an :class:`~iotbill.domain.event_table.EventTable` of the
batch. An event that no subscription meters is not checked: it is stored, and
a subscription added later may bill it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering.selection import meter_problems
from iotbill.domain.periods import to_micros
from iotbill.domain.subscriptions import PlanKey, Subscription

Check = tuple[Meter, str | None]
"""A charge's meter and the property its price model reads per event (``dynamic``)."""


@dataclass(frozen=True, slots=True)
class _Span:
    """The events a plan version bills for one subscription, and the checks it applies.

    Those of ``customer``'s ``device`` (a device's own subscription), or of the
    customer's devices that have no subscription of their own (``device`` is
    ``None``), from ``start`` until ``end`` (microseconds; ``None``: no end).
    """

    customer: str
    device: str | None
    start: int
    end: int | None
    checks: frozenset[Check]


class MeterChecks:
    """What the subscriptions of some customers meter: the plans of each, and when."""

    def __init__(self, subscriptions: Sequence[Subscription], plans: Mapping[PlanKey, Plan]):
        billed_alone: defaultdict[str, set[str]] = defaultdict(set)
        for subscription in subscriptions:
            if subscription.device_id is not None:
                billed_alone[subscription.customer_id].add(subscription.device_id)
        self._billed_alone = {customer: frozenset(ids) for customer, ids in billed_alone.items()}
        self._spans = [span for s in subscriptions for span in _spans(s, plans)]
        self._types: defaultdict[str, set[str]] = defaultdict(set)
        for span in self._spans:
            self._types[span.customer].update(meter.event_type for meter, _ in span.checks)

    def refused(self, events: Sequence[UsageEvent], customers: Sequence[str]) -> dict[int, str]:
        """The events that a meter billing them refuses, by position, with the reasons.

        ``customers`` are the events' owners; ids are unique. An event that
        another of ``events`` corrects or voids does not count, so is not checked.
        """
        types = self._types
        if not types:
            return {}
        chosen = [
            index
            for index, (event, customer) in enumerate(zip(events, customers, strict=True))
            if event.type in types.get(customer, ())
        ]
        if not chosen:
            return {}
        # Each row's "line" is its event's position: the table leaves out the events
        # that another of them corrects or voids, so its order alone cannot say.
        table = EventTable.build([events[i] for i in chosen], chosen)
        positions = table.lines.astype(np.intp)  # row -> position in events
        covered = self._covered(table, positions, events, customers)
        reasons: dict[int, list[str]] = defaultdict(list)
        for (meter, amount_property), rows in covered.items():
            for found in meter_problems(table, meter, amount_property):
                if rows[found.row]:
                    reasons[int(positions[found.row])].append(
                        f"properties.{found.field}: {found.message} (meter {meter.code!r})"
                    )
        return {index: "; ".join(dict.fromkeys(found)) for index, found in reasons.items()}

    def _covered(
        self,
        table: EventTable,
        positions: npt.NDArray[np.intp],
        events: Sequence[UsageEvent],
        customers: Sequence[str],
    ) -> dict[Check, npt.NDArray[np.bool_]]:
        """For each check, which rows of ``table`` a subscription applies it to."""
        at = positions.tolist()
        customer_codes: dict[str, int] = {}
        device_codes: dict[str, int] = {}
        row_customers = np.array(
            [customer_codes.setdefault(customers[i], len(customer_codes)) for i in at], np.intp
        )
        row_devices = np.array(
            [device_codes.setdefault(events[i].device, len(device_codes)) for i in at], np.intp
        )
        by_customer = np.argsort(row_customers, kind="stable")
        bounds = np.searchsorted(row_customers[by_customer], np.arange(len(customer_codes) + 1))
        covered: dict[Check, npt.NDArray[np.bool_]] = {}
        for span in self._spans:
            code = customer_codes.get(span.customer)
            if code is None:
                continue
            rows = by_customer[bounds[code] : bounds[code + 1]]
            devices = row_devices[rows]
            if span.device is not None:
                mine = devices == device_codes.get(span.device, -1)
            else:
                alone = [device_codes.get(d, -1) for d in self._billed_alone.get(span.customer, ())]
                mine = ~np.isin(devices, alone)
            times = table.timestamps[rows]
            mine &= times >= span.start
            if span.end is not None:
                mine &= times < span.end
            for check in span.checks:
                found = covered.setdefault(check, np.zeros(len(table), dtype=bool))
                found[rows[mine]] = True
        return covered


def _spans(subscription: Subscription, plans: Mapping[PlanKey, Plan]) -> list[_Span]:
    """One span per phase of ``subscription``, cut to its start and end."""
    end = None if subscription.end is None else to_micros(subscription.end)
    starts = [to_micros(max(phase.start, subscription.start)) for phase in subscription.phases]
    spans = []
    for index, phase in enumerate(subscription.phases):
        until = starts[index + 1] if index + 1 < len(starts) else end
        if end is not None and until is not None:
            until = min(until, end)
        plan = plans[phase.plan_key]
        checks = frozenset(
            (plan.meter(charge.meter), charge.model.amount_property)
            for charge in plan.charges
            if charge.meter is not None
        ) | frozenset(
            (plan.meter(code), None)  # the meters whose ratio picks a risk factor
            for charge in plan.charges
            if charge.risk_factor is not None
            for code in (charge.risk_factor.events, charge.risk_factor.exposure)
        )
        spans.append(
            _Span(subscription.customer_id, subscription.device_id, starts[index], until, checks)
        )
    return spans
