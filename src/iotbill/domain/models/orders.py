"""A reorder: a consumable ordered for a device, and where it stands.

An :class:`Order` is placed by the reorder job (:mod:`~iotbill.domain.models.reorder`)
and moves on by hand (``iotbill orders ship|deliver|cancel``)::

    placed ──► shipped ──► delivered
       │          │
       └──────────┴──► cancelled

``placed`` and ``shipped`` are *in progress*: while one is, the device's
consumable gets no other order (Dash Replenishment answers ``ORDER_INPROGRESS``).
Each step keeps its instant; a step that does not follow is a
:class:`~iotbill.domain.errors.Conflict`, and an instant before the step
before is :class:`~iotbill.domain.errors.InvalidInput` at ``at``.

A placed order is billed as a one-off charge (``charge_id``) on the
customer's next invoice; a cancelled one is not billed, or is credited back if
it already was (``credit_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.money import Currency, format_money
from iotbill.domain.periods import require_aware

OrderStatus = Literal["placed", "shipped", "delivered", "cancelled"]
IN_PROGRESS: tuple[OrderStatus, ...] = ("placed", "shipped")
_NEXT: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    "placed": ("shipped", "cancelled"),
    "shipped": ("delivered", "cancelled"),
    "delivered": (),
    "cancelled": (),
}


@dataclass(frozen=True, slots=True)
class Order:
    """One order of ``consumable`` for ``device_id`` of ``customer_id``, at ``price``.

    ``run_out`` is the forecast run-out that placed it; ``cycle_start`` the refill
    that opened the cycle it was placed in (``None``: before any refill seen).
    """

    id: str
    customer_id: str
    device_id: str
    consumable: str
    description: str
    price: Decimal
    currency: Currency
    placed_at: datetime
    run_out: datetime
    cycle_start: datetime | None
    charge_id: str
    status: OrderStatus = "placed"
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    credit_id: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def changed_at(self) -> datetime:
        """The instant of its latest step."""
        steps = (self.placed_at, self.shipped_at, self.delivered_at, self.cancelled_at)
        return max(step for step in steps if step is not None)

    def ship(self, at: datetime) -> Order:
        return replace(self._step("shipped", at), shipped_at=at)

    def deliver(self, at: datetime) -> Order:
        return replace(self._step("delivered", at), delivered_at=at)

    def cancel(self, at: datetime, credit_id: str | None = None) -> Order:
        return replace(self._step("cancelled", at), cancelled_at=at, credit_id=credit_id)

    def _step(self, status: OrderStatus, at: datetime) -> Order:
        if status not in _NEXT[self.status]:
            raise Conflict(f"order {self.id} is {self.status}: it cannot be {status}")
        at = require_aware(at, "at")
        if at < self.changed_at:
            raise InvalidInput.at(
                "at", f"must not be before the order's last step ({self.changed_at.isoformat()})"
            )
        return replace(self, status=status)

    def as_json(self) -> dict[str, Any]:
        def instant(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "customer": self.customer_id,
            "device": self.device_id,
            "consumable": self.consumable,
            "description": self.description,
            "price": format_money(self.price, self.currency),
            "currency": self.currency.code,
            "status": self.status,
            "placed_at": instant(self.placed_at),
            "shipped_at": instant(self.shipped_at),
            "delivered_at": instant(self.delivered_at),
            "cancelled_at": instant(self.cancelled_at),
            "run_out": instant(self.run_out),
            "cycle_start": instant(self.cycle_start),
            "charge": self.charge_id,
            "credit": self.credit_id,
        }
