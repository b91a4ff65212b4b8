"""Reading a plan's sale terms: its one-off charges, their instalments, and a lease's contract.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads what a
plan sells once and the contract it binds a customer to, in the same style:
every problem is recorded with its field path
(``one_off_charges[0].instalments: must be at least 1, not 0``,
``early_termination_fee.percent: must be at most 100, not 150``) and the plan
loader raises them all together, storing nothing.

A one-off charge is ``{code, name?, amount, instalments?, on_cancel?}``: the
amount is money in the plan's currency, greater than 0; ``instalments`` a
whole number from 1 (the default) to
:data:`~iotbill.domain.instalments.MAX_INSTALMENTS`, and at most the amount in
minor units, so that no part is zero; ``on_cancel`` is ``bill_remaining`` (the
default) or ``forgive``.

A lease's contract is four top-level fields: ``term`` (a whole number of
billing periods, from 1 to :data:`~iotbill.domain.lease.MAX_TERMS`, on a plan
with a fixed fee: the fees a term binds), ``at_term_end`` (``renew``,
``evergreen``, the default, or ``cancel``), ``early_termination_fee``
(``{amount: 500.00}`` or ``{percent: 50}``, above 0 and at most 100) and
``buy_out`` (money, above 0). The last three need a ``term``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from iotbill.domain.catalog import (
    AT_TERM_END,
    ON_CANCEL,
    AtTermEnd,
    ContractTerms,
    FixedFee,
    OnCancel,
    OneOffPlanCharge,
    TerminationFee,
)
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.instalments import MAX_INSTALMENTS
from iotbill.domain.lease import MAX_TERMS
from iotbill.domain.money import Currency

ONE_OFF_FIELDS = ("code", "name", "amount", "instalments", "on_cancel")
CONTRACT_FIELDS = ("term", "at_term_end", "early_termination_fee", "buy_out")
FEE_FIELDS = ("amount", "percent")


def parse_one_off_charges(
    reader: FieldReader, plan_currency: Currency | None
) -> list[OneOffPlanCharge | None]:
    """The plan's ``one_off_charges``, each ``None`` where it has a problem (recorded)."""
    return [
        _one_off(FieldReader(item, f"one_off_charges[{index}]", reader.problems), plan_currency)
        for index, item in enumerate(reader.items("one_off_charges"))
    ]


def parse_contract(
    reader: FieldReader, plan_currency: Currency | None, fees: list[FixedFee | None]
) -> ContractTerms | None:
    """The plan's lease contract, or ``None`` when it has no ``term`` (or a problem,
    recorded)."""
    if not any(reader.has(name) for name in CONTRACT_FIELDS):
        return None
    before = len(reader.problems.problems)
    term: int | None = None
    if not reader.has("term"):
        for name in CONTRACT_FIELDS[1:]:
            if reader.has(name):
                reader.problems.add(reader.path(name), "needs a term (term: N periods)")
    else:
        term = reader.integer("term", minimum=1)
        if term is not None and term > MAX_TERMS:
            reader.problems.add(reader.path("term"), f"must be at most {MAX_TERMS}, not {term}")
        if not fees:
            reader.problems.add(
                reader.path("term"),
                "binds the plan's fixed fees for a number of periods, and the plan has none",
            )
    at_term_end = reader.choice("at_term_end", AT_TERM_END, default="evergreen")
    fee = _termination_fee(reader, plan_currency)
    buy_out = _money(reader, "buy_out", plan_currency)
    if len(reader.problems.problems) > before or term is None:
        return None
    return ContractTerms(term, cast(AtTermEnd, at_term_end), fee, buy_out)


def _termination_fee(reader: FieldReader, plan_currency: Currency | None) -> TerminationFee | None:
    fee = reader.section("early_termination_fee")
    if fee is None:
        return None
    before = len(reader.problems.problems)
    fee.reject_unknown(FEE_FIELDS)
    if fee.has("amount") == fee.has("percent"):
        reader.problems.add(fee.at, "must give either an amount or a percent (of the fees left)")
        return None
    amount = _money(fee, "amount", plan_currency)
    percent = fee.decimal("percent", required=False, positive=True)
    if percent is not None and percent > 100:
        reader.problems.add(fee.path("percent"), f"must be at most 100, not {percent}")
    if len(reader.problems.problems) > before:
        return None
    return TerminationFee(amount, percent)


def _money(reader: FieldReader, name: str, plan_currency: Currency | None) -> Decimal | None:
    """An optional amount of money above 0, at most at the currency's minor unit."""
    amount = reader.decimal(name, required=False, positive=True)
    money = plan_currency
    if amount is not None and money is not None and amount != amount.quantize(money.quantum):
        reader.problems.add(
            reader.path(name),
            f"{amount} has more decimals than {money.code} allows ({money.minor_units})",
        )
        return None
    return amount


def _one_off(reader: FieldReader, plan_currency: Currency | None) -> OneOffPlanCharge | None:
    reader.reject_unknown(ONE_OFF_FIELDS)
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    if not reader.has("amount"):
        reader.problems.add(reader.path("amount"), "is required")
    amount = _money(reader, "amount", plan_currency)
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
