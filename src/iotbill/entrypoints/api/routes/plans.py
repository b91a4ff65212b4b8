"""Plans: upload a plan document, list plans, list and show versions (``/v1/plans``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from iotbill.adapters.plan_files import parse_plan_document
from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_view
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import READ_PROBLEMS, WRITE_PROBLEMS, path_id
from iotbill.entrypoints.api.schemas import PageOf, PlanIn, PlanOut
from iotbill.entrypoints.views import plan_json
from iotbill.services import catalog

router = APIRouter(prefix="/v1", tags=["plans"], route_class=IdempotentRoute)


@router.post(
    "/plans",
    status_code=201,
    response_model=PlanOut,
    summary="Upload a plan document: a new version, unless it is the latest already (200)",
    responses={
        200: {"model": PlanOut, "description": "The latest version is this plan"},
        **responses(*WRITE_PROBLEMS),
    },
)
def upload_plan(body: PlanIn, access: BillingWrite) -> Any:
    document = parse_plan_document(body.document, "document")
    applied = catalog.apply_plan(access.uow(), document, access.clock)
    view = {**plan_json(applied.stored), "created": applied.created}
    if applied.created:
        return view
    return JSONResponse(PlanOut(**view).model_dump(by_alias=True), status_code=200)


@router.get(
    "/plans",
    response_model=PageOf[PlanOut],
    summary="The latest version of every plan, by code",
    responses=responses(*READ_PROBLEMS),
)
def list_plans(
    access: BillingRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    found = catalog.list_plans(access.uow(read_only=True))
    return page_view(
        found,
        key=lambda p: [p.plan.code],
        view=lambda p: plan_json(p, document=False),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/plans/{code}",
    response_model=PlanOut,
    summary="The latest version of a plan, with its document",
    responses=responses(*READ_PROBLEMS),
)
def show_plan(code: str, access: BillingRead) -> dict[str, Any]:
    return plan_json(catalog.show_plan(access.uow(read_only=True), path_id(code, "plan")))


@router.get(
    "/plans/{code}/versions",
    response_model=PageOf[PlanOut],
    summary="Every version of a plan, oldest first",
    responses=responses(*READ_PROBLEMS),
)
def list_versions(
    code: str, access: BillingRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    found = catalog.plan_versions(access.uow(read_only=True), path_id(code, "plan"))
    return page_view(
        found,
        key=lambda p: [f"{p.version:010d}"],
        view=lambda p: plan_json(p, document=False),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/plans/{code}/versions/{version}",
    response_model=PlanOut,
    summary="One version of a plan, with its document",
    responses=responses(*READ_PROBLEMS),
)
def show_version(code: str, version: int, access: BillingRead) -> dict[str, Any]:
    stored = catalog.show_plan(access.uow(read_only=True), path_id(code, "plan"), version)
    return plan_json(stored)
