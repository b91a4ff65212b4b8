"""``iotbill webhooks add|list|disable|deliveries|resend|deliver``: telling the business.

Messages are signed (docs/webhooks.md says how a receiver checks them) and
delivered at least once by ``iotbill webhooks deliver``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from iotbill.entrypoints.cli.session import DatabaseOption, session, store_command

webhooks_app = typer.Typer(
    help="Webhook endpoints, and the signed messages delivered to them.", no_args_is_help=True
)


def _without_json(function: Callable[..., Any]) -> Callable[..., Any]:
    return store_command(function, json_output=False)


def register(app: typer.Typer) -> None:
    """Add the ``webhooks`` group to ``app``."""
    app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
@store_command
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
) -> None:
    """Register an endpoint for some event types; prints its signing secret.

    Exit codes: 0 ok, 2 a bad URL or an unknown event type.
    """
    from iotbill.services.webhooks import add_endpoint, endpoint_json

    current = session()
    wanted = [name.strip() for given in events for name in given.split(",") if name.strip()]
    endpoint = add_endpoint(current.uow(), url, wanted, at=current.now())
    current.emit(
        {**endpoint_json(endpoint), "secret": endpoint.secret},
        f"added webhook endpoint {endpoint.id}: {endpoint.url}\n"
        f"  events: {', '.join(sorted(endpoint.events))}\n"
        f"  signing secret: {endpoint.secret}",
    )


@webhooks_app.command("list")
@store_command
def list_command() -> None:
    """List the tenant's endpoints (secrets are not shown)."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.webhooks import endpoint_json, list_endpoints

    current = session()
    found = list_endpoints(current.uow())
    shown = table("Webhook endpoints", "Id", "URL", "Events", "Active")
    for endpoint in found:
        shown.add_row(
            endpoint.id, endpoint.url, ", ".join(sorted(endpoint.events)),
            "yes" if endpoint.active else "no",
        )  # fmt: skip
    current.emit([endpoint_json(endpoint) for endpoint in found], lambda: print_table(shown))


@webhooks_app.command("disable")
@_without_json
def disable_command(
    id: Annotated[str, typer.Argument(help="Endpoint id.")],
) -> None:
    """Stop sending to an endpoint: nothing new is queued for it, and nothing is sent to it."""
    from iotbill.services.webhooks import disable_endpoint

    current = session()
    endpoint = disable_endpoint(current.uow(), id, at=current.now())
    typer.echo(f"disabled webhook endpoint {endpoint.id}")


@webhooks_app.command("deliveries")
@store_command
def deliveries_command(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
) -> None:
    """List deliveries, the latest messages first (--json: with every attempt and event id)."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.webhooks import delivery_json, list_deliveries

    current = session()
    found = list_deliveries(current.uow(), status=status, limit=limit)
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
    current.emit([delivery_json(view) for view in found], lambda: print_table(shown))


@webhooks_app.command("resend")
@_without_json
def resend_command(
    delivery: Annotated[str, typer.Argument(help="Delivery id (see webhooks deliveries).")],
) -> None:
    """Send a failed (or delivered) delivery again, now, with a new deadline; same event id.

    Exit codes: 0 ok, 2 it is still pending, 3 unknown delivery.
    """
    from iotbill.services.webhooks import resend

    current = session()
    again = resend(current.uow(), delivery, at=current.now())
    typer.echo(f"delivery {again.id} is pending again (until {again.deadline.isoformat()})")


@webhooks_app.command("deliver")
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
