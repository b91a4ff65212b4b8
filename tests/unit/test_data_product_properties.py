"""Properties of data products over generated, shuffled and replayed readings:

- no delivered cell has fewer than k distinct owners;
- no reading from outside a consented interval reaches a cell: changing every such
  reading changes nothing delivered;
- the revenue split gives owners + operator = revenue to the cent, no owner more than
  its proportional part of the pool;
- a buyer exports only the products its own plan holds; any other is refused, and
  nothing is stored.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.credits import balances
from iotbill.domain.errors import InvalidInput
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_products import (
    DataProduct,
    Reading,
    allocate,
    tabulate,
)
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from iotbill.services import data_products as service
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.subscriptions import create_subscription

START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = Period(START, START + timedelta(hours=12))
USD = currency("USD")


def product(k: int, code: str = "energy") -> DataProduct:
    return DataProduct(
        code=code,
        meter="energy",
        event_type="energy.reading",
        property="kwh",
        aggregation="sum",
        group_by="region",
        bucket="hour",
        k=k,
        price=Decimal("0.05"),
        owner_share=Decimal(40),
    )


readings_strategy = st.lists(
    st.tuples(
        st.integers(0, 7),  # device; owner = device // 2
        st.integers(-60, 13 * 60),  # minute, some outside the window
        st.sampled_from(["north", "south"]),
        st.integers(0, 5000),  # Wh
    ),
    max_size=120,
)
consents_strategy = st.lists(
    st.tuples(st.integers(0, 12 * 60), st.one_of(st.none(), st.integers(1, 12 * 60))),
    min_size=8,
    max_size=8,
)


def _readings(raw: list[tuple[int, int, str, int]]) -> list[Reading]:
    return [
        Reading(f"o{device // 2}", f"d{device}", START + timedelta(minutes=minute), region,
                Decimal(wh) / 1000)
        for device, minute, region, wh in raw
    ]  # fmt: skip


def _consents(raw: list[tuple[int, int | None]]) -> list[Consent]:
    found = []
    for device, (given_minute, length) in enumerate(raw):
        given_at = START + timedelta(minutes=given_minute)
        withdrawn = None if length is None else given_at + timedelta(minutes=length)
        found.append(Consent(f"d{device}", given_at, withdrawn))
    return found


@settings(max_examples=150, deadline=None)
@given(readings_strategy, consents_strategy, st.integers(2, 4), st.randoms())
def test_no_cell_has_fewer_than_k_owners_or_any_reading_without_consent(
    raw: list[tuple[int, int, str, int]],
    raw_consents: list[tuple[int, int | None]],
    k: int,
    shuffler: random.Random,
) -> None:
    readings, consents = _readings(raw), _consents(raw_consents)
    found = tabulate(product(k), readings, consents, WINDOW)
    replayed = readings + readings[: len(readings) // 3]
    shuffler.shuffle(replayed)
    # Replayed readings are another reading each in this pure core (a store keeps each id
    # once); the owners of every cell stay the same.
    assert [c.owners for c in tabulate(product(k), replayed, consents, WINDOW).cells] == [
        c.owners for c in found.cells
    ]
    allowed = [
        reading
        for reading in readings
        if WINDOW.start <= reading.occurred_at < WINDOW.end
        and any(c.device_id == reading.device and c.covers(reading.occurred_at) for c in consents)
    ]
    for cell in found.cells:
        members = [
            reading
            for reading in allowed
            if reading.group == cell.group
            and product(k).bucket_of(reading.occurred_at) == cell.bucket
        ]
        assert len({reading.owner for reading in members}) == cell.owners >= k
        assert sum(reading.value for reading in members) == cell.value
        assert len(members) == cell.events
    # Readings outside consent: change them all, and nothing delivered changes.
    changed = [
        reading if reading in allowed else Reading(reading.owner, reading.device,
                                                   reading.occurred_at, reading.group,
                                                   reading.value + 7)
        for reading in readings
    ]  # fmt: skip
    assert tabulate(product(k), changed, consents, WINDOW) == found


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**7),
    st.integers(0, 100),
    st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 10**6), max_size=8),
)
def test_owner_credits_and_operator_revenue_add_up_to_the_revenue(
    cents: int, share: int, contributions: dict[str, int]
) -> None:
    revenue = Decimal(cents) / 100
    split = allocate(revenue, Decimal(share), contributions, USD)
    assert sum((amount for _, amount in split.owners), Decimal(0)) + split.operator == revenue
    total = sum(contributions.values())
    for owner, amount in split.owners:
        assert 0 < amount <= split.pool * contributions[owner] / total
    assert split.pool <= revenue * share / 100
    assert split.operator >= 0


BUYERS = ("b0", "b1", "b2")
PRODUCTS = ("p0", "p1", "p2", "p3")


def _plan_text(buyer: str, codes: set[str]) -> str:
    products = "".join(
        f"  - {{code: {code}, meter: energy, group_by: region, bucket: hour, k: 2, "
        'price: "0.05", owner_share: 40}\n'
        for code in sorted(codes)
    )
    return (
        f"code: plan-{buyer}\ncurrency: USD\ninterval: month\n"
        "fixed_fees: [{code: access, amount: '1.00'}]\n"
        "meters: [{code: energy, event_type: energy.reading, aggregation: sum, property: kwh}]\n"
        + ("data_products:\n" + products if codes else "")
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sets(st.sampled_from(PRODUCTS)), min_size=3, max_size=3))
def test_a_buyer_exports_only_its_own_products(holdings: list[set[str]]) -> None:
    store = MemoryStore().unit_of_work_factory()
    clock = FrozenClock(START)
    for index, buyer in enumerate(BUYERS):
        text = _plan_text(buyer, holdings[index])
        apply_plan(store("default"), parse_plan_document(text, f"{buyer}.yaml"), clock)
        add_customer(store("default"), id=buyer, name=buyer, currency="USD", timezone="UTC")
        create_subscription(store("default"), customer=buyer, plan=f"plan-{buyer}", start=START)
    for owner in ("o1", "o2"):
        add_customer(store("default"), id=owner, name=owner, currency="USD", timezone="UTC")
        add_device(store("default"), f"d-{owner}", customer=owner, start=START)
    written: list[tuple[str, str]] = []
    for index, buyer in enumerate(BUYERS):
        for code in PRODUCTS:

            def deliver(found: DataProduct, cells: object, buyer: str = buyer) -> None:
                written.append((buyer, found.code))

            def export(code: str = code, buyer: str = buyer) -> None:
                service.export_data(
                    store("default"), product=code, buyer=buyer, start=START, end=WINDOW.end,
                    format="csv", at=START + timedelta(days=1), deliver=deliver,
                )  # fmt: skip

            if code in holdings[index]:
                export()
                continue
            with pytest.raises(InvalidInput) as refused:
                export()
            assert refused.value.problems[0].location == "product"
    expected = [(buyer, code) for index, buyer in enumerate(BUYERS)
                for code in PRODUCTS if code in holdings[index]]  # fmt: skip
    assert written == expected
    with store("default") as uow:
        assert [(e.buyer_id, e.product) for e in uow.data_products.exports()] == expected
        assert all(value == 0 for value in balances(uow.credits.entries()).values())
