"""The pure rules of data monetization: consent intervals, product definitions, the split."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.models.consent import consented, give_consent, withdraw_consent
from iotbill.domain.models.data_products import allocate
from iotbill.domain.money import currency

JAN = [datetime(2026, 1, day, tzinfo=UTC) for day in range(1, 32)]


def test_consent_intervals_never_overlap_and_a_withdrawal_follows_its_consent() -> None:
    history = give_consent((), "m1", JAN[9])
    with pytest.raises(Conflict, match="device 'm1' consents already, since 2026-01-10"):
        give_consent(history, "m1", JAN[11])
    with pytest.raises(InvalidInput) as early:
        withdraw_consent(history, "m1", JAN[9])
    assert str(early.value) == "at: must be after the consent was given (2026-01-10T00:00:00+00:00)"
    history = withdraw_consent(history, "m1", JAN[19])
    with pytest.raises(Conflict, match="device 'm1' has no consent to withdraw"):
        withdraw_consent(history, "m1", JAN[21])
    with pytest.raises(InvalidInput, match="at: must not be before the last withdrawal"):
        give_consent(history, "m1", JAN[14])
    history = give_consent(history, "m1", JAN[24])
    assert [consented(history, "m1", day) for day in (JAN[8], JAN[9], JAN[19], JAN[24])] == [
        False, True, False, True,
    ]  # fmt: skip
    assert not consented(history, "m2", JAN[24])


PLAN = """\
code: data
currency: USD
interval: month
meters:
  - {code: energy, event_type: energy.reading, aggregation: sum, property: kwh}
  - {code: peak, event_type: energy.reading, aggregation: max, property: kw}
data_products:
  - {code: a, meter: energy, group_by: region, bucket: hour, k: 1, price: "0.05"}
  - {code: b, meter: peak, group_by: region, bucket: week, k: 3, price: "0", owner_share: 101}
  - {code: c, meter: nothing, group_by: region, bucket: day, price: "1"}
  - {code: a, meter: energy, group_by: region, bucket: day, k: 2, price: "1"}
"""


def test_every_problem_of_a_data_product_is_reported_at_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(PLAN, "data.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "data.yaml: data_products[0].k: must be at least 2, not 1: a cell of one owner would "
        "expose that owner",
        "data.yaml: data_products[1].meter: meter 'peak' must sum a property or count events, "
        "without filters, group_by, cap, recurring or rounding (the product groups its cells"
        " itself)",
        "data.yaml: data_products[1].bucket: must be one of hour, day, not 'week'",
        "data.yaml: data_products[1].price: must be greater than 0, not 0",
        "data.yaml: data_products[1].owner_share: must be a percent from 0 to 100, not 101",
        "data.yaml: data_products[2].meter: unknown meter 'nothing' (meters: energy, peak)",
        "data.yaml: data_products[2].k: is required",
        "data.yaml: data_products[3].code: 'a' is already used in data_products[0]",
    ]


@pytest.mark.parametrize("option", ["recurring: true", "rounding: {function: ceil}"])
def test_a_data_product_cannot_sell_a_recurring_or_rounded_total(option: str) -> None:
    text = PLAN.replace(
        "aggregation: sum, property: kwh}", f"aggregation: sum, property: kwh, {option}}}"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "data.yaml")
    assert (
        "data.yaml: data_products[0].meter: meter 'energy' must sum a property or count events,"
        " without filters, group_by, cap, recurring or rounding (the product groups its cells"
        " itself)"
    ) in [str(problem) for problem in caught.value.problems]


def test_the_split_of_the_worked_example() -> None:
    # 30 cents, 40 %: a pool of 12 cents; 5, 3 and 2 events of 10 get 6, 3 and 2 cents
    # (3.6 and 2.4 rounded down); the operator keeps 30 - 11 = 19 cents.
    split = allocate(Decimal("0.30"), Decimal(40), {"a": 5, "b": 3, "c": 2}, currency("USD"))
    assert (split.pool, split.owners, split.operator) == (
        Decimal("0.12"),
        (("a", Decimal("0.06")), ("b", Decimal("0.03")), ("c", Decimal("0.02"))),
        Decimal("0.19"),
    )
    yen = allocate(Decimal(1000), Decimal("33.3"), {"a": 1, "b": 2}, currency("JPY"))
    # 333 yen pool: 111 and 222; the operator 1000 - 333 = 667.
    assert (yen.owners, yen.operator) == (
        (("a", Decimal(111)), ("b", Decimal(222))),
        Decimal(667),
    )
