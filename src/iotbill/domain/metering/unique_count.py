"""``unique_count``: how many distinct values a property takes in the period.

Values compare as JSON values: ``1`` and ``1.0`` are the same number, ``"1"``
is a different (string) value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import numpy as np

from iotbill.domain.metering.base import Carried, PropertyKind, Window


@dataclass(frozen=True)
class UniqueCount:
    name: ClassVar[str] = "unique_count"
    property_kind: ClassVar[PropertyKind] = PropertyKind.KEY
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        return Decimal(int(np.unique(window.keys).size))
