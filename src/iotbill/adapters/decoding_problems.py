"""What is wrong with a line that does not decode as a usage event, in iotbill's words.

The JSON decoder (msgspec) says what it expected in its own terms (``Expected
`datetime`, got `int` - at `$.timestamp```); a user reads the field, what it
must be and what it was instead, as every other input error of iotbill reads:

>>> import msgspec
>>> from iotbill.domain.events import UsageEvent
>>> line = b'{"id": "e1", "type": "t", "device": "d", "timestamp": 1767225600}'
>>> try:
...     msgspec.json.decode(line, type=UsageEvent)
... except msgspec.ValidationError as error:
...     print(decoding_problem(error, line))
timestamp: must be an RFC 3339 string with a UTC offset, got the number 1767225600
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import msgspec

from iotbill.domain.errors import Problem

_PATH = re.compile(r" - at `\$(?:\[\d+\])?\.?([^`]*)`$")
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`")
_TOO_LONG = re.compile(r"^Expected `str` of length <= (\d+)")
_BYTE = re.compile(r" \(byte (\d+)\)$")
_WHAT = {
    "datetime": "an RFC 3339 string with a UTC offset",
    "str": "a string",
    "object": "an object",
    "array": "a list",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
}
_KNOWN_FIELDS = (
    "unknown field (an event has id, type, device, timestamp, properties, and may"
    " name an earlier event with corrects or voids)"
)


def decoding_problem(error: msgspec.DecodeError, line: bytes) -> Problem:
    """What is wrong with ``line``, which the decoder refused with ``error``: at the field
    of the event it is about, if any, with the value found where it names one."""
    message = str(error)
    if not isinstance(error, msgspec.ValidationError):  # a ValidationError is a DecodeError too
        return Problem("", _not_json(message, line))
    match = _PATH.search(message)
    field = match.group(1) if match else ""
    text = message[: match.start()] if match else message
    expected = _EXPECTED.match(text)
    if expected is not None:
        wanted, got = expected.groups()
        found = _found(line, field) if field else _WHAT.get(got, got)
        return Problem(field, f"must be {_WHAT.get(wanted, wanted)}, got {found}")
    if (too_long := _TOO_LONG.match(text)) is not None:
        value = _value(line, field)
        length = f"is {len(value)} characters long" if isinstance(value, str) else "is too long"
        return Problem(field, f"{length}; at most {too_long.group(1)} are allowed")
    if "timezone component" in text:
        reason = "must include a UTC offset, e.g. 2026-01-01T00:00:00Z (naive times are ambiguous)"
        return Problem(field, reason)
    if text.startswith("Invalid RFC3339"):
        return Problem(field, f"must be an RFC 3339 date and time, got {_found(line, field)}")
    if text.startswith("Object missing required field"):
        return Problem(text.split("`")[1], "is required")
    if text.startswith("Object contains unknown field"):
        return Problem(text.split("`")[1], _KNOWN_FIELDS)
    if "length >= 1" in text:
        return Problem(field, "must not be empty")
    return Problem(field, text)


def _not_json(message: str, line: bytes) -> str:
    """Why ``line`` is not JSON: not UTF-8 text, cut short, or malformed at a byte."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not valid JSON: not UTF-8 text at byte {error.start + 1} ({error.reason})"
    if message == "Input data was truncated":
        return "not valid JSON: the line ends before its value does"
    reason = message.removeprefix("JSON is malformed: ")
    at = _BYTE.search(reason)
    if at is not None:
        reason = f"{reason[: at.start()]} at byte {int(at.group(1)) + 1}"
    return f"not valid JSON: {reason}"


_UNREADABLE = object()


def _value(line: bytes, field: str) -> object:
    """The value at ``field`` of the JSON object on ``line`` (``_UNREADABLE`` if none)."""
    try:
        found = json.loads(line, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _UNREADABLE
    return found.get(field, _UNREADABLE) if isinstance(found, dict) else _UNREADABLE


def _found(line: bytes, field: str) -> str:
    """The value at ``field`` of the JSON object on ``line``, described: ``the number 5``,
    ``the string '2026-13-01'``, ``a list``."""
    value = _value(line, field)
    if value is _UNREADABLE:
        return "something else"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if value is None:
        return "null"
    return "a list" if isinstance(value, list) else "an object"
