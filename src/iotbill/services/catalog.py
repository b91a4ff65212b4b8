"""The catalog: plans stored with versions.

Applying a plan document stores it as version 1 of its code, or as the next
version when the plan it describes differs from the latest one (any change to
a price, a meter, a fee, the name or the description). Applying the same plan
again stores nothing and says so: :attr:`AppliedPlan.created` is ``False``.
Comments and formatting are not the plan, so a document that differs only in
those is the same plan. A stored version never changes; existing subscriptions
stay on their version until ``subscriptions migrate`` moves them
(:func:`iotbill.services.subscriptions.migrate_subscriptions`).

A plan keeps its currency and its billing interval across versions (one plan
per currency; subscriptions cannot migrate across intervals): a document that
changes either is refused, and a plan in another currency takes another code.

Each function is one unit of work: it enters the (not yet entered)
``uow`` it is given, and a failure stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.catalog import PlanDocument
from iotbill.domain.errors import InvalidInput, NotFound, Problem
from iotbill.domain.periods import require_aware
from iotbill.services.ports import Clock, StoredPlan, UnitOfWork


@dataclass(frozen=True, slots=True)
class AppliedPlan:
    """What applying a document did: the version now in force, and whether it is new."""

    stored: StoredPlan
    created: bool


def apply_plan(uow: UnitOfWork, document: PlanDocument, clock: Clock) -> AppliedPlan:
    """Store the plan of ``document`` as a new version, unless it is the latest already.

    The entrypoint reads the document into a plan
    (:func:`iotbill.adapters.plan_files.parse_plan_document`), so a document that
    is not a valid plan never reaches here. A plan that changes its currency or
    interval is :class:`~iotbill.domain.errors.InvalidInput` at
    ``document.source: field``; nothing is stored.
    """
    plan, source = document.plan, document.source
    with uow:
        try:
            versions = uow.plans.versions(plan.code)
        except NotFound:
            versions = []
        if versions:
            latest = versions[-1]
            if latest.plan == plan:
                return AppliedPlan(latest, created=False)
            changed = _kept_fields(latest, plan.currency.code, plan.interval)
            if changed:
                raise InvalidInput(changed).within(source, ": ")
        stored = uow.plans.add_version(plan, document.text, clock.now())
        uow.commit()
    return AppliedPlan(stored, created=True)


def list_plans(uow: UnitOfWork) -> list[StoredPlan]:
    """The latest version of every plan, by code."""
    with uow:
        return uow.plans.latest()


def show_plan(uow: UnitOfWork, code: str, version: int | None = None) -> StoredPlan:
    """One version of plan ``code`` (the latest when ``version`` is ``None``).

    :class:`~iotbill.domain.errors.NotFound` for an unknown code or version.
    """
    with uow:
        return uow.plans.get(code, version)


def plan_versions(uow: UnitOfWork, code: str) -> list[StoredPlan]:
    """Every version of plan ``code``, oldest first."""
    with uow:
        return uow.plans.versions(code)


def _kept_fields(latest: StoredPlan, currency_code: str, interval: str) -> list[Problem]:
    problems: list[Problem] = []
    name = f"plan {latest.plan.code!r} (version {latest.version})"
    if currency_code != latest.plan.currency.code:
        problems.append(
            Problem(
                "currency",
                f"{name} bills in {latest.plan.currency}: a plan keeps its currency"
                f" (give the {currency_code} plan a code of its own)",
            )
        )
    if interval != latest.plan.interval:
        problems.append(
            Problem(
                "interval",
                f"{name} bills every {latest.plan.interval}: a plan keeps its interval"
                " (subscriptions cannot migrate to another one; give it a code of its own)",
            )
        )
    return problems


def archive_plan(uow: UnitOfWork, code: str, at: datetime) -> datetime:
    """Archive plan ``code`` from ``at``: no new subscription takes it, and none moves onto
    it (``subscriptions create|change|migrate`` refuse it), while the subscriptions on it
    keep billing, at their versions. Its versions stay readable. :class:`NotFound` for an
    unknown code; :class:`Conflict` if it is archived already."""
    with uow:
        uow.plans.archive(code, require_aware(at, "at"))
        uow.commit()
    return at


def archived_plans(uow: UnitOfWork) -> dict[str, datetime]:
    """When each archived plan was archived, by code."""
    with uow:
        return uow.plans.archived()
