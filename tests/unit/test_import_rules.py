"""Imports point inward: the layers of docs/architecture.md, checked on every module.

Every ``import`` counts, at the top of a module, inside a function or under
``TYPE_CHECKING``: a rule broken only for type checkers is broken all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iotbill"

ALLOWED: dict[str, tuple[str, ...]] = {
    "iotbill.domain": ("iotbill.domain",),
    "iotbill.adoption": ("iotbill.domain", "iotbill.adoption"),
    "iotbill.services": ("iotbill.domain", "iotbill.services"),
    "iotbill.adapters": ("iotbill.domain", "iotbill.services.ports", "iotbill.adapters"),
}
"""For each layer, the iotbill packages its modules may import (anything outside
iotbill is free)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """Each iotbill module that ``path`` imports, with the line of the import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "iotbill"]


def allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def breaches(layer: str) -> list[str]:
    prefixes = ALLOWED[layer]
    folder = PACKAGE / layer.split(".", 1)[1]
    return [
        f"{module_name(path)}:{line} imports {name}"
        for path in sorted(folder.rglob("*.py"))
        if "migrations" not in path.parts  # Alembic's scripts, run by Alembic
        for line, name in imported(path)
        if not allowed(name, prefixes)
    ]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    assert breaches(layer) == []


def test_the_check_sees_a_breach(tmp_path: Path) -> None:
    """The rule fails where it should: an import inside a function, and one of a name."""
    module = tmp_path / "module.py"
    module.write_text(
        "from iotbill.domain.money import Money\n"
        "def f():\n"
        "    from iotbill.adapters.clock import SystemClock\n"
        "    import iotbill.entrypoints.cli\n"
    )
    names = [name for _, name in imported(module)]
    assert names == [
        "iotbill.domain.money.Money",
        "iotbill.adapters.clock.SystemClock",
        "iotbill.entrypoints.cli",
    ]
    assert [name for name in names if not allowed(name, ALLOWED["iotbill.services"])] == [
        "iotbill.adapters.clock.SystemClock",
        "iotbill.entrypoints.cli",
    ]
    assert allowed("iotbill.services.ports.Clock", ALLOWED["iotbill.adapters"])
    assert not allowed("iotbill.services.ingest.Lines", ALLOWED["iotbill.adapters"])
