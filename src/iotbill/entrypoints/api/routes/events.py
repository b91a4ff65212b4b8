"""``POST /v1/events``: one usage event, or a batch of up to 1,000, through the ingest service.

The same rules as ``iotbill ingest`` (the same service does the work): each
event is billed to its device's owner at its timestamp, an id is stored once,
and an event a meter refuses is rejected with its field. Each item gets a
result, by its position in the body:

* ``accepted``: stored now;
* ``duplicate``: its id was stored before (or came earlier in this body) with
  the same content: nothing more is stored;
* ``conflict``: its id was stored before (or came earlier in this body) with
  other content: the first one stands, this one is not stored;
* ``rejected``: not stored, with the ``field`` and the ``reason``.

By default the good items are stored and the answer is 200 whatever the
results. With ``?atomic=true`` one rejected item stores nothing and the answer
is 422 listing every rejected item (``errors[].field`` is ``[index].field``).
A single event (an object, not an array) that is rejected is 422 too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from iotbill.adapters.event_files import decode_lines
from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.entrypoints.api.auth import Access, EventsWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.problems import MalformedJson, responses
from iotbill.entrypoints.api.schemas import EventIn, EventsOut
from iotbill.services.ingest import IngestReport, Rejection, ingest

MAX_EVENTS = 1000
router = APIRouter(prefix="/v1", tags=["events"], route_class=IdempotentRoute)

_RAW = msgspec.json.Decoder(msgspec.Raw)
_RAW_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_FIELD = re.compile(r"^[A-Za-z_][\w.\[\]]*$")
_EVENT_SCHEMA = EventIn.model_json_schema()
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    _EVENT_SCHEMA,
                    {
                        "type": "array",
                        "items": _EVENT_SCHEMA,
                        "minItems": 1,
                        "maxItems": MAX_EVENTS,
                    },
                ]
            }
        }
    },
}


@router.post(
    "/events",
    response_model=EventsOut,
    summary="Send usage events: one, or a batch of up to 1,000",
    openapi_extra={"requestBody": _BODY},
    responses=responses(400, 401, 403, 409, 413, 415, 422, 429),
)
async def post_events(
    request: Request,
    access: EventsWrite,
    atomic: Annotated[
        bool, Query(description="Store nothing unless every item is accepted (else 422).")
    ] = False,
) -> Response:
    body = await request.body()
    outcome = await run_in_threadpool(_ingest_body, access, body, atomic)
    return Response(msgspec.json.encode(outcome), media_type="application/json")


def _ingest_body(access: Access, body: bytes, atomic: bool) -> dict[str, Any]:
    single, items, refused = _decode(body)
    events = [SourcedEvent(event, index) for index, event in items]
    report = ingest(
        access.uow_factory(),
        access.tenant,
        events,
        clock=access.clock,
        rejected=refused,
        atomic=atomic,
        batch_size=MAX_EVENTS,
        writers=1,
    )
    results = _results(len(items) + len(refused), items, report)
    rejected = [result for result in results if result["status"] == "rejected"]
    if rejected and (atomic or single):
        raise InvalidInput(
            [
                Problem(_within(single, result["index"], result["field"]), result["reason"])
                for result in rejected
            ]
        )
    counts = {status: 0 for status in ("accepted", "duplicate", "conflict", "rejected")}
    for result in results:
        counts[result["status"]] += 1
    return {
        "atomic": atomic,
        "stored": report.accepted,
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "conflicts": counts["conflict"],
        "rejected": counts["rejected"],
        "results": results,
    }


def _decode(body: bytes) -> tuple[bool, list[tuple[int, UsageEvent]], list[Rejection]]:
    """Whether the body is one event, its readable events by position, and the unreadable.

    The items are read by the reader of event files
    (:func:`~iotbill.adapters.event_files.decode_lines`), so a field is refused here
    exactly as in a file given to ``iotbill ingest``.
    """
    single = body.lstrip()[:1] != b"["
    try:
        raws = [_RAW.decode(body)] if single else _RAW_ITEMS.decode(body)
    except msgspec.DecodeError as error:
        raise MalformedJson(f"the body is not valid JSON ({error})") from None
    if single and body.lstrip()[:1] != b"{":
        raise InvalidInput.at("body", "must be an event (an object) or an array of events")
    if len(raws) == 0:
        raise InvalidInput.at("body", "an empty batch: send at least one event")
    if len(raws) > MAX_EVENTS:
        raise InvalidInput.at("body", f"{len(raws)} events: a batch holds at most {MAX_EVENTS}")
    # The items as JSON Lines, one per line (a newline in valid JSON is only whitespace
    # between tokens), read in one call by the reader of event files: the same rules, and
    # its fast path. Line n holds item n. A body without line breaks (the usual one) is
    # joined as it is, in one call.
    if b"\n" in body or b"\r" in body:
        lines = b"\n".join(bytes(raw).replace(b"\r", b" ").replace(b"\n", b" ") for raw in raws)
    else:
        lines = b"\n".join(raws)
    read = decode_lines(lines, first_line=0)
    items = [(sourced.line, sourced.event) for sourced in read.events]
    refused = list(read.rejected)
    return single, items, refused


def _results(
    count: int, items: list[tuple[int, UsageEvent]], report: IngestReport
) -> list[dict[str, Any]]:
    """Each item's result, by its position: the ingest's report names the line (here, the
    position) of every rejection, conflict and duplicate; the other items were stored."""
    results: list[dict[str, Any]] = [{}] * count
    for rejection in report.rejected:
        field, reason = _split(rejection.reason)
        results[rejection.line] = {"status": "rejected", "field": field, "reason": reason}
    status = dict.fromkeys(report.duplicate_lines, "duplicate")
    status.update((conflict.line, "conflict") for conflict in report.conflicts)
    for index, event in items:
        if results[index]:
            results[index] = {"index": index, "id": event.id, **results[index]}
            continue
        results[index] = {
            "index": index,
            "id": event.id,
            "status": status.get(index, "accepted"),
            "field": None,
            "reason": None,
        }
    for index, result in enumerate(results):
        if "index" not in result:
            results[index] = {"index": index, "id": None, **result}
    return results


def _split(reason: str) -> tuple[str | None, str]:
    field, separator, rest = reason.partition(": ")
    if separator and _FIELD.match(field):
        return field, rest
    return None, reason


def _within(single: bool, index: int, field: str | None) -> str:
    if single:
        return field or ""
    return f"[{index}].{field}" if field else f"[{index}]"
