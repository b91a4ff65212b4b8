"""Price models: one pure model per file, registered here by name.

A price model is a frozen dataclass of typed parameters with one ``price``
method that turns :class:`Usage` into a :class:`Rating`: an exact amount and
the detail lines that explain it. Rounding is not done here: the invoice line
rounds once (:func:`iotbill.domain.money.round_money`).
"""

from __future__ import annotations

from iotbill.domain.pricing.base import Detail, PriceModel, Rating, Usage
from iotbill.domain.pricing.dynamic import Dynamic
from iotbill.domain.pricing.flat import Flat
from iotbill.domain.pricing.graduated import Graduated
from iotbill.domain.pricing.graduated_percentage import GraduatedPercentage
from iotbill.domain.pricing.package import Package
from iotbill.domain.pricing.per_unit import PerUnit
from iotbill.domain.pricing.percentage import Percentage
from iotbill.domain.pricing.tiers import Tier
from iotbill.domain.pricing.volume import Volume

PRICE_MODELS: dict[str, type[PriceModel]] = {
    model.name: model
    for model in (
        Flat,
        PerUnit,
        Graduated,
        Volume,
        Package,
        Percentage,
        GraduatedPercentage,
        Dynamic,
    )
}

__all__ = [
    "PRICE_MODELS",
    "Detail",
    "Dynamic",
    "Flat",
    "Graduated",
    "GraduatedPercentage",
    "Package",
    "PerUnit",
    "Percentage",
    "PriceModel",
    "Rating",
    "Tier",
    "Usage",
    "Volume",
]
