"""Customers and devices: who is billed, and whose a device is at a given instant.

A :class:`Customer` receives invoices: in one currency, with periods computed in
one IANA time zone, at one tax rate (a percentage, applied once per invoice),
and written for one locale (``de_DE``: how its documents spell numbers, amounts
and dates). A
:class:`Device` belongs to one customer at a time; its ownership history is a
sorted tuple of :class:`Ownership` entries, each lasting until the next one
starts, so "whose was this device when the event happened" has exactly one
answer (:meth:`Device.owner_at`). A device moves with :meth:`Device.move`, which
refuses a move that would give it two owners at once.

Both are frozen values; building one validates every field and raises
:class:`~iotbill.domain.errors.InvalidInput` listing every problem at once.

>>> from datetime import UTC, datetime
>>> device = Device.create("pump-7", "acme", datetime(2026, 1, 1, tzinfo=UTC))
>>> moved = device.move("globex", datetime(2026, 2, 15, tzinfo=UTC))
>>> moved.owner_at(datetime(2026, 2, 14, 23, 59, tzinfo=UTC)), moved.owner_at(moved.moved_at)
('acme', 'globex')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.errors import Conflict, InvalidInput, Problem, ProblemCollector
from iotbill.domain.input_rules import id_problem, instant_problem, text_problem
from iotbill.domain.money import Currency, currency, parse_decimal
from iotbill.domain.periods import Period, require_aware, zone
from iotbill.domain.tax_rates import MAX_TAX_RATE, TaxRateChange, changes_problems, rate_at

DEFAULT_LOCALE = "en"
"""The locale of a customer that names none: English, without a territory."""

# A CLDR locale identifier as Babel reads it: language, then an optional script
# and territory (``en``, ``de_DE``, ``zh_Hant_TW``, ``es_419``).
_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Z][a-z]{3})?(_([A-Z]{2}|[0-9]{3}))?")


@dataclass(frozen=True, slots=True)
class Customer:
    """Who receives invoices.

    ``timezone`` is an IANA name (``Europe/Berlin``); ``tax_rate`` is a
    percentage from 0 to 100 (``Decimal("19")`` for 19 %); ``locale`` is a
    CLDR locale identifier (``en_US``, ``de_DE``, ``ja_JP``) in which its
    invoices are written. Whether the locale is one the document renderer
    knows is checked where customers are added (the service), not here.
    ``net_terms`` is the number of days an invoice is due after the local date it
    is finalized (0: due that day). ``tax_changes``: later rates, each from an
    instant (:mod:`iotbill.domain.tax_rates`); ``tax_rate`` is the rate before
    the first.
    """

    id: str
    name: str
    currency: Currency
    timezone: str
    billing_address: str = ""
    tax_rate: Decimal = Decimal(0)
    locale: str = DEFAULT_LOCALE
    net_terms: int = 0
    tax_changes: tuple[TaxRateChange, ...] = ()

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        problems.extend(_customer_problems(self.id, self.name, self.timezone, self.tax_rate))
        problems.extend(changes_problems(self.tax_changes))
        if (wrong := text_problem(self.billing_address)) is not None:
            problems.add("billing_address", wrong)
        problems.extend(locale_problems(self.locale))
        problems.extend(_terms_problems(self.net_terms))
        problems.raise_if_any()

    def tax_rate_at(self, instant: datetime) -> Decimal:
        """The tax rate in force at ``instant``: an invoice's, at its ``issued_at``."""
        return rate_at(self.tax_rate, self.tax_changes, instant)

    def with_tax_rate(self, rate: Decimal, start: datetime) -> Customer:
        """The customer taxed at ``rate`` from ``start`` on; ``start`` after every change
        already recorded (a recorded change is not rewritten)."""
        if self.tax_changes and start <= self.tax_changes[-1].start:
            raise InvalidInput.at(
                "from",
                f"must be after {self.tax_changes[-1].start.isoformat()}, when the rate"
                f" became {self.tax_changes[-1].rate} %",
            )
        return replace(self, tax_changes=(*self.tax_changes, TaxRateChange(start, rate)))

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        currency_code: str,
        timezone: str,
        billing_address: str = "",
        tax_rate: object = Decimal(0),
        locale: str = DEFAULT_LOCALE,
        net_terms: object = 0,
    ) -> Customer:
        """A customer from raw input (a currency code, a tax rate as text or number).

        Every problem is reported at once, each at its field name.
        """
        problems = ProblemCollector()
        parsed_currency: Currency | None = None
        try:
            parsed_currency = currency(currency_code)
        except InvalidInput as error:
            problems.extend(error.problems)
        rate: Decimal | None = None
        try:
            rate = parse_decimal(tax_rate, "tax_rate")
        except InvalidInput as error:
            problems.extend(error.problems)
        problems.extend(_customer_problems(id, name, timezone, rate))
        problems.extend(locale_problems(locale))
        terms = _whole_days(net_terms)
        problems.extend(_terms_problems(terms))
        problems.raise_if_any()
        assert parsed_currency is not None and rate is not None and isinstance(terms, int)
        return cls(id, name, parsed_currency, timezone, billing_address, rate, locale, terms)

    def due_on(self, finalized_at: datetime) -> date:
        """The due date of an invoice finalized at ``finalized_at``: its local date plus
        the net terms."""
        local = require_aware(finalized_at, "finalized_at").astimezone(self.zone).date()
        return local + timedelta(days=self.net_terms)

    @property
    def zone(self) -> ZoneInfo:
        """The customer's time zone."""
        return zone(self.timezone)


MAX_NET_TERMS = 3650


def _whole_days(value: object) -> int | object:
    """``value`` as a whole number of days if it is one (an integer, or digits as text)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def _terms_problems(net_terms: object) -> list[Problem]:
    if isinstance(net_terms, bool) or not isinstance(net_terms, int):
        return [Problem("net_terms", f"must be a whole number of days, not {net_terms!r}")]
    if not 0 <= net_terms <= MAX_NET_TERMS:
        return [Problem("net_terms", f"must be from 0 to {MAX_NET_TERMS} days, not {net_terms}")]
    return []


def _customer_problems(
    id: str, name: str, timezone: str, tax_rate: Decimal | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not id.strip():
        problems.append(Problem("id", "must be a non-empty string"))
    elif (wrong := id_problem("customer", id)) is not None:
        problems.append(Problem("id", wrong))
    if not name.strip():
        problems.append(Problem("name", "must be a non-empty string"))
    elif (wrong := text_problem(name)) is not None:
        problems.append(Problem("name", wrong))
    try:
        zone(timezone)
    except InvalidInput as error:
        problems.extend(error.problems)
    if tax_rate is not None and not (
        tax_rate.is_finite() and Decimal(0) <= tax_rate <= MAX_TAX_RATE
    ):
        problems.append(Problem("tax_rate", f"must be a percentage from 0 to 100, not {tax_rate}"))
    return problems


def locale_problems(locale: str) -> list[Problem]:
    """What is wrong with ``locale`` as a locale identifier (nothing: an empty list).

    >>> locale_problems("de_DE"), locale_problems("de-DE")[0].message
    ([], "must be a locale like en, de_DE or zh_Hant_TW, not 'de-DE'")
    """
    if _LOCALE.fullmatch(locale):
        return []
    return [Problem("locale", f"must be a locale like en, de_DE or zh_Hant_TW, not {locale!r}")]


@dataclass(frozen=True, slots=True)
class Ownership:
    """A device belongs to ``customer_id`` from ``start`` until the next ownership starts."""

    customer_id: str
    start: datetime


@dataclass(frozen=True, slots=True)
class Device:
    """A connected thing and who owned it when: ``ownership`` sorted by ``start``, strictly;
    ``retired_at``: from when it is out of service (it reports no usage from then on)."""

    id: str
    ownership: tuple[Ownership, ...]
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        if not self.id.strip():
            problems.add("id", "must be a non-empty string")
        elif (wrong := id_problem("device", self.id)) is not None:
            problems.add("id", wrong)
        if not self.ownership:
            problems.add("ownership", "a device needs an owner")
        previous: datetime | None = None
        for index, entry in enumerate(self.ownership):
            at = f"ownership[{index}]"
            if not entry.customer_id.strip():
                problems.add(f"{at}.customer_id", "must be a non-empty string")
            elif (wrong := id_problem("customer", entry.customer_id)) is not None:
                problems.add(f"{at}.customer_id", wrong)
            try:
                start = require_aware(entry.start, f"{at}.start")
            except InvalidInput as error:
                problems.extend(error.problems)
                continue
            if (wrong := instant_problem(start)) is not None:
                problems.add(f"{at}.start", wrong)
                continue
            if previous is not None and start <= previous:
                problems.add(
                    f"{at}.start",
                    f"must be after the previous owner's start {previous.isoformat()}"
                    " (a device never has two owners at once)",
                )
            previous = start
        problems.raise_if_any()

    @classmethod
    def create(cls, id: str, customer_id: str, start: datetime) -> Device:
        """A device owned by ``customer_id`` from ``start``."""
        return cls(id, (Ownership(customer_id, start),))

    @property
    def owner(self) -> str:
        """The latest owner."""
        return self.ownership[-1].customer_id

    @property
    def moved_at(self) -> datetime:
        """When the latest owner's ownership started."""
        return self.ownership[-1].start

    def owner_at(self, instant: datetime) -> str | None:
        """The customer who owned the device at ``instant``; ``None`` before its first owner."""
        instant = require_aware(instant, "instant")
        owner: str | None = None
        for entry in self.ownership:
            if entry.start > instant:
                break
            owner = entry.customer_id
        return owner

    def owners_during(self, period: Period) -> list[tuple[str, Period]]:
        """Who owned the device during which part of ``period``, in time order."""
        result: list[tuple[str, Period]] = []
        for index, entry in enumerate(self.ownership):
            following = self.ownership[index + 1].start if index + 1 < len(self.ownership) else None
            start = max(entry.start, period.start)
            end = period.end if following is None else min(following, period.end)
            if start < end:
                result.append((entry.customer_id, Period(start, end)))
        return result

    def move(self, to_customer: str, from_instant: datetime) -> Device:
        """The device owned by ``to_customer`` from ``from_instant`` on.

        The move must start after the latest ownership started (history is not
        rewritten, and a device never has two owners at once) and must change
        the owner; otherwise :class:`InvalidInput`, naming every problem.
        """
        problems = ProblemCollector()
        if not to_customer.strip():
            problems.add("customer_id", "must be a non-empty string")
        elif to_customer == self.owner:
            problems.add("customer_id", f"device {self.id!r} already belongs to {to_customer!r}")
        try:
            start = require_aware(from_instant, "from")
        except InvalidInput as error:
            problems.extend(error.problems)
        else:
            if start <= self.moved_at:
                problems.add(
                    "from",
                    f"must be after {self.moved_at.isoformat()}, when device {self.id!r} passed"
                    f" to {self.owner!r} (a device never has two owners at once)",
                )
        if self.retired_at is not None:
            problems.add("id", f"device {self.id!r} is retired since {self.retired_at.isoformat()}")
        problems.raise_if_any()
        return Device(self.id, (*self.ownership, Ownership(to_customer, start)))

    def retire(self, at: datetime) -> Device:
        """The device out of service from ``at`` on: no usage is accepted from then on.

        ``at`` must be after the latest owner's start; a device retires once
        (:class:`~iotbill.domain.errors.Conflict` the second time).
        """
        if self.retired_at is not None:
            raise Conflict(
                f"device {self.id!r} is retired already, since {self.retired_at.isoformat()}"
            )
        at = require_aware(at, "at")
        if at <= self.moved_at:
            raise InvalidInput.at(
                "at",
                f"must be after {self.moved_at.isoformat()}, when device {self.id!r} passed to"
                f" {self.owner!r}",
            )
        return replace(self, retired_at=at)

    def retired_by(self, instant: datetime) -> bool:
        """Whether the device is out of service at ``instant``."""
        return self.retired_at is not None and instant >= self.retired_at
