"""Money that must never go missing: carried credits, late usage after the end of service,
voided drafts re-issued, void invoices due nothing, payments, due dates and dunning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.credits import balances
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.balance import credit_history, customer_balance, grant_credit, list_credits
from iotbill.services.invoices import (
    finalize_invoice,
    list_invoices,
    pay_invoice,
    record_notices,
    void_invoice,
)
from tests.stories.world import TENANT, World, lines

PUMP = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: advance}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.50"}
"""

QUARTERLY = """\
code: {code}
name: {code}
currency: USD
interval: quarter
fixed_fees: [{{code: base, amount: "{amount}", timing: advance}}]
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def pump_world(grace: timedelta = timedelta(0), net_terms: int = 0) -> World:
    world = World(utc(2026, 1, 1), grace)
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC", net_terms=net_terms)
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    return world


def test_a_quarterly_downgrade_s_credit_is_carried_to_the_next_invoice() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(QUARTERLY.format(code="gold", amount="300.00"))
    world.plan(QUARTERLY.format(code="silver", amount="150.00"))
    world.customer("acme", "USD", "UTC")
    world.subscribe("sub-1", "acme", "gold", utc(2026, 1, 1))
    world.change("sub-1", "silver", utc(2026, 2, 15), "immediate")
    world.bill(utc(2026, 4, 1))
    opening, change, close = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "300.00")]
    # 45 of the quarter's 90 days left: 300.00 back for half (-150.00), silver's 150.00 for
    # half (75.00): the change bills -75.00, and nothing is due on it.
    assert lines(change) == [("credit", "base", "-150.00"), ("fixed_fee", "base", "75.00")]
    assert (change.total, change.amount_due) == (Decimal("-75.00"), Decimal(0))
    # The next quarter's 150.00 in advance, less the 75.00 carried: 75.00 due, not 150.00.
    assert lines(close) == [
        ("fixed_fee", "base", "150.00"),
        ("adjustment", "carried_credit", "-75.00"),
    ]
    assert close.lines[-1].description == f"Credit carried from {change.number}"
    assert (close.total, close.amount_due) == (Decimal("75.00"), Decimal("75.00"))


def test_an_immediate_cancellation_s_credit_is_carried_to_the_period_s_close() -> None:
    world = pump_world()
    world.usage("p1", utc(2026, 1, 10), m3=50)
    world.cancel("sub-1", utc(2026, 1, 21), "immediate")
    world.bill(utc(2026, 2, 1))
    opening, cancellation, close = world.invoices()
    # 11 of January's 31 days unused: 31.00 x 11/31 = 11.00 back.
    assert lines(cancellation) == [("credit", "base", "-11.00")]
    # 50 m3 x 0.50 = 25.00 of usage, less the 11.00 carried: 14.00.
    assert lines(close) == [("usage", "water", "25.00"), ("adjustment", "carried_credit", "-11.00")]
    assert [invoice.amount_due for invoice in (opening, cancellation, close)] == [
        Decimal("31.00"),
        Decimal(0),
        Decimal("14.00"),
    ]


def test_late_usage_after_service_ended_is_billed_on_an_invoice_of_its_own() -> None:
    world = pump_world()
    world.cancel("sub-1", utc(2026, 1, 1), "period_end")
    world.usage("p1", utc(2026, 1, 10), m3=20)
    world.bill(utc(2026, 2, 1))
    _opening, january = world.invoices()
    assert lines(january) == [("usage", "water", "10.00")]  # no February in advance
    world.clock.set(utc(2026, 2, 3))
    world.usage("p1", utc(2026, 1, 20), m3=7)  # seven units of January, arriving late
    report = world.bill(utc(2026, 2, 5))
    late_id = "sub-1/late/2026-02-05T00:00:00+00:00"
    assert (report.issued, report.finalized) == ([late_id], ["INV-2026-000003"])
    late = world.invoices()[-1]
    # 27 m3 x 0.50 = 13.50 now, 10.00 billed: 3.50 more.
    assert (late.id, lines(late)) == (late_id, [("adjustment", "water", "3.50")])
    assert late.lines[0].description.startswith(
        f"Late usage adjustment: water for {january.number}"
    )
    # Run again, or later: each late unit is billed once.
    assert world.bill(utc(2026, 2, 5)).issued == []
    assert world.bill(utc(2026, 3, 1)).issued == []
    assert len(world.invoices()) == 3


def test_a_voided_draft_close_is_reissued_with_its_own_id_and_the_next_number() -> None:
    world = pump_world(grace=timedelta(days=3))
    world.usage("p1", utc(2026, 1, 10), m3=20)
    world.bill(utc(2026, 2, 1))
    close_id = "sub-1/close/2026-01-01T00:00:00+00:00"
    void_invoice(world.open(TENANT), close_id, at=utc(2026, 2, 2))
    report = world.bill(utc(2026, 2, 4))
    assert report.issued == [f"{close_id}/2"]
    assert report.finalized == ["INV-2026-000002"]
    voided, replacement = (i for i in world.invoices() if i.id.startswith(close_id))
    assert (voided.status, voided.number, voided.amount_due) == ("void", None, Decimal(0))
    # January's usage and February's fee in advance: nothing of the period is lost.
    assert lines(replacement) == [("usage", "water", "10.00"), ("fixed_fee", "base", "31.00")]
    assert world.bill(utc(2026, 2, 4)).issued == []


def test_a_void_invoice_is_due_nothing() -> None:
    world = pump_world()
    world.bill(utc(2026, 1, 1))
    (opening,) = world.invoices()
    voided = void_invoice(world.open(TENANT), opening.id, at=utc(2026, 1, 2))
    assert (voided.total, voided.amount_due) == (Decimal("31.00"), Decimal(0))
    assert voided.as_json()["amount_due"] == "0.00"


def test_a_net_30_invoice_becomes_overdue_and_is_paid_in_two_parts() -> None:
    world = pump_world(net_terms=30)
    world.usage("p1", utc(2026, 1, 10), m3=32)
    world.bill(utc(2026, 2, 1))
    _opening, close = world.invoices()
    # 32 x 0.50 = 16.00 + February's 31.00 = 47.00, finalized 1 February: due 3 March.
    assert (close.total, close.due_on, close.as_json()["due_on"]) == (
        Decimal("47.00"),
        datetime(2026, 3, 3).date(),
        "2026-03-03",
    )

    def overdue(at: datetime) -> list[str | None]:
        return [i.number for i in list_invoices(world.open(TENANT), overdue_at=at)]

    pay_invoice(world.open(TENANT), "INV-2026-000001", at=utc(2026, 2, 2))
    assert overdue(utc(2026, 3, 3, 23, 59)) == []  # due that day: not overdue yet
    assert overdue(utc(2026, 3, 4)) == [close.number]

    notices = record_notices(world.open(TENANT), at=utc(2026, 3, 14), schedule=(3, 10, 30))
    assert [(n.invoice_id, n.kind) for n in notices] == [
        (close.id, "overdue"),
        (close.id, "reminder+3"),
        (close.id, "reminder+10"),
    ]
    assert record_notices(world.open(TENANT), at=utc(2026, 3, 20)) == []  # each once
    later = record_notices(world.open(TENANT), at=utc(2026, 4, 2), schedule=(3, 10, 30))
    assert [n.kind for n in later] == ["reminder+30"]

    first = pay_invoice(world.open(TENANT), close.id, at=utc(2026, 4, 3), amount="20.00")
    assert (first.status, first.payments, first.amount_due) == (
        "finalized",
        Decimal("20.00"),
        Decimal("27.00"),
    )
    with pytest.raises(InvalidInput, match=r"amount: 27.01 is more than the 27.00 due"):
        pay_invoice(world.open(TENANT), close.id, at=utc(2026, 4, 4), amount="27.01")
    with pytest.raises(Conflict, match=r"20\.00 of payments"):
        void_invoice(world.open(TENANT), close.id, at=utc(2026, 4, 4))
    second = pay_invoice(world.open(TENANT), close.id, at=utc(2026, 4, 5), amount="27.00")
    assert (second.status, second.amount_due, second.paid_at) == (
        "paid",
        Decimal(0),
        utc(2026, 4, 5),
    )
    document = second.as_json()
    assert {key: document[key] for key in ("total", "payments", "amount_due")} == {
        "total": "47.00",
        "payments": "47.00",
        "amount_due": "0.00",
    }
    assert overdue(utc(2026, 4, 6)) == []
    with world.open(TENANT) as uow:
        assert [(p.amount, p.received_at) for p in uow.invoices.payments(close.id)] == [
            (Decimal("20.00"), utc(2026, 4, 3)),
            (Decimal("27.00"), utc(2026, 4, 5)),
        ]


def test_a_manual_finalization_carries_a_credit_too() -> None:
    world = pump_world(grace=timedelta(days=3))
    world.cancel("sub-1", utc(2026, 1, 21), "immediate")
    world.usage("p1", utc(2026, 1, 10), m3=50)
    world.bill(utc(2026, 2, 1))
    close_id = "sub-1/close/2026-01-01T00:00:00+00:00"
    final = finalize_invoice(world.open(TENANT), close_id, at=utc(2026, 2, 1, 12))
    assert lines(final) == [("usage", "water", "25.00"), ("adjustment", "carried_credit", "-11.00")]


def test_bad_payments_and_terms_are_refused_with_their_field() -> None:
    world = pump_world()
    world.bill(utc(2026, 1, 1))
    with pytest.raises(InvalidInput) as error:
        pay_invoice(world.open(TENANT), "INV-2026-000001", at=utc(2026, 1, 2), amount="31.01")
    assert [str(p) for p in error.value.problems] == [
        "amount: 31.01 is more than the 31.00 due on INV-2026-000001"
    ]
    for bad, message in (("-1.00", "must be positive"), ("1.001", "more decimals than USD")):
        with pytest.raises(InvalidInput, match=f"amount: .*{message}"):
            pay_invoice(world.open(TENANT), "INV-2026-000001", at=utc(2026, 1, 2), amount=bad)
    (invoice,) = world.invoices()
    assert (invoice.payments, invoice.status) == (Decimal(0), "finalized")
    with pytest.raises(InvalidInput, match="net_terms: must be from 0 to 3650 days, not -1"):
        world.customer("bolt", "USD", "UTC", net_terms=-1)
    with pytest.raises(InvalidInput, match=r"schedule\[1\]: must come after 10, not 3"):
        record_notices(world.open(TENANT), at=utc(2026, 2, 1), schedule=(10, 3))


def test_a_credit_is_used_across_two_subscriptions() -> None:
    world = pump_world()
    world.subscribe("sub-2", "acme", "pump", utc(2026, 1, 1))
    grant, purchase = grant_credit(
        world.open(TENANT), customer="acme", amount="50.00", at=utc(2026, 1, 1)
    )
    assert (grant.kind, purchase) == ("granted", None)
    world.bill(utc(2026, 1, 1))
    first, second = world.invoices()
    # 31.00 each: the first takes 31.00 of the 50.00, the second the 19.00 left.
    assert [
        (i.subscription_id, i.total, i.balance_applied, i.amount_due) for i in (first, second)
    ] == [
        ("sub-1", Decimal("31.00"), Decimal("31.00"), Decimal(0)),
        ("sub-2", Decimal("31.00"), Decimal("19.00"), Decimal("12.00")),
    ]
    assert (first.status, second.status) == ("paid", "finalized")
    assert second.as_json()["balance_applied"] == "19.00"
    assert customer_balance(world.open(TENANT), "acme") == Decimal(0)
    history = credit_history(world.open(TENANT), "acme")
    assert [(e.debit, e.credit, e.amount, e.document) for e in history] == [
        ("promotions", "customer:acme:credits", Decimal("50.00"), None),
        ("customer:acme:credits", "customer:acme:receivable", Decimal("31.00"), first.id),
        ("customer:acme:credits", "customer:acme:receivable", Decimal("19.00"), second.id),
    ]
    # Run again: each credit is used once.
    world.bill(utc(2026, 1, 1))
    assert len(credit_history(world.open(TENANT), "acme")) == 3


def test_a_purchased_credit_expires_half_used() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("p1", "acme", utc(2026, 1, 1))
    grant, purchase = grant_credit(
        world.open(TENANT),
        customer="acme",
        amount="68.20",
        at=utc(2026, 1, 1),
        purchased=True,
        expires_at=utc(2026, 1, 20),
    )
    assert purchase is not None and purchase.kind == "credit_purchase"
    assert world.invoices() == []  # billed on the next invoice, not on one of its own
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.bill(utc(2026, 1, 1))
    (opening,) = world.invoices()
    # The opening sells the credit, untaxed: 31.00 + 68.20, tax 10 % of 31.00 only.
    assert lines(opening) == [
        ("fixed_fee", "base", "31.00"),
        ("credit_purchase", purchase.id, "68.20"),
    ]
    assert (opening.subtotal, opening.tax, opening.total) == (
        Decimal("99.20"),
        Decimal("3.10"),
        Decimal("102.30"),
    )
    # The credit pays the 34.10 of service, never its own purchase: half of it is used.
    assert (opening.balance_applied, opening.amount_due) == (Decimal("34.10"), Decimal("68.20"))
    world.bill(utc(2026, 2, 1))
    close = world.invoices()[-1]
    assert (close.balance_applied, close.amount_due) == (Decimal(0), close.total)
    ((listed, left),) = list_credits(world.open(TENANT), "acme")
    assert (listed.id, left) == (grant.id, Decimal(0))
    history = credit_history(world.open(TENANT), "acme")
    assert [(e.id, e.amount, e.at) for e in history] == [
        (f"{grant.id}/granted", Decimal("68.20"), utc(2026, 1, 1)),
        (f"{grant.id}/used/{opening.id}", Decimal("34.10"), utc(2026, 1, 1)),
        (f"{grant.id}/expired", Decimal("34.10"), utc(2026, 1, 20)),
    ]
    with world.open(TENANT) as uow:
        everything = uow.credits.entries()
    assert balances(everything) == {
        "customer:acme:receivable": Decimal("-34.10"),
        "customer:acme:credits": Decimal("0.00"),
        "expired_credits": Decimal("34.10"),
    }
    assert sum(balances(everything).values()) == 0  # double entry: always balanced


def test_an_ended_subscription_s_credit_goes_to_the_balance_and_pays_another() -> None:
    world = pump_world()
    world.cancel("sub-1", utc(2026, 1, 21), "immediate")
    world.subscribe("sub-2", "acme", "pump", utc(2026, 2, 1))
    world.bill(utc(2026, 2, 1))
    by_id = {invoice.id: invoice for invoice in world.invoices()}
    cancellation = by_id["sub-1/cancellation"]
    close = by_id["sub-1/close/2026-01-01T00:00:00+00:00"]
    assert lines(cancellation) == [("credit", "base", "-11.00")]
    # January's close has no usage (0.00) and carries the 11.00: its total is -11.00, and
    # with nothing after it, the 11.00 go to the customer's balance...
    assert lines(close) == [("usage", "water", "0.00"), ("adjustment", "carried_credit", "-11.00")]
    # ... which the other subscription's opening invoice uses: 31.00 - 11.00 = 20.00 due.
    opening = by_id["sub-2/opening"]
    assert (opening.balance_applied, opening.amount_due) == (Decimal("11.00"), Decimal("20.00"))
    assert customer_balance(world.open(TENANT), "acme") == Decimal(0)
    world.bill(utc(2026, 2, 1))
    assert len(credit_history(world.open(TENANT), "acme")) == 2


def test_bad_credits_are_refused_with_their_field_and_nothing_is_stored() -> None:
    world = pump_world()
    with pytest.raises(InvalidInput) as error:
        grant_credit(
            world.open(TENANT),
            customer="acme",
            amount="-5",
            at=utc(2026, 2, 1),
            expires_at=utc(2026, 1, 1),
        )
    assert [str(problem) for problem in error.value.problems] == [
        "amount: must be positive, not -5",
        "expires_at: must be after the grant (2026-02-01T00:00:00+00:00),"
        " not 2026-01-01T00:00:00+00:00",
    ]
    assert list_credits(world.open(TENANT), "acme") == []
