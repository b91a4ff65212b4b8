"""Webhook messages on every store: written with the change that caused them, once per
change, one delivery per endpoint that wants the type; resent by hand when failed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.domain.webhooks import Attempt, RetryPolicy, message_id
from iotbill.services.invoices import (
    create_credit_note,
    finalize_invoice,
    pay_invoice,
    void_invoice,
)
from iotbill.services.webhooks import (
    add_endpoint,
    disable_endpoint,
    emit,
    list_deliveries,
    list_endpoints,
    resend,
)
from tests.service_layer.conftest import NewUnitOfWork
from tests.service_layer.documents import add_customers
from tests.service_layer.test_invoice_service import LATER, draft


@pytest.fixture
def invoices(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    for id in ("inv-a", "inv-b"):
        draft(uow, id, "100.00", "20.00")


def types_sent(uow: NewUnitOfWork, url: str) -> list[tuple[str, str]]:
    return sorted((view.type, view.delivery.message_id) for view in list_deliveries(uow())
                  if view.url == url)  # fmt: skip


@pytest.mark.usefixtures("invoices")
def test_each_invoice_change_queues_one_message_per_interested_endpoint(uow: NewUnitOfWork) -> None:
    everything = add_endpoint(uow(), "https://a.example/hooks", ["*"], at=LATER)
    paid_only = add_endpoint(uow(), "https://b.example/hooks", ["invoice.paid"], at=LATER)
    assert everything.id == "we_000001" and everything.secret.startswith("whsec_")
    assert [e.id for e in list_endpoints(uow())] == ["we_000001", "we_000002"]

    finalize_invoice(uow(), "inv-a", at=LATER)
    pay_invoice(uow(), "inv-a", at=LATER)
    finalize_invoice(uow(), "inv-b", at=LATER)
    create_credit_note(uow(), "inv-b", reason="outage", at=LATER, amount="10.00")
    with pytest.raises(Exception, match="credit notes"):
        void_invoice(uow(), "inv-b", at=LATER)  # refused: it writes no message either
    with uow() as unit:
        note = unit.credit_notes.list()[0].id

    assert types_sent(uow, everything.url) == sorted(
        [
            ("invoice.finalized", message_id("invoice.finalized", "inv-a")),
            ("invoice.paid", message_id("invoice.paid", "inv-a")),
            ("payment.received", message_id("payment.received", "inv-a")),
            ("invoice.finalized", message_id("invoice.finalized", "inv-b")),
            ("credit_note.created", message_id("credit_note.created", note)),
        ]
    )
    assert types_sent(uow, paid_only.url) == [("invoice.paid", message_id("invoice.paid", "inv-a"))]
    with uow() as unit:
        body = unit.webhooks.messages([message_id("payment.received", "inv-a")])
    payment = json.loads(next(iter(body.values())).body)
    assert payment["type"] == "payment.received"
    assert payment["data"]["amount"] == "130.65"  # 120.00 + 8.875 % tax, rounded half-up
    assert payment["data"]["invoice"]["number"] == "INV-2026-000001"


@pytest.mark.usefixtures("invoices")
def test_a_voided_invoice_and_a_disabled_endpoint(uow: NewUnitOfWork) -> None:
    endpoint = add_endpoint(uow(), "https://a.example/hooks", ["invoice.voided"], at=LATER)
    void_invoice(uow(), "inv-a", at=LATER)
    disable_endpoint(uow(), endpoint.id, at=LATER)
    void_invoice(uow(), "inv-b", at=LATER)  # nobody listens any more: nothing queued
    assert types_sent(uow, endpoint.url) == [
        ("invoice.voided", message_id("invoice.voided", "inv-a"))
    ]
    with pytest.raises(NotFound, match="unknown webhook endpoint 'we_000009'"):
        disable_endpoint(uow(), "we_000009", at=LATER)


def test_the_same_change_reported_twice_is_one_message(uow: NewUnitOfWork) -> None:
    add_endpoint(uow(), "https://a.example/hooks", ["invoice.paid"], at=LATER)
    for _ in range(2):
        with uow() as unit:
            emit(unit, "invoice.paid", subject="inv-x", data={}, at=LATER)
            unit.commit()
    with uow() as unit:  # rolled back: no message
        emit(unit, "invoice.paid", subject="inv-y", data={}, at=LATER)
    assert [v.delivery.message_id for v in list_deliveries(uow())] == [
        message_id("invoice.paid", "inv-x")
    ]
    with uow() as unit, pytest.raises(ValueError, match="unknown webhook event type"):
        emit(unit, "invoice.lost", subject="inv-x", data={}, at=LATER)


def test_endpoints_are_checked_before_anything_is_stored(uow: NewUnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="url: 'mailto:a@b' is not an http"):
        add_endpoint(uow(), "mailto:a@b", ["invoice.paid"], at=LATER)
    with pytest.raises(InvalidInput, match="events: name at least one event type"):
        add_endpoint(uow(), "https://a.example", [], at=LATER)
    assert list_endpoints(uow()) == []


def test_a_failed_delivery_is_sent_again_by_hand(uow: NewUnitOfWork) -> None:
    add_endpoint(uow(), "https://a.example/hooks", ["invoice.paid"], at=LATER)
    short = RetryPolicy(base=timedelta(minutes=1), deadline=timedelta(minutes=1))
    with uow() as unit:
        emit(unit, "invoice.paid", subject="inv-x", data={}, at=LATER, policy=short)
        [due] = unit.webhooks.claim_due(LATER, LATER + timedelta(seconds=40), 10)
        assert due.delivery.next_attempt_at == LATER + timedelta(seconds=40)
        assert unit.webhooks.claim_due(LATER, LATER + timedelta(seconds=40), 10) == []  # held
        failed = due.delivery.after(Attempt(1, LATER, 500, "HTTP 500", 8), short, 0.5)
        unit.webhooks.save_delivery(failed)  # waits 30 + 30 x 0.5 = 45 s: within the minute
        unit.commit()
    [view] = list_deliveries(uow())
    assert (view.delivery.status, view.delivery.next_attempt_at) == (
        "pending",
        LATER + timedelta(seconds=45),
    )
    with pytest.raises(InvalidInput, match="still pending"):
        resend(uow(), view.delivery.id, at=LATER)
    later = LATER + timedelta(seconds=45)
    with uow() as unit:
        current = unit.webhooks.get_delivery(view.delivery.id)
        gave_up = current.after(Attempt(2, later, None, "no answer within 10 s", 10000), short, 0.5)
        assert gave_up.status == "failed"  # 60 + 60 x 0.5 = 90 s more: past the deadline
        unit.webhooks.save_delivery(gave_up)
        unit.commit()
    assert list_deliveries(uow(), status="failed")[0].delivery.attempts[1].error == (
        "no answer within 10 s"
    )
    again = resend(uow(), view.delivery.id, at=later + timedelta(hours=1))
    assert (again.status, again.next_attempt_at) == ("pending", later + timedelta(hours=1))
    [view] = list_deliveries(uow(), status="pending")
    assert [a.number for a in view.delivery.attempts] == [1, 2]  # the history stays
