"""Read-only analytics: ``GET /v1/analytics/overview``, the figures of the dashboard's first page.

MRR, revenue by month and by business model, and the standing of the invoices
(due, overdue, paid), per currency, by the rules of
:mod:`iotbill.domain.analytics` (docs/analytics.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from iotbill.entrypoints.api.auth import BillingRead
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import READ_PROBLEMS
from iotbill.entrypoints.cli.options import parse_instant
from iotbill.services.analytics import overview

router = APIRouter(prefix="/v1")


@router.get(
    "/analytics/overview",
    tags=["analytics"],
    summary="MRR, revenue by month and by business model, invoices due, overdue and paid",
    responses=responses(*READ_PROBLEMS),
)
def analytics_overview(
    access: BillingRead,
    at: Annotated[
        str | None,
        Query(max_length=64, description="A date (UTC midnight) or an instant (default: now)"),
    ] = None,
) -> dict[str, Any]:
    instant = access.clock.now() if at is None else parse_instant(at, "at")
    return overview(access.uow(read_only=True), instant).as_json()
