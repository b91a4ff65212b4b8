"""The one numbering rule of invoices and credit notes.

A document takes its number when it becomes final (an invoice when it is
finalized, a credit note when it is issued), from a gap-free series of the
tenant: ``{prefix}-{year}``, ``year`` being the year of that instant in the
customer's time zone (the year of the date the customer reads on it). The
number is the series and the document's place in it, in at least six digits:

>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 2027 in Berlin
>>> series = series_for(Series.INVOICE, new_year, ZoneInfo("Europe/Berlin"))
>>> series.name, series.number(123)
('INV-2027', 'INV-2027-000123')
>>> series_for(Series.CREDIT_NOTE, new_year, ZoneInfo("America/New_York")).number(1)
'CN-2026-000001'

Which number comes next is the store's to say (it serialises concurrent
transactions and rolls a taken number back with its transaction): the
services take numbers in one way, :func:`iotbill.services.numbering.take_numbers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from iotbill.domain.errors import ProblemCollector
from iotbill.domain.periods import require_aware


class Series(StrEnum):
    """The kinds of numbered documents, each with its prefix."""

    INVOICE = "INV"
    CREDIT_NOTE = "CN"


@dataclass(frozen=True, slots=True, order=True)
class NumberSeries:
    """One gap-free series of a tenant: ``INV-2026``."""

    series: Series
    year: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be from 1 to 9999, not {self.year}")

    @property
    def name(self) -> str:
        """The series' name in the store: ``INV-2026``."""
        return f"{self.series.value}-{self.year}"

    def number(self, sequence: int) -> str:
        """The number of the ``sequence``-th document of the series (1, 2, ...)."""
        return format_invoice_number(self.series.value, self.year, sequence)


def series_for(series: Series, at: datetime, timezone: ZoneInfo) -> NumberSeries:
    """The series a document of ``series`` made final ``at`` takes its number from."""
    return NumberSeries(series, require_aware(at, "at").astimezone(timezone).year)


def format_invoice_number(prefix: str, year: int, sequence: int) -> str:
    """An invoice (or credit note) number: ``format_invoice_number("INV", 2026, 123)``.

    >>> format_invoice_number("INV", 2026, 123)
    'INV-2026-000123'

    The sequence has at least six digits; past 999,999 it simply grows.
    """
    problems = ProblemCollector()
    if not prefix or not prefix.isalnum():
        problems.add("prefix", f"must be letters or digits, not {prefix!r}")
    if not 1 <= year <= 9999:
        problems.add("year", f"must be from 1 to 9999, not {year}")
    if sequence < 1:
        problems.add("sequence", f"must be at least 1, not {sequence}")
    problems.raise_if_any()
    return f"{prefix}-{year:04d}-{sequence:06d}"
