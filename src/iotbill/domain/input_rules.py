"""The rules every value obeys at the door, each written once.

Devices nobody controls, careless integrators and attackers all send input;
a value that gets in and breaks something far from the door is an outage or
a wrong invoice. So every entry point (the event decoder, the plan loader,
the command line, the API, MQTT, bulk imports, the columnar fast path) applies
exactly these rules, and both stores accept exactly what they let through.

==========================  ===================================================
rule                        what is refused
==========================  ===================================================
decimal text                a number written as a string that is not ASCII
                            digits with an optional leading minus and an
                            optional point between digits (:func:`parse_decimal_text`)
plan numbers                more than 12 digits before the point or 9 after
                            (:func:`plan_number_problem`)
invoice amounts             a line of ten trillion or more (:func:`amount_problem`)
instants                    before 1970-01-01 or from 9000-01-01 UTC on, and
                            more than 6 fractional digits of a second
                            (:func:`instant_problem`, :func:`fraction_problem`)
clock skew                  an event stamped more than a day (configurable)
                            after it was received (:func:`skew_problem`)
text                        a NUL character anywhere, and identifiers longer than
                            their limit (:func:`text_problem`, :data:`ID_LIMITS`)
nesting                     property values nested deeper than 32 levels
                            (:func:`nesting_problem`)
duplicate keys              a JSON or YAML object naming a key twice
                            (:func:`unique_keys`)
plan size                   a plan file over 1 MiB, over 1,000 charges, fees or
                            meters, or over 1,000 tiers in one charge (:data:`PLAN_LIMITS`)
==========================  ===================================================

Each rule says why it is refused; the caller adds where (file, line, field).

>>> parse_decimal_text("-12.50")
Decimal('-12.50')
>>> decimal_text_problem("1e3")
"'1e3' is not a plain decimal number (like -12.50)"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

# --- decimal text -----------------------------------------------------------------------

DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""The one grammar of a number written as a string: ``-?DIGITS(.DIGITS)?``, ASCII only.

``"2.5"``, ``"-0.125"`` and ``"10"`` match; ``" 2.5 "``, ``"+7"``, ``"1_000"``,
``"1e3"``, ``".5"``, ``"5."``, ``"NaN"`` and ``"٣"`` (an Arabic-Indic digit) do not,
although Python's ``Decimal`` accepts every one of them.
"""
MAX_DECIMAL_TEXT = 64
"""The longest number written as a string, in characters."""


def decimal_text_problem(text: str) -> str | None:
    """Why ``text`` is not a number by :data:`DECIMAL_TEXT`, or ``None`` if it is.

    >>> decimal_text_problem("2.5") is None, decimal_text_problem("+7") is not None
    (True, True)
    """
    if len(text) > MAX_DECIMAL_TEXT:
        return f"a number of {len(text)} characters is longer than {MAX_DECIMAL_TEXT}"
    if DECIMAL_TEXT.fullmatch(text) is None:
        shown = text if len(text) <= 40 else text[:40] + "..."
        return f"{shown!r} is not a plain decimal number (like -12.50)"
    return None


def parse_decimal_text(text: str) -> Decimal:
    """The exact decimal written in ``text``; :class:`ValueError` (saying why) if the text
    breaks :data:`DECIMAL_TEXT`.

    >>> parse_decimal_text("0.1")
    Decimal('0.1')
    >>> parse_decimal_text(" 2.5 ")
    Traceback (most recent call last):
    ...
    ValueError: ' 2.5 ' is not a plain decimal number (like -12.50)
    """
    problem = decimal_text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return Decimal(text)


# --- plan numbers -----------------------------------------------------------------------

PLAN_INTEGER_DIGITS = 12
PLAN_FRACTION_DIGITS = 9
MAX_PLAN_NUMBER = Decimal(10) ** PLAN_INTEGER_DIGITS
"""A plan number (price, fee, tier bound, package size, ...) is below 10^12 in magnitude."""
_PLAN_QUANTUM = Decimal(1).scaleb(-PLAN_FRACTION_DIGITS)


def plan_number_problem(value: Decimal) -> str | None:
    """Why ``value`` cannot stand in a plan, or ``None``.

    A plan number has at most 12 digits before the point and 9 after (the
    grain of a metered quantity), so that pricing never meets a number its
    arithmetic cannot hold: ``1E+30`` as a unit price, or ``1E-30`` as a
    package size, would otherwise stop the bill run far from the plan file.

    >>> plan_number_problem(Decimal("0.000000001")) is None
    True
    >>> plan_number_problem(Decimal("1E+30"))
    'must be below 1000000000000 in magnitude'
    >>> plan_number_problem(Decimal("1E-30"))
    'has more than 9 digits after the point'
    """
    if not value.is_finite():
        return "must be a finite number"
    if value.copy_abs() >= MAX_PLAN_NUMBER:  # exact, whatever the exponent
        return f"must be below {MAX_PLAN_NUMBER:f} in magnitude"
    if value.quantize(_PLAN_QUANTUM) != value:  # in range, quantize never signals
        return f"has more than {PLAN_FRACTION_DIGITS} digits after the point"
    return None


MAX_AMOUNT = Decimal(10) ** 13
"""An invoice line's amount is below ten trillion in magnitude, so that any invoice's
total, in minor units, fits the stores' 64-bit integers."""


def amount_problem(amount: Decimal) -> str | None:
    """Why an invoice line cannot carry ``amount``, or ``None``.

    >>> amount_problem(Decimal("999999999999.99")) is None
    True
    >>> amount_problem(Decimal("1E+13"))
    'the amount 1E+13 is not below 10000000000000, the most one invoice line may carry'
    """
    if not amount.is_finite() or amount.copy_abs() >= MAX_AMOUNT:
        limit = f"{MAX_AMOUNT:f}"
        return f"the amount {amount} is not below {limit}, the most one invoice line may carry"
    return None


# --- instants ---------------------------------------------------------------------------

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Instants are accepted from :data:`EARLIEST` (included) to :data:`LATEST` (excluded).

Nothing before the Unix epoch is billed, and far enough from year 9999 that a
local time in any zone, or a billing period after it, still exists.
"""
MAX_FRACTION_DIGITS = 6
"""Instants are stored to the microsecond: more fractional digits are refused, never
rounded, since rounding ``23:59:59.9999995`` moves an event into the next day."""
_FRACTION = re.compile(r"[.,]([0-9]+)")


def instant_problem(instant: datetime) -> str | None:
    """Why ``instant`` (aware) is out of range, or ``None``.

    >>> instant_problem(datetime(2026, 1, 1, tzinfo=UTC)) is None
    True
    >>> instant_problem(datetime(1969, 12, 31, tzinfo=UTC))
    '1969-12-31T00:00:00+00:00 is before 1970-01-01T00:00:00+00:00 (UTC)'
    """
    if instant < EARLIEST:
        return f"{instant.isoformat()} is before {EARLIEST.isoformat()} (UTC)"
    if instant >= LATEST:
        return f"{instant.isoformat()} is not before {LATEST.isoformat()} (UTC)"
    return None


def fraction_problem(text: str) -> str | None:
    """Why the written instant ``text`` has too many fractional digits, or ``None``.

    >>> fraction_problem("2026-01-31T23:59:59.999999-05:00") is None
    True
    >>> fraction_problem("2026-01-31T23:59:59.9999995-05:00")
    'has 7 fractional digits of a second; at most 6 (microseconds) are kept'
    """
    match = _FRACTION.search(text)
    if match is not None and len(match.group(1)) > MAX_FRACTION_DIGITS:
        return (
            f"has {len(match.group(1))} fractional digits of a second; at most"
            f" {MAX_FRACTION_DIGITS} (microseconds) are kept"
        )
    return None


DEFAULT_CLOCK_SKEW = timedelta(days=1)
"""How far after its reception an event may be stamped, by default: a device clock
that runs a little fast is tolerated, one gone wrong must not bill the future."""


def skew_problem(
    occurred_at: datetime, received_at: datetime, skew: timedelta = DEFAULT_CLOCK_SKEW
) -> str | None:
    """Why an event stamped ``occurred_at`` cannot have been received at ``received_at``.

    >>> received = datetime(2026, 1, 10, tzinfo=UTC)
    >>> skew_problem(received + timedelta(hours=23), received) is None
    True
    >>> skew_problem(received + timedelta(days=2), received)
    'is 2 days, 0:00:00 after it was received (2026-01-10T00:00:00+00:00); at most 1 day, 0:00:00 is allowed for clock skew'
    """  # noqa: E501
    if occurred_at - received_at > skew:
        return (
            f"is {occurred_at - received_at} after it was received"
            f" ({received_at.isoformat()}); at most {skew} is allowed for clock skew"
        )
    return None


# --- text -------------------------------------------------------------------------------

ID_LIMITS: Mapping[str, int] = {
    "tenant": 64,
    "customer": 128,
    "subscription": 128,
    "plan": 128,
    "code": 128,
    "device": 256,
    "event": 256,
    "event_type": 256,
    "property": 256,
}
"""The longest identifier of each kind, in characters: a customer id, a plan code, a
charge, fee or meter code (``code``), a device id, an event id and type, the property a
meter reads. (The keys inside an event's properties have no limit of their own: they
are stored as JSON text.)"""
MAX_TEXT = 10_000
"""The longest free text (a name, a description, an address, a reason), in characters."""


def text_problem(text: str, limit: int = MAX_TEXT) -> str | None:
    """Why ``text`` cannot be stored, or ``None``: a NUL character (which PostgreSQL text
    cannot hold, so no store takes it), or more than ``limit`` characters.

    >>> text_problem("pump\\x00") is None, text_problem("x" * 129, ID_LIMITS["customer"])
    (False, 'is 129 characters long; at most 128 are allowed')
    """
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which is not allowed"
    if len(text) > limit:
        return f"is {len(text)} characters long; at most {limit} are allowed"
    return None


def id_problem(kind: str, text: str) -> str | None:
    """Why ``text`` cannot be an identifier of ``kind`` (a key of :data:`ID_LIMITS`)."""
    return text_problem(text, ID_LIMITS[kind])


# --- nesting and keys -------------------------------------------------------------------

MAX_DEPTH = 32
"""How deep event properties may nest lists and objects: the properties object is level 1."""


def nesting_problem(properties: Mapping[str, Any]) -> str | None:
    """Why ``properties`` cannot be stored, or ``None``: nested deeper than
    :data:`MAX_DEPTH`, or a NUL in any key or string. Walked without recursion, so no
    input can exhaust the stack.

    >>> nesting_problem({"m3": 1, "tags": ["a", {"b": 2}]}) is None
    True
    >>> deep: dict[str, Any] = {}
    >>> inner = deep
    >>> for _ in range(40):
    ...     inner["x"] = {}
    ...     inner = inner["x"]
    >>> nesting_problem(deep)
    'nested deeper than 32 levels of lists and objects'
    """
    pending: list[tuple[Any, int]] = [(properties, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels of lists and objects"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                return f"the key {key[:40]!r} {text_problem(key)}"
            if isinstance(item, dict | list):
                pending.append((item, depth + 1))
            elif isinstance(item, str) and "\x00" in item:
                return f"{key!r}: {text_problem(item)}"
    return None


class DuplicateKey(ValueError):
    """An object names the same key twice: which one wins is a guess, so neither does."""

    def __init__(self, key: object) -> None:
        self.key = key
        super().__init__(f"the key {key!r} appears twice in one object")


def unique_keys(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """The object of ``pairs``; :class:`DuplicateKey` if a key repeats (for
    ``json.loads(..., object_pairs_hook=unique_keys)`` and the plan loader).

    >>> import json
    >>> json.loads('{"device": "d1", "device": "d3"}', object_pairs_hook=unique_keys)
    Traceback (most recent call last):
    ...
    iotbill.domain.input_rules.DuplicateKey: the key 'device' appears twice in one object
    """
    found: dict[Any, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


# --- plan size --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """How large a plan may be: a plan is read whole and priced for every subscription on
    it, so a plan of megabytes would hold every bill run for seconds."""

    max_bytes: int = 1024 * 1024
    max_items: int = 1_000
    """fixed fees, meters and charges, each"""
    max_tiers: int = 1_000
    """tiers of one charge"""
    max_filter_values: int = 1_000
    """values of one meter's filters, together"""


PLAN_LIMITS = PlanLimits()
