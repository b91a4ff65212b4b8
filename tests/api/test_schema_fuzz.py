"""Schemathesis against the served OpenAPI document: generated requests to every operation,
bounded in examples, and never a 5xx; every answer has a documented status and content
type and matches its schema.

The key holds every scope, so the requests reach the routes' own checks; the tenant
has a customer, a device and a plan, so some generated requests find something.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from iotbill.client import IotbillClient
from tests.api.conftest import Store
from tests.api.server import Server
from tests.api.test_http_e2e import set_up

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Fuzzed:
    def __init__(self, server: Server, key: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    folder = tmp_path_factory.mktemp("fuzz")
    store = Store(f"sqlite:///{folder / 'fuzz.db'}")
    tenant = store.tenant("fuzz")
    key = store.key(tenant, "admin")
    server = Server(
        store.url,
        folder / "server.log",
        IOTBILL_API_RATE_PER_SECOND="100000",
        IOTBILL_API_RATE_BURST="100000",
    ).start()
    with IotbillClient(server.url, key) as client:
        set_up(client)
    yield Fuzzed(server, key)
    server.stop()
    store.engine.dispose()


def _document() -> dict[str, Any]:
    """The OpenAPI document the server serves (the same app, built here to collect the tests;
    :func:`test_the_served_document_is_the_one_fuzzed` checks they are equal)."""
    from iotbill.bootstrap import in_memory
    from iotbill.entrypoints.api import create_app

    wired = in_memory()
    return create_app(uow_factory=wired.uow_factory, clock=wired.clock).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_served_document_is_the_one_fuzzed(fuzzed: Fuzzed) -> None:
    assert httpx.get(f"{fuzzed.server.url}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: Any, fuzzed: Fuzzed) -> None:
    case.call_and_validate(
        base_url=fuzzed.server.url, headers=fuzzed.headers, checks=CHECKS, timeout=30
    )
