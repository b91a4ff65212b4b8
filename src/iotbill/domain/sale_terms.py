"""Reading a plan's sale terms: its one-off charges and their instalments.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads what a
plan sells once, in the same style: every problem is recorded with its field
path (``one_off_charges[0].instalments: must be at least 1, not 0``) and the
plan loader raises them all together, storing nothing.

A one-off charge is ``{code, name?, amount, instalments?, on_cancel?}``: the
amount is money in the plan's currency, greater than 0; ``instalments`` a
whole number from 1 (the default) to
:data:`~iotbill.domain.instalments.MAX_INSTALMENTS`, and at most the amount in
minor units, so that no part is zero; ``on_cancel`` is ``bill_remaining`` (the
default) or ``forgive``.
"""

from __future__ import annotations

from typing import cast

from iotbill.domain.catalog import ON_CANCEL, OnCancel, OneOffPlanCharge
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.instalments import MAX_INSTALMENTS
from iotbill.domain.money import Currency

ONE_OFF_FIELDS = ("code", "name", "amount", "instalments", "on_cancel")


def parse_one_off_charges(
    reader: FieldReader, plan_currency: Currency | None
) -> list[OneOffPlanCharge | None]:
    """The plan's ``one_off_charges``, each ``None`` where it has a problem (recorded)."""
    return [
        _one_off(FieldReader(item, f"one_off_charges[{index}]", reader.problems), plan_currency)
        for index, item in enumerate(reader.items("one_off_charges"))
    ]


def _one_off(reader: FieldReader, plan_currency: Currency | None) -> OneOffPlanCharge | None:
    reader.reject_unknown(ONE_OFF_FIELDS)
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    amount = reader.decimal("amount", positive=True)
    money = plan_currency
    if amount is not None and money is not None and amount != amount.quantize(money.quantum):
        reader.problems.add(
            reader.path("amount"),
            f"{amount} has more decimals than {money.code} allows ({money.minor_units})",
        )
    count = reader.integer("instalments", default=1, minimum=1)
    if count is not None and count > MAX_INSTALMENTS:
        reader.problems.add(
            reader.path("instalments"), f"must be at most {MAX_INSTALMENTS}, not {count}"
        )
    elif count is not None and amount is not None and plan_currency is not None:
        minor_units = amount / plan_currency.quantum
        if count > minor_units:
            reader.problems.add(
                reader.path("instalments"),
                f"{count} parts of {amount} would leave some at 0: at most {minor_units:f}",
            )
    on_cancel = reader.choice("on_cancel", ON_CANCEL, default="bill_remaining")
    if len(reader.problems.problems) > before:
        return None
    assert code is not None and amount is not None and count is not None
    return OneOffPlanCharge(code, amount, count, cast(OnCancel, on_cancel), name)
