"""The Python client against the OpenAPI document: every operation it calls exists with its
method and path, every operation of the document has a client method, and each method's
path parameters are the document's."""

from __future__ import annotations

import inspect
import re

from iotbill.bootstrap import in_memory
from iotbill.client import OPERATIONS, IotbillClient
from iotbill.entrypoints.api import create_app


def document_operations() -> set[tuple[str, str]]:
    wired = in_memory()
    document = create_app(uow_factory=wired.uow_factory, clock=wired.clock).openapi()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_client_and_the_document_name_the_same_operations() -> None:
    assert set(OPERATIONS.values()) == document_operations()
    assert len(set(OPERATIONS.values())) == len(OPERATIONS)  # one method per operation


def test_each_operation_has_its_method_with_the_paths_parameters() -> None:
    for name, (_, path) in OPERATIONS.items():
        method = getattr(IotbillClient, name)
        parameters = set(inspect.signature(method).parameters) - {"self", "query", "fields"}
        named = set(re.findall(r"\{(\w+)\}", path))
        assert named <= parameters, name
