"""The seeded telemetry of shared batteries (asset-sharing demo)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.demo.telemetry import GRID_TARIFF, capacity_sales

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = (datetime(2026, 3, 1, tzinfo=BERLIN), datetime(2026, 4, 1, tzinfo=BERLIN))


def test_the_same_seed_gives_the_same_sales_and_another_seed_others() -> None:
    first = list(capacity_sales("b1", *MARCH, BERLIN, np.random.default_rng(5)))
    assert first == list(capacity_sales("b1", *MARCH, BERLIN, np.random.default_rng(5)))
    assert first != list(capacity_sales("b1", *MARCH, BERLIN, np.random.default_rng(6)))


def test_a_battery_sells_in_the_evening_peak_at_the_tariff_of_the_hour_or_on_the_spot() -> None:
    sales = list(capacity_sales("b1", *MARCH, BERLIN, np.random.default_rng(1)))
    assert 30 < len(sales) < 90  # about 31 days x 5 hours x 0.35 = 54
    for sale in sales:
        local = sale.timestamp.astimezone(BERLIN)
        assert MARCH[0] <= sale.timestamp < MARCH[1] and 17 <= local.hour <= 21
        assert sale.type == "capacity.sold" and sale.device == "b1"
        kwh, price, buyer = (sale.properties[name] for name in ("kwh", "price", "buyer"))
        assert Decimal("1.5") <= kwh <= Decimal(9) and kwh.as_tuple().exponent == -3
        if buyer == "grid":
            assert price == Decimal(GRID_TARIFF[local.hour])
        else:
            assert (buyer, price) in {("spot", Decimal("0.1100")), ("spot", Decimal("0.1450"))}
    assert {sale.properties["buyer"] for sale in sales} == {"grid", "spot"}
