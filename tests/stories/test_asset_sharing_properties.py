"""Asset sharing: generated sale streams, some reported late, replayed and reordered.

The owner's plan has a fee: a bill run issues no invoice without lines, and the
owner's credits, like every one-off line, wait for its next invoice.

Whatever the stream, every ledger entry is one positive amount between two accounts
(so it balances), and for every period posted, what buyers owe and markets paid equals
the owners' credits plus the operator's revenue, to the cent. Every sale is settled
exactly once, and the invoices bill exactly what the ledger says: the buyer's lines
what it owes, the owner's credit lines its credits. The order events arrive in, and
replays of them, change nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotbill.domain.credits import LedgerEntry, receivable_account
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.models.asset_sharing import (
    ASSET_SALES,
    MARKET_RECEIPTS,
    OPERATOR_REVENUE,
    revenue_share_account,
)
from iotbill.services.ingest import ingest
from iotbill.services.sharing import register_buyer
from tests.stories.world import TENANT, World

PLAN = """\
code: battery-sharing
currency: EUR
interval: month
fixed_fees: [{{code: monitoring, amount: "4.90", timing: advance}}]
sharing: {{event_type: capacity.sold, quantity: kwh, price: price, buyer: buyer,
          share: "{share}"}}
"""
BUYER = """\
code: capacity-buyer
currency: EUR
interval: month
fixed_fees: [{code: account, amount: "1.00", timing: advance}]
"""
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
RUNS = [datetime(2026, month, 1, tzinfo=UTC) for month in (2, 3, 4, 5)]
"""Bill runs; the sales happen in January to March, each reported in its month or the next."""

sales = st.lists(
    st.tuples(
        st.sampled_from(["b1", "b2"]),
        st.integers(0, 89 * 24 - 1),  # the hour of the sale, from 1 January
        st.decimals("0.001", "500", places=3),  # kWh
        st.decimals("0", "0.9", places=4),  # price of a kWh
        st.sampled_from(["grid", "aggregator", "spot"]),
        st.booleans(),  # reported late: in the month after
    ),
    max_size=25,
)


def _world(share: Decimal) -> World:
    world = World(JAN_1)
    world.plan(PLAN.format(share=share))
    world.plan(BUYER)
    for customer in ("acme", "grid-op", "flex-co"):
        world.customer(customer, "EUR", "UTC", tax_rate="19")
    for device in ("b1", "b2"):
        world.device(device, "acme", JAN_1)
    world.subscribe("sub-1", "acme", "battery-sharing", JAN_1)
    world.subscribe("sub-2", "grid-op", "capacity-buyer", JAN_1)
    world.subscribe("sub-3", "flex-co", "capacity-buyer", JAN_1)
    for device in ("b1", "b2"):
        for buyer, customer in (("grid", "grid-op"), ("aggregator", "flex-co"), ("spot", None)):
            register_buyer(
                world.open(TENANT), device=device, buyer=buyer, customer=customer, at=JAN_1
            )
    return world


def _play(share: Decimal, batches: list[list[UsageEvent]]) -> tuple[World, list[LedgerEntry]]:
    """Ingest batch i just before bill run i, then run it; the entries posted."""
    world = _world(share)
    for run, batch in zip(RUNS, batches, strict=True):
        world.clock.set(run - timedelta(hours=1))
        sourced = [SourcedEvent(event, number) for number, event in enumerate(batch, 1)]
        for start in range(0, len(sourced), 7):  # in several requests
            ingest(world.open, TENANT, sourced[start : start + 7], clock=world.clock)
        world.bill(run)
    with world.open(TENANT) as uow:
        return world, uow.credits.entries()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sold=sales,
    share=st.decimals("0", "100", places=2),
    order=st.randoms(use_true_random=False),
    replays=st.lists(st.integers(0, 24), max_size=6),
)
def test_the_ledger_balances_and_sales_are_credits_plus_operator_revenue_per_period(
    sold: list[tuple[str, int, Decimal, Decimal, str, bool]],
    share: Decimal,
    order: object,
    replays: list[int],
) -> None:
    events: list[tuple[int, UsageEvent]] = []
    for number, (device, hour, kwh, price, buyer, late) in enumerate(sold):
        at = JAN_1 + timedelta(hours=hour)
        window = at.month - 1 + (1 if late else 0)  # 0: reported before the run of 1 February
        properties = {"kwh": kwh, "price": price, "buyer": buyer}
        events.append(
            (window, UsageEvent(f"sale-{number}", "capacity.sold", device, at, properties))
        )
    in_order = [[event for window, event in events if window == run] for run in range(4)]
    world, entries = _play(share, in_order)

    # Every entry balances: one positive amount, from one account to another.
    assert all(entry.amount > 0 and entry.debit != entry.credit for entry in entries)
    # Per period posted: sold (owed by buyers, paid by markets) = credits + operator revenue.
    by_period: defaultdict[datetime, defaultdict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for entry in entries:
        sums = by_period[entry.at]
        if entry.credit == ASSET_SALES:
            sums["sold"] += entry.amount
        if entry.credit == revenue_share_account("acme"):
            sums["credits"] += entry.amount
        if entry.credit == OPERATOR_REVENUE:
            sums["operator"] += entry.amount
    for sums in by_period.values():
        assert sums["sold"] == sums["credits"] + sums["operator"]

    # Every sale settled once: the settled kWh of each month are the sales of that month.
    with world.open(TENANT) as uow:
        settlements = uow.sharing.settlements()
        invoices = uow.invoices.list()
    settled: defaultdict[int, Decimal] = defaultdict(Decimal)
    for settlement in settlements:
        settled[settlement.period.start.month] += sum(
            (line.quantity for line in settlement.lines), Decimal(0)
        )
    expected: defaultdict[int, Decimal] = defaultdict(Decimal)
    for _, event in events:
        expected[event.timestamp.month] += event.properties["kwh"]
    assert {month: kwh for month, kwh in settled.items() if kwh} == {
        month: kwh for month, kwh in expected.items() if kwh
    }

    # The invoices bill what the ledger says, line for line.
    def billed(customer: str, kind: str) -> Decimal:
        return sum(
            (
                line.amount
                for invoice in invoices
                if invoice.customer_id == customer
                for line in invoice.lines
                if line.kind == kind
            ),
            Decimal(0),
        )

    def posted(debit: str, credit: str) -> Decimal:
        return sum(
            (e.amount for e in entries if e.debit == debit and e.credit == credit), Decimal(0)
        )

    for buyer in ("grid-op", "flex-co"):
        assert billed(buyer, "one_off") == posted(receivable_account(buyer), ASSET_SALES)
    assert -billed("acme", "credit") == posted(
        revenue_share_account("acme"), receivable_account("acme")
    )
    assert posted(MARKET_RECEIPTS, ASSET_SALES) == sum(
        (line.amount for s in settlements for line in s.lines if line.customer_id is None),
        Decimal(0),
    )

    # Reordered within each report, and with earlier events replayed: the same books.
    assert hasattr(order, "shuffle")
    shuffled = [list(batch) for batch in in_order]
    for batch in shuffled:
        order.shuffle(batch)
    flat = [event for batch in in_order for event in batch]
    for index in replays:
        if flat:
            event = flat[index % len(flat)]
            window = next(run for run, batch in enumerate(in_order) if event in batch)
            shuffled[min(3, window + index % 2)].append(event)
    _, again = _play(share, shuffled)
    assert again == entries
