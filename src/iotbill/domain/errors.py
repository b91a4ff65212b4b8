"""The one error hierarchy of iotbill.

Every error that iotbill raises on purpose is an :class:`IotbillError` with a
stable ``code``. The categories say what the caller can do about it::

    IotbillError                 code
    ├── InvalidInput             "invalid_input"   fix the input and retry
    ├── NotFound                 "not_found"       name something that exists
    ├── Conflict                 "conflict"        the state forbids it now
    └── StoreUnavailable         "store_unavailable"  name a store that can be opened
                                                   or reached, or retry when it is up

:class:`InvalidInput` carries every :class:`Problem` found, each naming where
(a file, line and field path) and why, so one run reports all mistakes at once.
Domain errors know nothing of HTTP or exit codes: the command line maps them in
``iotbill.entrypoints.cli.errors`` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is and why it is wrong.

    ``location`` is a field path such as ``charges[2].tiers[1].up_to``, or a
    file position such as ``events.jsonl:12: properties.m3``.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def within(self, prefix: str, separator: str = ".") -> Problem:
        """The same problem located under ``prefix``: a parent field, or a file (``": "``)."""
        if not self.location:
            return Problem(prefix, self.message)
        joiner = "" if self.location.startswith("[") and separator == "." else separator
        return Problem(f"{prefix}{joiner}{self.location}", self.message)


class IotbillError(Exception):
    """Base of every error iotbill raises on purpose."""

    code = "error"


class InvalidInput(IotbillError):
    """The input is wrong; nothing was written. ``problems`` lists every mistake found."""

    code = "invalid_input"

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        if not problems:
            raise ValueError("InvalidInput needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, location: str, message: str) -> InvalidInput:
        """One problem at one location."""
        return cls([Problem(location, message)])

    def within(self, prefix: str, separator: str = ".") -> InvalidInput:
        """The same problems, each located under ``prefix`` (a parent field or a file)."""
        return InvalidInput([p.within(prefix, separator) for p in self.problems])


class NotFound(IotbillError):
    """Something named does not exist."""

    code = "not_found"


class Conflict(IotbillError):
    """The request contradicts the current state."""

    code = "conflict"


class StoreUnavailable(IotbillError):
    """The store cannot be opened, created or reached (a missing folder, a directory in
    place of a file, a server that does not answer, a database that does not exist)."""

    code = "store_unavailable"


class ProblemCollector:
    """Collects problems while validating, then raises them all at once.

    >>> problems = ProblemCollector()
    >>> problems.add("tiers[0].up_to", "must be positive")
    >>> problems.raise_if_any()
    Traceback (most recent call last):
    ...
    iotbill.domain.errors.InvalidInput: tiers[0].up_to: must be positive
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def extend(self, problems: Iterable[Problem], prefix: str = "") -> None:
        for problem in problems:
            self.problems.append(problem.within(prefix) if prefix else problem)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)
