"""Reading plan files (YAML or JSON) into plans, with exact numbers.

A price written as a YAML or JSON number, such as ``0.1``, is taken exactly as
written: the parsers here build ``Decimal`` from the number's text and never
pass through a binary float.

A price must be exactly what the file says, so YAML is read by the YAML 1.2
core schema, not PyYAML's YAML 1.1 default: ``010`` is not octal 8 (it is
refused: a leading zero reads differently in YAML 1.1 and 1.2), ``1:30`` is
not 90 in base 60 and ``3_1`` is not 31 (both are text, refused where a number
belongs), ``yes`` and ``no`` are text, not booleans; only ``true`` and
``false`` are. A mapping that names a key twice, in YAML or JSON, is refused
(which one would win is a guess), as are JSON's ``NaN`` and ``Infinity``.
Files are read with libyaml's C parser, and are limited in size
(:data:`~iotbill.domain.input_rules.PLAN_LIMITS`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, ClassVar

import yaml

from iotbill.adapters.event_files import read_bytes
from iotbill.domain.catalog import Plan, PlanDocument
from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import PLAN_LIMITS, DuplicateKey, unique_keys
from iotbill.domain.plan_parsing import parse_plan

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreLoader(_Base):  # type: ignore[misc]
    """libyaml's parser with the YAML 1.2 core schema's resolvers and exact decimals."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}


_CORE_RESOLVERS = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
)
for _tag, _pattern, _first in _CORE_RESOLVERS:
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]")


class _Ambiguous(ValueError):
    """A scalar that YAML 1.1 and 1.2 read differently, or a key named twice: at ``line``."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def _core_int(loader: Any, node: yaml.nodes.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if _LEADING_ZERO.match(text):
        raise _Ambiguous(
            node.start_mark.line + 1,
            f"{text!r} has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as"
            " decimal; write it without the zero (or 0o... for octal)",
        )
    return int(text, 10)


def _core_float(loader: Any, node: yaml.nodes.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    if text.lstrip("+-").startswith(".") and text.lower().endswith(("inf", "nan")):
        return text  # stays text, refused where a number is needed
    return Decimal(text)


def _unique_mapping(loader: Any, node: yaml.nodes.MappingNode) -> dict[str, Any]:
    """A mapping whose keys are text, each named once (YAML would take ``1:`` or
    ``true:`` as a number or a boolean, and keep the last of two equal keys)."""
    loader.flatten_mapping(node)
    found: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Ambiguous(
                line, f"the key {key_node.value!r} is read as {type(key).__name__}: quote it"
            )
        if key in found:
            raise _Ambiguous(line, f"the key {key!r} appears twice in one mapping")
        found[key] = loader.construct_object(value_node, deep=True)
    return found


_CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
_CoreLoader.add_constructor("tag:yaml.org,2002:float", _core_float)
_CoreLoader.add_constructor("tag:yaml.org,2002:map", _unique_mapping)


def parse_plan_text(text: str, source: str) -> Plan:
    """The plan in ``text`` (JSON if it starts with ``{``, YAML otherwise)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > PLAN_LIMITS.max_bytes:
        raise InvalidInput.at(
            source, f"is {size:,} bytes; a plan may have at most {PLAN_LIMITS.max_bytes:,}"
        )
    data = _parse_document(text, source)
    try:
        return parse_plan(data)
    except InvalidInput as error:
        raise error.within(source, ": ") from None
    except RecursionError:
        raise InvalidInput.at(source, "nested too deep") from None


def parse_plan_document(text: str, source: str) -> PlanDocument:
    """The plan in ``text`` with the text itself, for storing: see :func:`parse_plan_text`."""
    return PlanDocument(parse_plan_text(text, source), text, source)


def read_plan(path: str) -> Plan:
    """The plan in the file at ``path``."""
    raw = read_bytes(path)
    if len(raw) > PLAN_LIMITS.max_bytes:
        raise InvalidInput.at(
            path, f"is {len(raw):,} bytes; a plan may have at most {PLAN_LIMITS.max_bytes:,}"
        )
    return parse_plan_text(plan_text(raw, path), path)


def plan_text(raw: bytes, source: str) -> str:
    r"""``raw`` as UTF-8 text; :class:`InvalidInput` at ``source`` and the line of the first
    byte that is not.

    >>> plan_text(b"code: x\nname: \xff\n", "plan.yaml")
    Traceback (most recent call last):
    ...
    iotbill.domain.errors.InvalidInput: plan.yaml:2: not UTF-8 text at byte 15 (invalid start byte)
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InvalidInput.at(
            f"{source}:{line}", f"not UTF-8 text at byte {error.start + 1} ({error.reason})"
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number iotbill accepts")


def _parse_document(text: str, source: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(
                text,
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=unique_keys,
            )
        except json.JSONDecodeError as error:
            raise InvalidInput.at(
                f"{source}:{error.lineno}", f"not valid JSON ({error.msg})"
            ) from None
        except DuplicateKey as error:
            raise InvalidInput.at(source, f"not valid JSON ({error})") from None
        except ValueError as error:
            raise InvalidInput.at(source, f"not valid JSON ({error})") from None
        except RecursionError:
            raise InvalidInput.at(source, "not valid JSON (nested too deep)") from None
    try:
        return yaml.load(text, Loader=_CoreLoader)  # a safe loader
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise InvalidInput.at(f"{source}:{line}", f"not valid YAML ({error.problem})") from None
    except yaml.YAMLError as error:
        raise InvalidInput.at(source, f"not valid YAML ({error})") from None
    except _Ambiguous as error:
        raise InvalidInput.at(f"{source}:{error.line}", f"not valid YAML ({error})") from None
    except RecursionError:
        raise InvalidInput.at(source, "not valid YAML (nested too deep)") from None
