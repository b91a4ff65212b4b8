"""The tenant's API keys over HTTP (scope ``admin``): create, list, revoke (``/v1/keys``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from iotbill.domain.api_keys import KEY_PREFIX, ApiKey
from iotbill.entrypoints.api.auth import Admin
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.ids import url_id
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_view
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    optional_reference,
)
from iotbill.entrypoints.api.schemas import CreatedKeyOut, KeyIn, KeyOut, PageOf
from iotbill.services import api_keys

router = APIRouter(prefix="/v1", tags=["keys"], route_class=IdempotentRoute)


def key_view(key: ApiKey) -> dict[str, Any]:
    """A key as listed: its id and the prefix its text starts with, never its secret."""
    return {
        "id": key.id,
        "prefix": f"{KEY_PREFIX}_{key.id}_",
        "name": key.name,
        "scopes": sorted(key.scopes),
        "created_at": key.created_at.isoformat(),
        "revoked_at": None if key.revoked_at is None else key.revoked_at.isoformat(),
        "party": None if key.party is None else url_id(key.party),
    }


@router.post(
    "/keys",
    status_code=201,
    response_model=CreatedKeyOut,
    summary="Create an API key of this tenant: its text is shown this once",
    responses=responses(*WRITE_PROBLEMS),
)
def create_key(body: KeyIn, access: Admin) -> dict[str, Any]:
    created = api_keys.create_key(
        access.uow(),
        name=body.name,
        scopes=body.scopes,
        clock=access.clock,
        party=optional_reference(body.party),
    )
    return {**key_view(created.key), "key": created.text}


@router.get(
    "/keys",
    response_model=PageOf[KeyOut],
    summary="List this tenant's keys by creation, revoked ones too",
    responses=responses(*READ_PROBLEMS),
)
def list_keys(access: Admin, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> dict[str, Any]:
    found = api_keys.list_keys(access.uow(read_only=True))
    return page_view(
        found,
        key=lambda k: [k.created_at.isoformat(), k.id],
        view=key_view,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/keys/{key_id}/revoke",
    response_model=KeyOut,
    summary="Revoke a key: from now on it opens nothing",
    responses=responses(*WRITE_PROBLEMS),
)
def revoke_key(key_id: str, access: Admin) -> dict[str, Any]:
    return key_view(api_keys.revoke_key(access.uow(), key_id, clock=access.clock))
