"""The business-model demos: one module per model, named here.

``iotbill demo --model NAME`` runs the :class:`ModelDemo` of the module that
:data:`MODELS` names: a tenant of its own, the model's template plan
(``examples/models/NAME.yaml``, read through ``plans/`` here, which links to
that folder), its customers and devices, seeded telemetry, the actions of its
story (a charge recorded, a cancellation, a buy-out) and a bill run at each of
its billing instants, on a fresh SQLite database
(:func:`iotbill.demo.models.runner.run_model`). ``iotbill demo --model all`` tells
every model of :data:`MODELS` in one tenant (:func:`model_demos`,
:func:`iotbill.demo.models.runner.run_models`): a model added here joins it.

A model module defines ``DEMO = ModelDemo(...)`` and nothing of the others'.
This package owns the registry and the runner; the business rules stay in the
domain, and the demos only use the services the command line uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import import_module
from importlib.resources import files
from importlib.resources.abc import Traversable

from iotbill.demo.scenario import DemoCustomer
from iotbill.domain.errors import InvalidInput
from iotbill.services.ports import UnitOfWorkFactory

MODELS: dict[str, str] = {
    "asset-sharing": "iotbill.demo.models.asset_sharing",
    "data-monetization": "iotbill.demo.models.data_monetization",
    "freemium": "iotbill.demo.models.freemium",
    "lease": "iotbill.demo.models.lease",
    "outcome-commitment": "iotbill.demo.models.outcome_commitment",
    "pay-per-mile": "iotbill.demo.models.pay_per_mile",
    "razor-blade": "iotbill.demo.models.razor_blade",
    "retail-instalments": "iotbill.demo.models.retail_instalments",
    "service": "iotbill.demo.models.service",
}
"""Each model's name and the module that defines its ``DEMO``."""
ALL = "all"
"""The name that asks for every model of :data:`MODELS` in one tenant."""


@dataclass(frozen=True, slots=True)
class Step:
    """Something the story does at ``at``, before the bill run of that instant, in the
    demo's tenant (e.g. record a one-off charge, cancel a lease)."""

    at: datetime
    act: Callable[[UnitOfWorkFactory, str], object]


@dataclass(frozen=True, slots=True)
class ModelDemo:
    """A business model told end to end: ``customers`` subscribe to ``plan`` (their own
    ``plan`` field names its code) at ``start``; the bill runs at ``bill_at``."""

    name: str
    story: str
    """The business in two sentences."""
    plan: Traversable
    """The template plan's file: :func:`template` of the model's name."""
    customers: tuple[DemoCustomer, ...]
    start: date
    bill_at: tuple[datetime, ...]
    steps: tuple[Step, ...] = ()


def template(name: str) -> Traversable:
    """The template plan of the model ``name``: ``examples/models/NAME.yaml``, through the
    package's ``plans`` link to that folder."""
    return files(__name__) / "plans" / f"{name}.yaml"


def model_demos(name: str) -> list[ModelDemo]:
    """The demo of the model ``name``, or for :data:`ALL` every model's, by name."""
    if name == ALL:
        return [model_demo(found) for found in sorted(MODELS)]
    return [model_demo(name)]


def model_demo(name: str) -> ModelDemo:
    """The demo of the model ``name``; :class:`InvalidInput` at ``--model`` naming the
    models there are, for an unknown one."""
    if name not in MODELS:
        known = ", ".join(sorted(MODELS)) or "none yet"
        raise InvalidInput.at("--model", f"unknown model {name!r} (one of: {known}; or {ALL})")
    demo = import_module(MODELS[name]).DEMO
    assert isinstance(demo, ModelDemo)
    return demo
