"""The top-level API: a curated list, each name the object of its home module, cheap to import."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

import iotbill

EXPECTED = [
    "Conflict",
    "CreditNote",
    "Currency",
    "Customer",
    "Device",
    "DocumentKind",
    "InvalidInput",
    "Invoice",
    "InvoiceLine",
    "IotbillError",
    "NotFound",
    "Period",
    "Plan",
    "Problem",
    "Settings",
    "Subscription",
    "UsageEvent",
    "Wired",
    "add_customer",
    "add_device",
    "apply_plan",
    "bill_run",
    "create_subscription",
    "currency",
    "in_memory",
    "ingest",
    "load_settings",
    "round_money",
]


def test_the_public_names_are_the_curated_list() -> None:
    assert iotbill.__all__ == EXPECTED == sorted(iotbill._PUBLIC)


@pytest.mark.parametrize("name", EXPECTED)
def test_each_public_name_is_its_home_modules_object(name: str) -> None:
    home = import_module(iotbill._PUBLIC[name])
    assert getattr(iotbill, name) is getattr(home, name)
    assert name in dir(iotbill)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'iotbill' has no attribute 'Invoices'"):
        iotbill.Invoices  # noqa: B018


def test_importing_iotbill_loads_no_store_and_no_numerics() -> None:
    code = (
        "import sys, iotbill\n"
        "print(sorted(m for m in ('sqlalchemy', 'numpy', 'iotbill.domain', 'iotbill.services')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
