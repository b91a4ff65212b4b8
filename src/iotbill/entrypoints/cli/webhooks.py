"""``iotbill webhooks add|list|disable|deliveries|resend|deliver``: telling the business.

Messages are signed (docs/webhooks.md says how a receiver checks them) and
delivered at least once by ``iotbill webhooks deliver``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from iotbill.entrypoints.cli.errors import report_errors
from iotbill.entrypoints.cli.storage import JsonOption
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_store,
)

webhooks_app = typer.Typer(
    help="Webhook endpoints, and the signed messages delivered to them.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the ``webhooks`` group to ``app``."""
    app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
@report_errors
def add_command(
    url: Annotated[str, typer.Argument(help="Where to POST: http:// or https://.")],
    events: Annotated[
        list[str],
        typer.Option(
            "--events",
            help="Event types, comma-separated or repeated (e.g. invoice.finalized,invoice.paid);"
            " * for all.",
        ),
    ],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an endpoint for some event types; prints its signing secret.

    Exit codes: 0 ok, 2 a bad URL or an unknown event type.
    """
    from iotbill.entrypoints.cli.output import now, print_json
    from iotbill.services.webhooks import add_endpoint

    wanted = [name.strip() for given in events for name in given.split(",") if name.strip()]
    endpoint = add_endpoint(open_store(database)(tenant), url, wanted, at=now())
    if as_json:
        print_json({**endpoint_json(endpoint), "secret": endpoint.secret})
    else:
        typer.echo(f"added webhook endpoint {endpoint.id}: {endpoint.url}")
        typer.echo(f"  events: {', '.join(sorted(endpoint.events))}")
        typer.echo(f"  signing secret: {endpoint.secret}")


@webhooks_app.command("list")
@report_errors
def list_command(
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's endpoints (secrets are not shown)."""
    from iotbill.entrypoints.cli.output import print_json, print_table, table
    from iotbill.services.webhooks import list_endpoints

    found = list_endpoints(open_store(database)(tenant))
    if as_json:
        print_json([endpoint_json(endpoint) for endpoint in found])
        return
    shown = table("Webhook endpoints", "Id", "URL", "Events", "Active")
    for endpoint in found:
        shown.add_row(
            endpoint.id, endpoint.url, ", ".join(sorted(endpoint.events)),
            "yes" if endpoint.active else "no",
        )  # fmt: skip
    print_table(shown)


@webhooks_app.command("disable")
@report_errors
def disable_command(
    id: Annotated[str, typer.Argument(help="Endpoint id.")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
) -> None:
    """Stop sending to an endpoint: nothing new is queued for it, and nothing is sent to it."""
    from iotbill.entrypoints.cli.output import now
    from iotbill.services.webhooks import disable_endpoint

    endpoint = disable_endpoint(open_store(database)(tenant), id, at=now())
    typer.echo(f"disabled webhook endpoint {endpoint.id}")


@webhooks_app.command("deliveries")
@report_errors
def deliveries_command(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List deliveries, the latest messages first (--json: with every attempt and event id)."""
    from iotbill.entrypoints.cli.output import print_json, print_table, table
    from iotbill.services.webhooks import list_deliveries

    found = list_deliveries(open_store(database)(tenant), status=status, limit=limit)
    if as_json:
        print_json([delivery_json(view) for view in found])
        return
    shown = table("Webhook deliveries", "Delivery", "Type", "Status", "Last attempt")
    for view in found:
        delivery = view.delivery
        last = delivery.attempts[-1] if delivery.attempts else None
        tried = (
            "-"
            if last is None
            else f"#{last.number} {last.at.isoformat(timespec='seconds')}: "
            + (str(last.status_code) if last.error is None else last.error)
        )
        shown.add_row(delivery.id, view.type, delivery.status, tried)
    print_table(shown)


@webhooks_app.command("resend")
@report_errors
def resend_command(
    delivery: Annotated[str, typer.Argument(help="Delivery id (see webhooks deliveries).")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
) -> None:
    """Send a failed (or delivered) delivery again, now, with a new deadline; same event id.

    Exit codes: 0 ok, 2 it is still pending, 3 unknown delivery.
    """
    from iotbill.entrypoints.cli.output import now
    from iotbill.services.webhooks import resend

    again = resend(open_store(database)(tenant), delivery, at=now())
    typer.echo(f"delivery {again.id} is pending again (until {again.deadline.isoformat()})")


@webhooks_app.command("deliver")
@report_errors
def deliver_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, wait for it, and stop.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="POSTs at a time.")] = 8,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for an answer.")] = 10,
    retry_base: Annotated[
        float, typer.Option(min=0.01, help="Seconds before the first retry (then doubling).")
    ] = 10,
    retry_cap: Annotated[
        float, typer.Option(min=0.01, help="Longest wait between tries, s.")
    ] = 3600,
    poll: Annotated[float, typer.Option(min=0.01, help="Seconds between looks at the outbox.")] = 1,
    database: DatabaseOption = None,
) -> None:
    """Deliver every tenant's webhook messages until stopped (SIGTERM, Ctrl-C), or --once."""
    import signal
    import threading
    from datetime import timedelta

    from iotbill.adapters.webhook_http import HttpWebhookSender
    from iotbill.bootstrap import bootstrap, load_settings
    from iotbill.domain.webhooks import RetryPolicy
    from iotbill.services.webhooks import Dispatcher

    wired = bootstrap(load_settings(database_url=database))
    policy = RetryPolicy(
        base=timedelta(seconds=retry_base),
        cap=timedelta(seconds=retry_cap),
        timeout=timedelta(seconds=timeout),
    )
    dispatcher = Dispatcher(
        wired.uow_factory, wired.clock, HttpWebhookSender(), policy=policy, concurrency=concurrency
    )
    stop = threading.Event()
    if not once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
    try:
        while not stop.is_set():
            started = dispatcher.dispatch()
            if once:
                dispatcher.drain()
                if not started:
                    break
                continue
            stop.wait(0.01 if started else poll)
        dispatcher.drain()
    finally:
        dispatcher.close()
    typer.echo(
        f"{dispatcher.attempts} attempts: {dispatcher.delivered} delivered,"
        f" {dispatcher.failed} failed for good",
        err=True,
    )


def endpoint_json(endpoint: Any) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": sorted(endpoint.events),
        "created_at": endpoint.created_at.isoformat(),
        "active": endpoint.active,
    }


def delivery_json(view: Any) -> dict[str, Any]:
    delivery = view.delivery
    return {
        "id": delivery.id,
        "event_id": delivery.message_id,
        "type": view.type,
        "endpoint": delivery.endpoint_id,
        "url": view.url,
        "status": delivery.status,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "deadline": delivery.deadline.isoformat(),
        "delivered_at": None
        if delivery.delivered_at is None
        else delivery.delivered_at.isoformat(),
        "attempts": [
            {
                "number": a.number,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in delivery.attempts
        ],
    }
