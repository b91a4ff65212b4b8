"""Reading typed fields out of plan data while collecting every problem.

Plan files are parsed into plain mappings (numbers exact, as ``int`` or
``Decimal``); these helpers turn fields into typed values and record a
:class:`~iotbill.domain.errors.Problem` with the field path for each mistake,
so one load reports them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.input_rules import (
    MAX_PLAN_NUMBER,
    MAX_TEXT,
    PLAN_LIMITS,
    plan_number_problem,
    text_problem,
)
from iotbill.domain.money import parse_decimal


class FieldReader:
    """Reads the fields of one mapping at path ``at``, recording problems."""

    def __init__(self, data: Any, at: str, problems: ProblemCollector) -> None:
        self.at = at
        self.problems = problems
        if isinstance(data, Mapping):
            self.data: Mapping[str, Any] = data
        else:
            problems.add(at, f"must be a mapping, got {_kind(data)}")
            self.data = {}

    def path(self, name: str) -> str:
        return f"{self.at}.{name}" if self.at else name

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def section(self, name: str) -> FieldReader | None:
        """A reader of the mapping in field ``name`` (its problems recorded with these);
        ``None`` when the field is absent or null."""
        if not self.has(name):
            return None
        return FieldReader(self.data[name], self.path(name), self.problems)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed)
        for name in self.data:
            if name not in allowed_set:
                self.problems.add(
                    self.path(str(name)),
                    f"unknown field (expected one of: {', '.join(sorted(allowed_set))})",
                )

    def text(
        self,
        name: str,
        *,
        required: bool = True,
        default: str | None = None,
        limit: int = MAX_TEXT,
    ) -> str | None:
        """A non-empty string of at most ``limit`` characters, without NUL."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.problems.add(self.path(name), "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.path(name), "must be a non-empty string")
            return default
        problem = text_problem(value, limit)
        if problem is not None:
            self.problems.add(self.path(name), problem)
            return default
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.text(name, required=default is None, default=default)
        if value is not None and value not in options:
            self.problems.add(
                self.path(name), f"must be one of {', '.join(options)}, not {value!r}"
            )
            return None
        return value

    def decimal(
        self,
        name: str,
        *,
        required: bool = True,
        default: Decimal | None = None,
        minimum: Decimal | None = Decimal(0),
        positive: bool = False,
    ) -> Decimal | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problems.add(self.path(name), "is required")
            return default

        try:
            number = parse_decimal(value, self.path(name))
        except InvalidInput as error:
            self.problems.extend(error.problems)
            return None
        problem = plan_number_problem(number)
        if problem is not None:
            self.problems.add(self.path(name), f"{_shown(number)} {problem}")
            return None
        if positive and number <= 0:
            self.problems.add(self.path(name), f"must be greater than 0, not {number}")
            return None
        if minimum is not None and number < minimum:
            self.problems.add(self.path(name), f"must be at least {minimum}, not {number}")
            return None
        return number

    def integer(self, name: str, *, default: int = 0, minimum: int = 0) -> int | None:
        value = self.data.get(name)
        if value is None:
            return default
        whole = isinstance(value, Decimal) and plan_number_problem(value) is None
        if whole and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(self.path(name), "must be a whole number")
            return None
        if abs(value) >= MAX_PLAN_NUMBER:
            self.problems.add(self.path(name), f"must be below {MAX_PLAN_NUMBER} in magnitude")
            return None
        if value < minimum:
            self.problems.add(self.path(name), f"must be at least {minimum}, not {value}")
            return None
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.path(name), "must be true or false")
            return default
        return value

    def items(
        self, name: str, *, required: bool = False, limit: int = PLAN_LIMITS.max_items
    ) -> list[Any]:
        """A list of at most ``limit`` items."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.problems.add(self.path(name), "is required")
            return []
        if not isinstance(value, list):
            self.problems.add(self.path(name), f"must be a list, got {_kind(value)}")
            return []
        if len(value) > limit:
            self.problems.add(
                self.path(name), f"has {len(value)} items; at most {limit} are allowed"
            )
            return []
        return value


def _shown(number: Decimal) -> str:
    """A number as written, shortened when absurdly long."""
    text = str(number)
    return text if len(text) <= 40 else text[:40] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
