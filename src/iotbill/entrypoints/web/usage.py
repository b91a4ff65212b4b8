"""``/app/usage``: a meter's quantity over time for a customer or one of its devices.

The form asks for a customer, optionally a device and a meter, a range
(``from``, ``to``: dates are local midnights in the customer's zone, or aware
instants) and a resolution (hour, day, month); the answer is a chart per meter
from the same service as ``GET /v1/customers/{id}/usage``, with its buckets cut
at the customer's local boundaries. Bad input shows the form again with every
problem under its field (422), as the API lists them.

The form reads one page of the tenant's customers, whatever their number: up to
:data:`CHOICES` it offers them in a list; beyond, a customer's id is typed, the first
:data:`CHOICES` by id suggested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse

from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.entrypoints.api.routes.common import reference
from iotbill.entrypoints.cli.options import parse_date_or_instant
from iotbill.entrypoints.web import charts
from iotbill.entrypoints.web.pages import PageRoute, SignedIn, page
from iotbill.services.customers import list_customers
from iotbill.services.moments import Moment
from iotbill.services.ports import Paging
from iotbill.services.usage import usage

router = APIRouter(prefix="/app", route_class=PageRoute, include_in_schema=False)

Resolution = Literal["hour", "day", "month"]
CHOICES = 100
"""Customers the form lists; a tenant of more has the id typed (the first suggested)."""


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """The usage form's fields as typed, shown again in the form."""

    customer: str
    start: str
    end: str
    by: Resolution
    device: str = ""
    meter: str = ""

    def moments(self) -> tuple[Moment, Moment]:
        """``from`` and ``to`` as dates or instants; :class:`InvalidInput` naming each bad one."""
        problems = ProblemCollector()
        parsed: list[Moment] = []
        for text, field in ((self.start, "from"), (self.end, "to")):
            try:
                parsed.append(parse_date_or_instant(text, field))
            except InvalidInput as error:
                problems.extend(error.problems)
        problems.raise_if_any()
        return parsed[0], parsed[1]


@router.get("/usage", response_class=HTMLResponse)
def usage_page(
    access: SignedIn,
    customer: Annotated[str, Query(max_length=400)] = "",
    device: Annotated[str, Query(max_length=400)] = "",
    meter: Annotated[str, Query(max_length=128)] = "",
    start: Annotated[str, Query(alias="from", max_length=64)] = "",
    end: Annotated[str, Query(alias="to", max_length=64)] = "",
    by: Resolution = "day",
) -> HTMLResponse:
    query = UsageQuery(customer.strip(), start.strip(), end.strip(), by, device.strip(), meter)
    customers = list_customers(access.uow(read_only=True), Paging(None, CHOICES + 1))
    figures: list[charts.Figure] = []
    problems: list[tuple[str, str]] = []
    if query.customer:
        try:
            start_at, end_at = query.moments()
            report = usage(
                access.uow(read_only=True),
                customer=reference(query.customer),
                start=start_at,
                end=end_at,
                device=reference(query.device) if query.device else None,
                meter=query.meter or None,
                by=by,
            )
            figures = charts.usage_over_time(report)
        except InvalidInput as error:
            problems = [(p.location, p.message) for p in error.problems]
    return page(
        "usage.html",
        title="Usage",
        access=access,
        status=422 if problems else 200,
        query=query,
        customers=customers[:CHOICES],
        typed=len(customers) > CHOICES,
        problems=problems,
        usage_charts=figures,
    )
