"""Freemium with entitlements: a free allowance that blocks, a paid upgrade that bills overage.

The plans are the templates ``examples/models/freemium.yaml`` (1,000 readings a
month free, overage blocked, alerts at 80 % and 100 %) and
``freemium-pro.yaml`` (30.00 a month in advance, 10,000 readings included,
0.002 a reading above). A customer in UTC subscribes to the free plan on
1 January 2026 and upgrades immediately on the 10th.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.entitlements import check_entitlement, list_alerts
from iotbill.services.ingest import ingest
from iotbill.services.webhooks import add_endpoint, list_deliveries
from tests.stories.world import TENANT, World, lines

EXAMPLES = Path(__file__).parents[2] / "examples" / "models"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def freemium_world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan((EXAMPLES / "freemium.yaml").read_text())
    world.plan((EXAMPLES / "freemium-pro.yaml").read_text())
    world.customer("acme", "USD", "UTC")
    world.device("m1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "monitor-free", utc(2026, 1, 1))
    return world


def readings(world: World, first: datetime, every: timedelta, count: int, *, tag: str) -> None:
    """``count`` readings of ``m1`` from ``first``, one every ``every``, stored at once."""
    events = [
        SourcedEvent(UsageEvent(f"{tag}-{n}", "reading", "m1", first + n * every), n + 1)
        for n in range(count)
    ]
    report = ingest(world.open, TENANT, events, clock=world.clock, clock_skew=world.clock_skew)
    assert (report.accepted, report.rejected) == (count, ())


def check(world: World, feature: str, at: datetime) -> tuple[bool, str, str, str]:
    answer = check_entitlement(world.open(TENANT), customer="acme", feature=feature, as_of=at)
    return answer.has_access, str(answer.used), str(answer.limit), str(answer.remaining)


def test_the_free_allowance_blocks_at_1000_and_bills_nothing() -> None:
    world = freemium_world()
    # 1,000 readings, one every 10 minutes from 1 January: the last at 7 January 22:30.
    world.clock.set(utc(2026, 1, 8))
    readings(world, utc(2026, 1, 1), timedelta(minutes=10), 1000, tag="jan")
    assert check(world, "readings", utc(2026, 1, 7, 22, 29)) == (True, "999", "1000", "1")
    assert check(world, "readings", utc(2026, 1, 8)) == (False, "1000", "1000", "0")
    # The device keeps sending: still no, and nothing is billed for it.
    readings(world, utc(2026, 1, 8, 12), timedelta(minutes=1), 5, tag="late")
    assert check(world, "readings", utc(2026, 1, 9)) == (False, "1005", "1000", "0")
    no_diagnostics = check_entitlement(
        world.open(TENANT), customer="acme", feature="remote_diagnostics", as_of=utc(2026, 1, 9)
    )
    assert (no_diagnostics.has_access, no_diagnostics.reason) == (
        False,
        "plan 'monitor-free' withholds it",
    )
    world.bill(utc(2026, 2, 1))
    # No fee on the free plan: nothing to invoice at the start. January's 1,005 readings
    # go on its invoice at 0.00 (blocked, never billed).
    [january] = world.invoices("acme")
    assert (lines(january), str(january.total)) == ([("usage", "readings", "0.00")], "0.00")
    assert january.lines[0].quantity == 1005


def test_an_immediate_upgrade_on_the_10th_answers_yes_and_bills_the_prorated_fee() -> None:
    world = freemium_world()
    add_endpoint(
        world.open(TENANT),
        "https://hooks.example/alerts",
        ["entitlement.threshold_crossed"],
        at=utc(2026, 1, 1),
    )
    world.clock.set(utc(2026, 1, 7))
    readings(world, utc(2026, 1, 1), timedelta(minutes=10), 800, tag="jan")  # 80 % reached
    world.clock.set(utc(2026, 1, 8))
    readings(world, utc(2026, 1, 6, 13, 20), timedelta(minutes=10), 200, tag="more")  # 100 %
    assert check(world, "readings", utc(2026, 1, 9)) == (False, "1000", "1000", "0")

    world.change("sub-1", "monitor-pro", utc(2026, 1, 10), "immediate")
    # Usage counts from the upgrade, against the whole 10,000 (never prorated).
    assert check(world, "readings", utc(2026, 1, 10)) == (True, "0", "10000", "10000")
    world.clock.set(utc(2026, 2, 1))
    # 10,500 readings from the 10th, one every 3 minutes: the last on 31 January at 20:57.
    readings(world, utc(2026, 1, 10), timedelta(minutes=3), 10_500, tag="pro")
    assert check(world, "readings", utc(2026, 1, 31, 23)) == (True, "10500", "10000", "0")
    assert check_entitlement(
        world.open(TENANT), customer="acme", feature="retention_days", as_of=utc(2026, 1, 20)
    ).value == Decimal(90)

    world.bill(utc(2026, 2, 1))
    upgrade, january = world.invoices("acme")
    # 30.00 for 22 of January's 31 days, by the second: 30.00 x 22/31 = 21.2903... = 21.29.
    assert lines(upgrade) == [("fixed_fee", "pro", "21.29")]
    # The free phase's 1,000 readings at 0.00; the pro phase's from the 10th:
    # 10,500 - 10,000 = 500 x 0.002 = 1.00; then February's 30.00 in advance.
    assert lines(january) == [
        ("usage", "readings", "0.00"),
        ("usage", "readings", "1.00"),
        ("fixed_fee", "pro", "30.00"),
    ]
    assert [line.quantity for line in january.lines[:2]] == [1000, 10_500]
    assert str(january.total) == "31.00"

    alerts = list_alerts(world.open(TENANT), "acme")
    assert [
        (str(a.percent), str(a.used), str(a.allowance), a.counted_from, a.reached_at)
        for a in alerts
    ] == [
        ("80", "800", "1000", utc(2026, 1, 1), utc(2026, 1, 7)),
        ("100", "1000", "1000", utc(2026, 1, 1), utc(2026, 1, 8)),
        ("80", "10500", "10000", utc(2026, 1, 10), utc(2026, 2, 1)),
        ("100", "10500", "10000", utc(2026, 1, 10), utc(2026, 2, 1)),
    ]
    deliveries = list_deliveries(world.open(TENANT))
    assert sorted(view.type for view in deliveries) == ["entitlement.threshold_crossed"] * 4
