"""Asset sharing: the spare capacity of a customer's device sold to third parties.

A *shared asset* is a device whose owner (the customer) is on a plan with a
``sharing`` section (:class:`SharingTerms`). The device reports each sale of its
spare capacity as an event of ``event_type`` carrying the quantity sold, the
market price of one unit and the buyer's name. A buyer is registered for the
device under that name (:class:`AssetBuyer`): either a customer of iotbill (a
grid operator, an aggregator, with its own billing details, invoices and
currency), invoiced for what it bought, or a market that pays the operator
directly, whose sales are recorded as received revenue.

Each billing period of the owner's subscription is *settled* once it has
ended (:class:`Settlement`): the sales are grouped by asset, buyer and price
into :class:`SoldLine` s, each rounded once by the one rule
(:func:`~iotbill.domain.money.round_money`, half up to the minor unit). Per asset,
the revenue is the sum of its rounded lines; the owner's credit is the
configured ``share`` of it, rounded by the same rule; the operator keeps the
rest, so nothing is lost or made up (:func:`split`). Worked example, EUR, share
30 %: 12.5 kWh at 0.2100 and 40.125 kWh at 0.1850 are 2.625 -> 2.63 and
7.423125 -> 7.42, revenue 10.05; credit 30 % x 10.05 = 3.015 -> 3.02; operator
10.05 - 3.02 = 7.03.

What a settlement bills (:func:`settlement_charges`): one one-off line per sold line
of an invoiced buyer, on the buyer's next invoice; one credit line per asset
(kind ``credit``, negative, taxed like every line, so before tax, like a discount)
on the owner's next invoice. Sales reported after their period was settled
are settled again, by a later settlement of the same period (``number`` 2, 3,
...), whose lines are labelled late and billed in the next period.

Ledger (:func:`settlement_entries`), every entry one amount from one account to
another, so each balances; per settlement and asset, what buyers owe equals the
owner's credit plus the operator's revenue, to the cent:

=====================================  ===============================  ==========================
movement                               debit                            credit
=====================================  ===============================  ==========================
a sale to an invoiced buyer B          ``customer:B:receivable``        ``asset_sales``
a sale the market paid directly        ``market_receipts``              ``asset_sales``
the owner O's share                    ``asset_sales``                  ``customer:O:revenue_share``
the operator's part                    ``asset_sales``                  ``operator_revenue``
the share credited on O's invoice      ``customer:O:revenue_share``     ``customer:O:receivable``
=====================================  ===============================  ==========================

``asset_sales`` is a clearing account: every settlement leaves it at zero.

>>> from iotbill.domain.money import currency
>>> split(Decimal("10.05"), Decimal(30), currency("EUR"))
(Decimal('3.02'), Decimal('7.03'))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from iotbill.domain.credits import LedgerEntry, receivable_account
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.events import UsageEvent
from iotbill.domain.input_rules import ID_LIMITS, plan_number_problem, text_problem
from iotbill.domain.money import Currency, format_money, parse_decimal, round_money
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.quantities import decimal_text

ASSET_SALES = "asset_sales"
"""The clearing account of sales: credited with what buyers owe, debited by the split."""
MARKET_RECEIPTS = "market_receipts"
"""What markets paid the operator directly for the sales it made."""
OPERATOR_REVENUE = "operator_revenue"
"""The operator's part of every sale."""
HUNDRED = Decimal(100)


def revenue_share_account(customer_id: str) -> str:
    """The account of what the operator owes ``customer_id`` as its share of sales."""
    return f"customer:{customer_id}:revenue_share"


@dataclass(frozen=True, slots=True)
class SharingTerms:
    """A plan's ``sharing`` section: sales are events of ``event_type`` whose properties
    ``quantity``, ``price`` (of one unit, in the plan's currency) and ``buyer`` (a name
    registered for the device) say what was sold; the owner is credited ``share``
    percent. ``unit`` names the quantity on invoices (``kWh``)."""

    event_type: str
    quantity: str
    price: str
    buyer: str
    share: Decimal
    unit: str = "unit"


@dataclass(frozen=True, slots=True)
class AssetBuyer:
    """Who buys capacity of ``device_id`` under the name ``code`` (as its sale events
    name it): the customer ``customer_id``, invoiced for it, or (``None``) a market
    that pays the operator directly."""

    device_id: str
    code: str
    customer_id: str | None
    added_at: datetime

    @classmethod
    def create(
        cls, *, device_id: str, code: str, customer_id: str | None, added_at: datetime
    ) -> AssetBuyer:
        """A registration from raw input; every problem at once, each at its field."""
        problems = ProblemCollector()
        if not code.strip():
            problems.add("buyer", "must name the buyer as the sale events do")
        elif (wrong := text_problem(code, ID_LIMITS["code"])) is not None:
            problems.add("buyer", wrong)
        if customer_id is not None and not customer_id.strip():
            problems.add("customer", "must be a customer's id")
        try:
            added_at = require_aware(added_at, "at")
        except InvalidInput as error:
            problems.extend(error.problems)
        problems.raise_if_any()
        return cls(device_id, code, customer_id, added_at)

    @property
    def paid_directly(self) -> bool:
        return self.customer_id is None

    def as_json(self) -> dict[str, Any]:
        return {
            "device": self.device_id,
            "buyer": self.code,
            "customer": self.customer_id,
            "paid_directly": self.paid_directly,
            "added_at": self.added_at.isoformat(),
        }


def buyer_problem(
    owner_id: str, buyer_id: str, buyer_currency: Currency, plan: Currency
) -> str | None:
    """Why customer ``buyer_id`` cannot buy from an asset of ``owner_id`` billed in
    ``plan`` currency, or ``None``: buyers are invoiced in the owner's plan currency,
    and there is no conversion yet."""
    if buyer_id == owner_id:
        return f"{buyer_id!r} owns the asset; a buyer is a third party"
    if buyer_currency != plan:
        return (
            f"{buyer_id!r} is billed in {buyer_currency.code}, but the asset's plan is in"
            f" {plan.code}: a buyer is invoiced in the owner's plan currency"
            " (there is no currency conversion)"
        )
    return None


@dataclass(frozen=True, slots=True)
class Sale:
    """One sale event read: ``quantity`` units at ``price`` each to ``buyer``."""

    event_id: str
    device_id: str
    at: datetime
    buyer: str
    quantity: Decimal
    price: Decimal


def read_sales(events: Iterable[UsageEvent], terms: SharingTerms) -> list[Sale]:
    """The sales among ``events`` (those of the terms' event type), in the given order.

    :class:`InvalidInput` naming each event and property that is missing or
    wrong: a quantity must be above 0 and a price at least 0, both plan numbers
    (at most 12 digits before the point and 9 after); the buyer a name.
    """
    problems = ProblemCollector()
    sales: list[Sale] = []
    for event in events:
        if event.type != terms.event_type:
            continue
        where = f"event {event.id!r}: properties"
        quantity = _number(event.properties, terms.quantity, where, problems, positive=True)
        price = _number(event.properties, terms.price, where, problems, positive=False)
        buyer = event.properties.get(terms.buyer)
        if not isinstance(buyer, str) or not buyer.strip():
            problems.add(f"{where}.{terms.buyer}", "must name the buyer")
            continue
        if quantity is not None and price is not None:
            sales.append(Sale(event.id, event.device, event.timestamp, buyer, quantity, price))
    problems.raise_if_any()
    return sales


def _number(
    properties: Mapping[str, Any],
    name: str,
    where: str,
    problems: ProblemCollector,
    *,
    positive: bool,
) -> Decimal | None:
    at = f"{where}.{name}"
    if properties.get(name) is None:
        problems.add(at, "is required")
        return None
    try:
        number = parse_decimal(properties[name], at)
    except InvalidInput as error:
        problems.extend(error.problems)
        return None
    wrong = plan_number_problem(number)
    if wrong is None and positive and number <= 0:
        wrong = f"must be greater than 0, not {decimal_text(number)}"
    elif wrong is None and number < 0:
        wrong = f"must be at least 0, not {decimal_text(number)} (negative prices are not sold)"
    if wrong is not None:
        problems.add(at, wrong)
        return None
    return number


@dataclass(frozen=True, slots=True)
class SoldLine:
    """What ``device_id`` sold to ``buyer`` at ``price``: ``quantity`` units for
    ``amount`` (``quantity x price``, rounded once). ``customer_id`` is the buyer's
    customer (``None``: the market paid the operator directly)."""

    device_id: str
    buyer: str
    customer_id: str | None
    price: Decimal
    quantity: Decimal
    amount: Decimal

    def as_json(self, currency: Currency) -> dict[str, Any]:
        return {
            "device": self.device_id,
            "buyer": self.buyer,
            "customer": self.customer_id,
            "paid_directly": self.customer_id is None,
            "price": decimal_text(self.price),
            "quantity": decimal_text(self.quantity),
            "amount": format_money(self.amount, currency),
        }


def sold_lines(
    sales: Iterable[Sale], buyers: Mapping[tuple[str, str], AssetBuyer], currency: Currency
) -> tuple[SoldLine, ...]:
    """The sales grouped by device, buyer and price, each group rounded once, in that
    order. :class:`InvalidInput` naming every sale whose buyer is not registered for
    its device (``buyers`` by device and name)."""
    problems = ProblemCollector()
    quantities: defaultdict[tuple[str, str, Decimal], Decimal] = defaultdict(Decimal)
    for sale in sales:
        if (sale.device_id, sale.buyer) not in buyers:
            problems.add(
                f"event {sale.event_id!r}",
                f"buyer {sale.buyer!r} is not registered for device {sale.device_id!r}",
            )
            continue
        quantities[(sale.device_id, sale.buyer, sale.price)] += sale.quantity
    problems.raise_if_any()
    return tuple(
        SoldLine(
            device,
            buyer,
            buyers[(device, buyer)].customer_id,
            price,
            quantity,
            round_money(quantity * price, currency),
        )
        for (device, buyer, price), quantity in sorted(quantities.items())
    )


def split(revenue: Decimal, share: Decimal, currency: Currency) -> tuple[Decimal, Decimal]:
    """``revenue`` split into the owner's credit (``share`` percent, rounded by the one
    rule) and the operator's part (the rest, so the two add up to ``revenue``)."""
    credit = round_money(revenue * share / HUNDRED, currency)
    return credit, revenue - credit


@dataclass(frozen=True, slots=True)
class AssetSplit:
    """One asset's sales in a settlement: its revenue, the owner's credit, the rest."""

    device_id: str
    lines: tuple[SoldLine, ...]
    revenue: Decimal
    credit: Decimal
    operator: Decimal


@dataclass(frozen=True, slots=True)
class Settlement:
    """The sales of the subscription ``subscription_id`` of ``customer_id`` (the owner)
    in ``period`` that were known at ``settled_at`` and not settled before.

    ``number`` 1 settles the period when it has ended; 2, 3, ... settle sales
    reported later (late). ``billed_at`` is when its charges are recorded: the
    period's end, or, for a late one, the end of the last period ended when it
    was settled, so they go on the next invoices. ``event_ids`` are the sale
    events it settled: a later settlement of the period settles the others.
    """

    id: str
    subscription_id: str
    customer_id: str
    period: Period
    number: int
    settled_at: datetime
    billed_at: datetime
    currency: Currency
    share: Decimal
    unit: str
    lines: tuple[SoldLine, ...]
    event_ids: tuple[str, ...] = ()

    @property
    def late(self) -> bool:
        return self.number > 1

    def splits(self) -> list[AssetSplit]:
        """Per asset, by device: its lines, revenue, credit and operator's part."""
        by_device: defaultdict[str, list[SoldLine]] = defaultdict(list)
        for line in self.lines:
            by_device[line.device_id].append(line)
        found = []
        for device, lines in sorted(by_device.items()):
            revenue = sum((line.amount for line in lines), Decimal(0))
            credit, operator = split(revenue, self.share, self.currency)
            found.append(AssetSplit(device, tuple(lines), revenue, credit, operator))
        return found


def settlement_id(subscription_id: str, period: Period, number: int) -> str:
    """The deterministic id of a settlement: the same run again makes the same one."""
    return f"{subscription_id}/sales/{period.start.isoformat()}/{number}"


def settlement_entries(settlement: Settlement) -> list[LedgerEntry]:
    """The ledger entries of ``settlement`` (see the table above); none of 0."""
    entries: list[LedgerEntry] = []
    owner = settlement.customer_id

    def post(key: str, customer: str, debit: str, credit: str, amount: Decimal, memo: str) -> None:
        if amount:
            entries.append(
                LedgerEntry(
                    id=f"{settlement.id}/{key}",
                    customer_id=customer,
                    at=settlement.billed_at,
                    debit=debit,
                    credit=credit,
                    amount=amount,
                    document=settlement.id,
                    memo=memo,
                )
            )

    late = "late " if settlement.late else ""
    for asset in settlement.splits():
        device = asset.device_id
        owed: defaultdict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
        for line in asset.lines:
            owed[(line.buyer, line.customer_id)] += line.amount
        for (buyer, customer), amount in sorted(owed.items(), key=lambda item: item[0][0]):
            debit = MARKET_RECEIPTS if customer is None else receivable_account(customer)
            post(
                f"{device}/sold/{buyer}",
                owner if customer is None else customer,
                debit,
                ASSET_SALES,
                amount,
                f"{late}capacity of {device} sold to {buyer}",
            )
        post(
            f"{device}/share",
            owner,
            ASSET_SALES,
            revenue_share_account(owner),
            asset.credit,
            f"{decimal_text(settlement.share)} % share of {late}sales of {device}",
        )
        post(
            f"{device}/operator",
            owner,
            ASSET_SALES,
            OPERATOR_REVENUE,
            asset.operator,
            f"operator's part of {late}sales of {device}",
        )
        post(
            f"{device}/credited",
            owner,
            revenue_share_account(owner),
            receivable_account(owner),
            asset.credit,
            f"share of {late}sales of {device} credited on the next invoice",
        )
    return entries


def settlement_charges(settlement: Settlement, zone: ZoneInfo) -> list[OneOffCharge]:
    """What ``settlement`` bills, recorded at its ``billed_at``: a line per sold line of an
    invoiced buyer (on the buyer's next invoice) and a credit line per asset (on the
    owner's); none of 0. Descriptions give the period in ``zone`` (the owner's)."""
    from iotbill.domain.subscription_billing import span_text  # a heavy module, read late

    span = span_text(settlement.period, zone)
    late = "Late sale: " if settlement.late else ""
    money = settlement.currency
    charges: list[OneOffCharge] = []
    for asset in settlement.splits():
        device = asset.device_id
        for index, line in enumerate(asset.lines, start=1):
            if line.customer_id is None or line.amount == 0:
                continue
            charges.append(
                OneOffCharge.create(
                    id=f"{settlement.id}/{device}/{line.buyer}/{index:03d}",  # lines in order
                    customer_id=line.customer_id,
                    description=f"{late}{settlement.unit} bought from {device} at"
                    f" {decimal_text(line.price)} {money.code}, {span}",
                    unit_price=line.price,
                    quantity=line.quantity,
                    currency=money,
                    recorded_at=settlement.billed_at,
                )
            )
        if asset.credit:
            charges.append(
                OneOffCharge.credit(
                    id=f"{settlement.id}/{device}/credit",
                    customer_id=settlement.customer_id,
                    description=f"{late}{decimal_text(settlement.share)} % share of"
                    f" {format_money(asset.revenue, money)} {money.code} sold from {device},"
                    f" {span}",
                    amount=asset.credit,
                    currency=money,
                    recorded_at=settlement.billed_at,
                )
            )
    return charges


def new_sales(current: Sequence[Sale], settled_ids: Iterable[str]) -> list[Sale]:
    """Of ``current`` (a period's sales known now), those not among ``settled_ids``."""
    settled = set(settled_ids)
    return [sale for sale in current if sale.event_id not in settled]


@dataclass(frozen=True, slots=True)
class AssetStatement:
    """What one asset sold in a period, over every settlement of it (on time and late):
    each sold line with the settlement that billed it, and the sums."""

    device_id: str
    sold: tuple[tuple[SoldLine, Settlement], ...]
    revenue: Decimal
    credit: Decimal
    operator: Decimal

    def as_json(self, currency: Currency) -> dict[str, Any]:
        return {
            "device": self.device_id,
            "sold": [
                line.as_json(currency) | {"settlement": settlement.id, "late": settlement.late}
                for line, settlement in self.sold
            ],
            "revenue": format_money(self.revenue, currency),
            "credit": format_money(self.credit, currency),
            "operator": format_money(self.operator, currency),
        }


def asset_statements(settlements: Iterable[Settlement]) -> list[AssetStatement]:
    """Per asset, by device: what ``settlements`` (of one period) sold, and the sums of
    their splits (each settlement's credit was rounded on its own, as it was billed)."""
    sold: defaultdict[str, list[tuple[SoldLine, Settlement]]] = defaultdict(list)
    sums: defaultdict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for settlement in settlements:
        for asset in settlement.splits():
            sold[asset.device_id].extend((line, settlement) for line in asset.lines)
            found = sums[asset.device_id]
            found[0] += asset.revenue
            found[1] += asset.credit
            found[2] += asset.operator
    return [AssetStatement(device, tuple(sold[device]), *sums[device]) for device in sorted(sold)]
