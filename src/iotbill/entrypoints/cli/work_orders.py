"""``iotbill work-orders open|dispatch|arrive|resolve|list|show`` and ``iotbill alerts run``.

A work order is opened for a device, dispatched, on site, then resolved with
the parts fitted; resolving records the labour (time on site in the plan's
started blocks, at its hourly rate) and the parts as one-off charges, billed
once on the customer's next invoice. ``alerts run`` is the job that opens work
orders from the plans' alert rules.
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.domain.models.work_orders import WorkOrder
from iotbill.entrypoints.cli.options import AT_HELP
from iotbill.entrypoints.cli.session import session, store_group

work_orders_app = store_group(help="Work orders: a technician's visit to a device, billed once.")
alerts_app = store_group(help="The alert job: alert rules over stored events open work orders.")

ID_HELP = "The work order's id."


def register(app: typer.Typer) -> None:
    """Add the ``work-orders`` and ``alerts`` groups to ``app``."""
    app.add_typer(work_orders_app, name="work-orders")
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command("run")
def alerts_run_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Evaluate at this instant (with an offset); default now."),
    ] = None,
) -> None:
    """Evaluate every alert rule and open one work order per device and incident.

    Exit codes: 0 ok, 2 invalid input.
    """
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.alerts import run_alerts

    current = session()
    moment = current.instant_or_now(as_of, "--as-of")
    checks = run_alerts(current.uow(), as_of=moment)
    opened = [check.opened for check in checks if check.opened is not None]
    data = {
        "as_of": moment.isoformat(),
        "opened": [order.as_json() for order in opened],
        "checks": [
            {
                "device": check.device,
                "rule": check.rule,
                "incident_start": None
                if check.incident_start is None
                else check.incident_start.isoformat(),
                "work_order": check.opened.id if check.opened else check.blocked_by,
            }
            for check in checks
        ],
    }

    def show() -> None:
        shown = table(f"Alerts at {moment.isoformat()}", "Device", "Rule", "Incident", "Work order")
        for check in checks:
            incident = check.incident_start
            shown.add_row(
                check.device,
                check.rule,
                "none" if incident is None else f"since {incident.isoformat()}",
                (f"opened {check.opened.id}" if check.opened else None)
                or (f"{check.blocked_by} not resolved yet" if check.blocked_by else ""),
            )
        print_table(shown)
        typer.echo(f"{len(opened)} work order(s) opened")

    current.emit(data, show)


@work_orders_app.command("open")
def open_command(
    device: Annotated[str, typer.Option("--device", help="The device to visit.")],
    summary: Annotated[str, typer.Option("--summary", help="What the visit is about.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Open a work order. Exit codes: 0 ok, 2 invalid input, 3 unknown device, 4 the device
    has one not resolved, or no plan with service terms covers it."""
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.work_orders import open_work_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    with flag_names(summary="--summary", at="--at"):
        _emit(open_work_order(current.uow(), device=device, summary=summary, at=moment))


@work_orders_app.command("dispatch")
def dispatch_command(
    order: Annotated[str, typer.Argument(help=ID_HELP)],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that a technician was sent. Exit codes: 0 ok, 2, 3, 4 not open."""
    from iotbill.services.work_orders import dispatch_work_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    _emit(dispatch_work_order(current.uow(), order, at=moment))


@work_orders_app.command("arrive")
def arrive_command(
    order: Annotated[str, typer.Argument(help=ID_HELP)],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that the technician is on site. Exit codes: 0 ok, 2, 3, 4 not dispatched."""
    from iotbill.services.work_orders import arrive_work_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    _emit(arrive_work_order(current.uow(), order, at=moment))


@work_orders_app.command("resolve")
def resolve_command(
    order: Annotated[str, typer.Argument(help=ID_HELP)],
    part: Annotated[
        list[str] | None, typer.Option("--part", help="A part fitted, CODE=COUNT (repeatable).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Resolve a work order; its labour and parts are billed on the next invoice.
    Exit codes: 0 ok, 2 invalid input (every problem listed), 3, 4 not on site."""
    from iotbill.domain.errors import ProblemCollector
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.work_orders import resolve_work_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    problems = ProblemCollector()
    parts: dict[str, int] = {}
    for text in part or []:
        code, _, count = text.partition("=")
        if not code or not count.isdigit():
            problems.add("--part", f"must be CODE=COUNT, like bearing=2, not {text!r}")
        else:
            parts[code] = parts.get(code, 0) + int(count)
    problems.raise_if_any()
    with flag_names(at="--at"):
        resolved, charges = resolve_work_order(current.uow(), order, at=moment, parts=parts)
    view = resolved.as_json()
    view["charges"] = [charge.as_json() for charge in charges]
    billed = "; ".join(f"{c.description} {c.line().amount}" for c in charges) or "nothing"
    current.emit(view, f"{resolved.id}: resolved; billed on the next invoice: {billed}")


@work_orders_app.command("list")
def list_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """List the work orders, oldest first."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.work_orders import list_work_orders

    current = session()
    found = list_work_orders(current.uow(), customer)

    def show() -> None:
        shown = table("Work orders", "Id", "Device", "Status", "Opened", "Summary")
        for order in found:
            shown.add_row(
                order.id, order.device_id, order.status, order.opened_at.isoformat(), order.summary
            )
        print_table(shown)

    current.emit([order.as_json() for order in found], show)


@work_orders_app.command("show")
def show_command(order: Annotated[str, typer.Argument(help=ID_HELP)]) -> None:
    """Show one work order and its steps. Exit codes: 0 ok, 3 unknown work order."""
    from iotbill.services.work_orders import get_work_order

    _emit(get_work_order(session().uow(), order))


def _emit(order: WorkOrder) -> None:
    view = order.as_json()
    steps = ", ".join(
        f"{step.replace('_', ' ')} {view[f'{step}_at']}"
        for step in ("opened", "dispatched", "on_site", "resolved")
        if view[f"{step}_at"] is not None
    )
    credit = ""
    if order.sla_invoice_id is not None:
        credit = f"; SLA credit {view['sla_credit']['percent']} % on {order.sla_invoice_id}"
    session().emit(
        view,
        f"{order.id}: {order.summary} ({order.device_id}), {order.status} ({steps}){credit}",
    )
