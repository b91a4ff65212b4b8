"""No money appears or vanishes: generated stories of changes, cancellations, late events,
credits, coupons, pauses and payments, checked against the customer's books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotbill.domain.discounts import DISCOUNTED
from iotbill.domain.documents import last_finalized
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.invoices import DocumentKind
from iotbill.services.balance import customer_balance, grant_credit
from iotbill.services.coupons import apply_coupon, create_coupon
from iotbill.services.invoices import pay_invoice
from iotbill.services.subscriptions import pause_subscription, resume_subscription
from tests.stories.world import TENANT, World

BASIC = """\
code: basic
name: Basic
currency: USD
interval: month
fixed_fees: [{code: base, amount: "{fee}", timing: advance}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.50"}
"""

START = datetime(2026, 1, 1, tzinfo=UTC)
FINAL_RUNS = [datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("usage"), st.integers(0, 110), st.integers(1, 40)),
        st.tuples(st.just("change"), st.integers(1, 110), st.sampled_from(["cheap", "dear"])),
        st.tuples(
            st.just("cancel"), st.integers(1, 110), st.sampled_from(["immediate", "period_end"])
        ),
        st.tuples(st.just("late"), st.integers(0, 110), st.integers(1, 40)),
        st.tuples(st.just("credit"), st.integers(0, 110), st.integers(1, 60)),
        st.tuples(st.just("pay"), st.integers(0, 110), st.integers(1, 100)),
        st.tuples(st.just("pause"), st.integers(0, 110), st.integers(1, 45)),
        st.tuples(
            st.just("coupon"),
            st.integers(0, 110),
            st.sampled_from(
                [
                    {"percent": "20", "periods": 2},
                    {"percent": "100"},
                    {"amount": "5.00", "currency": "USD", "periods": 1},
                    {"amount": "50.00", "currency": "USD", "charge": "water"},
                ]
            ),
        ),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_everything_charged_less_credited_is_what_the_invoices_ask(story: list) -> None:
    world = World(START)
    world.plan(BASIC.replace("code: basic", "code: cheap").replace("{fee}", "10.00"))
    world.plan(BASIC.replace("code: basic", "code: dear").replace("{fee}", "45.00"))
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", START)
    world.subscribe("sub-1", "acme", "cheap", START)
    ended = False
    late: list[tuple[datetime, int]] = []
    for kind, day, value in sorted(story, key=lambda step: step[1]):
        at = START + timedelta(days=day, hours=6)
        world.clock.set(at)
        if kind == "usage":
            world.usage("p1", at, m3=value)
        elif kind == "late":
            late.append((at - timedelta(days=20), value))
        elif kind in ("change", "cancel") and not ended:
            try:  # a change to the plan in force is refused, and skipped
                if kind == "change":
                    world.change("sub-1", value, at, "immediate")
                else:
                    world.cancel("sub-1", at, value)
                    ended = True
            except (InvalidInput, Conflict):
                pass
        elif kind == "credit":
            grant_credit(world.open(TENANT), customer="acme", amount=f"{value}.00", at=at)
        elif kind == "pause" and not ended:
            try:  # refused while paused, or inside a pause, or once invoiced after it
                pause_subscription(world.open(TENANT), "sub-1", at=at)
                resume_subscription(world.open(TENANT), "sub-1", at=at + timedelta(days=value))
            except (InvalidInput, Conflict):
                pass
        elif kind == "coupon":
            code = f"C{day}-{len(value)}"
            try:  # one coupon at a time, and never on periods already invoiced
                create_coupon(world.open(TENANT), code=code, at=at, **value)
                apply_coupon(world.open(TENANT), code, subscription="sub-1", at=at)
            except Conflict:
                pass
        elif kind == "pay":
            due = [i for i in world.invoices() if i.status == "finalized" and i.amount_due > 0]
            if due:
                amount = min(due[0].amount_due, Decimal(value))
                pay_invoice(world.open(TENANT), due[0].id, at=at, amount=amount)
        world.bill(at)
    for at, value in late:
        if at >= START:
            world.usage("p1", at, m3=value)
    for at in FINAL_RUNS:  # after every step (the last is on day 110)
        world.bill(at)

    invoices = [i for i in world.invoices() if i.status != "void"]
    for invoice in invoices:
        expected = max(
            invoice.total - invoice.credits - invoice.balance_applied - invoice.payments,
            Decimal(0),
        )
        assert invoice.amount_due == expected
    charged = sum(
        (line.amount for i in invoices for line in i.lines if line.charge != "carried_credit"),
        Decimal(0),
    )
    asked = sum((i.amount_due + i.payments for i in invoices), Decimal(0))
    with world.open(TENANT) as uow:
        grants = uow.credits.grants(["acme"])
    granted = sum((g.amount for g in grants if g.kind == "granted"), Decimal(0))
    balance = customer_balance(world.open(TENANT), "acme")
    last = last_finalized([i.summary() for i in invoices if i.kind is not DocumentKind.LATE])
    moved = {g.id for g in grants if g.kind == "carried"}
    pending = Decimal(0)
    if last is not None and last.subtotal < 0 and f"{last.id}/carried" not in moved:
        pending = -last.subtotal  # carried by the next invoice, when there is one
    # Coupons take off at most what the lines they discount billed.
    discounted = sum(
        (line.amount for i in invoices for line in i.lines if line.kind == "discount"),
        Decimal(0),
    )
    billed = sum(
        (line.amount for i in invoices for line in i.lines if line.kind in DISCOUNTED),
        Decimal(0),
    )
    assert -billed <= discounted <= 0
    # At 0 % tax each invoice asks max(0, total); a negative total is carried to the next
    # invoice, put on the balance, or waits for the next invoice. So what the invoices ask
    # in money is what was charged, less the free credits, plus what sits on the balance
    # and what waits to be carried: no money appears or vanishes.
    assert asked == charged - granted + balance + pending
