"""``GET /v1/entitlements/check``: may a customer use a feature, as ``iotbill entitlements
check`` answers it (the rules: docs/entitlements.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from iotbill.entrypoints.api.auth import BillingRead
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import READ_PROBLEMS, moment, reference
from iotbill.entrypoints.api.schemas import Moment as MomentText
from iotbill.services.customers import get_customer
from iotbill.services.entitlements import check_entitlement, check_json
from iotbill.services.moments import instant_for

router = APIRouter(prefix="/v1")


@router.get(
    "/entitlements/check",
    tags=["entitlements"],
    summary="Whether a customer may use a feature: has_access, used, limit, remaining, period",
    responses=responses(*READ_PROBLEMS),
)
def entitlement_check(
    access: BillingRead,
    customer: Annotated[str, Query(max_length=400)],
    feature: Annotated[str, Query(max_length=128)],
    as_of: MomentText | None = None,
) -> dict[str, Any]:
    access.own(reference(customer), "customer", customer)
    owner = get_customer(access.uow(read_only=True), reference(customer))  # another's: 404
    when = instant_for(moment(as_of, "as_of", access.clock.now()), owner, "as_of")
    answer = check_entitlement(
        access.uow(read_only=True), customer=owner.id, feature=feature, as_of=when
    )
    return check_json(answer)
