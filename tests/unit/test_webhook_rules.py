"""Webhook rules with exact numbers: signatures, waits between tries, deadlines."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.webhooks import (
    Attempt,
    Delivery,
    RetryPolicy,
    WebhookEndpoint,
    message_id,
    retry_delay,
    signature,
)

AT = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    base=timedelta(seconds=10), cap=timedelta(minutes=1), deadline=timedelta(minutes=2)
)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    expected = hmac.new(b"whsec_k", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1767225600, body) == "v1=" + expected
    assert signature("whsec_k", 1767225601, body) != "v1=" + expected
    assert signature("whsec_j", 1767225600, body) != "v1=" + expected


def test_waits_double_from_the_base_up_to_the_cap_half_of_each_random() -> None:
    # step = min(60, 10 x 2^(n-1)): 10, 20, 40, 60, 60; the wait is step/2 + step/2 x random
    assert [retry_delay(POLICY, n, 0.0).total_seconds() for n in range(1, 6)] == [
        5.0, 10.0, 20.0, 30.0, 30.0,
    ]  # fmt: skip
    assert [retry_delay(POLICY, n, 0.999).total_seconds() for n in (1, 4)] == [9.995, 59.97]
    assert retry_delay(POLICY, 1000, 0.5) == timedelta(seconds=45)
    with pytest.raises(ValueError):
        retry_delay(POLICY, 0, 0.5)


def failure(number: int, at: datetime) -> Attempt:
    return Attempt(number, at, 500, "HTTP 500", 12)


def test_a_delivery_waits_after_each_failure_until_its_deadline_then_fails() -> None:
    delivery = Delivery("dlv_1", "evt_1", "we_1", "pending", AT, AT + POLICY.deadline)
    first = delivery.after(failure(1, AT), POLICY, 0.5)  # waits 5 + 5 x 0.5 = 7.5 s
    assert (first.status, first.next_attempt_at) == ("pending", AT + timedelta(seconds=7.5))
    at = first.next_attempt_at
    second = first.after(failure(2, at), POLICY, 0.5)  # 10 + 10 x 0.5 = 15 s later
    assert second.next_attempt_at == AT + timedelta(seconds=22.5)
    late = AT + timedelta(seconds=101)  # the next wait (>= 20 s) ends after the 120 s deadline
    third = second.after(failure(3, late), POLICY, 0.0)
    assert third.status == "failed" and len(third.attempts) == 3
    resent = third.resent(AT + timedelta(hours=1), POLICY)
    assert (resent.status, resent.next_attempt_at, resent.deadline) == (
        "pending", AT + timedelta(hours=1), AT + timedelta(hours=1, minutes=2),
    )  # fmt: skip
    assert resent.attempts == third.attempts
    done = resent.after(Attempt(4, AT + timedelta(hours=1), 204, None, 3), POLICY, 0.5)
    assert (done.status, done.delivered_at) == ("delivered", AT + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="still pending"):
        resent.resent(AT, POLICY)


def test_message_ids_depend_on_what_happened_only() -> None:
    assert message_id("invoice.paid", "inv-1") == message_id("invoice.paid", "inv-1")
    assert message_id("invoice.paid", "inv-1") != message_id("invoice.finalized", "inv-1")
    assert message_id("invoice.paid", "inv-1") != message_id("invoice.paid", "inv-2")


def test_an_endpoint_needs_an_http_url_and_known_event_types() -> None:
    with pytest.raises(InvalidInput) as refused:
        WebhookEndpoint("we_1", "ftp://x", frozenset({"invoice.paid", "invoice.lost"}), "s", AT)
    assert [str(p) for p in refused.value.problems][:2] == [
        "url: 'ftp://x' is not an http:// or https:// address",
        "events: unknown event type 'invoice.lost' (known: invoice.finalized, invoice.paid,"
        " invoice.voided, invoice.overdue, invoice.reminder, payment.received,"
        " credit_note.created, credits.balance_threshold_crossed, entitlement.threshold_crossed,"
        " order.placed, work_order.opened)",
    ]
