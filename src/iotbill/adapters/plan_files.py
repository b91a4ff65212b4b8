"""Reading plan files (YAML or JSON) into plans, with exact numbers.

A price written as a YAML or JSON number, such as ``0.1``, is taken exactly as
written: the parsers here build ``Decimal`` from the number's text and never
pass through a binary float.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from iotbill.adapters.event_files import read_bytes
from iotbill.domain.catalog import Plan, PlanDocument
from iotbill.domain.errors import InvalidInput
from iotbill.domain.plan_parsing import parse_plan


class _ExactLoader(yaml.SafeLoader):
    """A safe YAML loader whose floats are exact decimals."""


def _exact_float(loader: yaml.SafeLoader, node: yaml.nodes.Node) -> Any:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text  # .inf and .nan stay text, and are refused where a number is needed


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def parse_plan_text(text: str, source: str) -> Plan:
    """The plan in ``text`` (JSON if it starts with ``{``, YAML otherwise)."""
    data = _parse_document(text, source)
    try:
        return parse_plan(data)
    except InvalidInput as error:
        raise error.within(source, ": ") from None


def parse_plan_document(text: str, source: str) -> PlanDocument:
    """The plan in ``text`` with the text itself, for storing: see :func:`parse_plan_text`."""
    return PlanDocument(parse_plan_text(text, source), text, source)


def read_plan(path: str) -> Plan:
    """The plan in the file at ``path``."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput.at(path, f"is not UTF-8 text ({error.reason})") from None
    return parse_plan_text(text, path)


def _parse_document(text: str, source: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise InvalidInput.at(
                f"{source}:{error.lineno}", f"not valid JSON ({error.msg})"
            ) from None
    try:
        return yaml.load(text, Loader=_ExactLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise InvalidInput.at(f"{source}:{line}", f"not valid YAML ({error.problem})") from None
    except yaml.YAMLError as error:
        raise InvalidInput.at(source, f"not valid YAML ({error})") from None
