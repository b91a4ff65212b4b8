"""The ``iotbill`` command line.

One module per command group; each registers itself on :data:`app` here. A
command on the store is a :func:`~iotbill.entrypoints.cli.session.store_command`:
it takes ``--tenant``, ``--database`` and ``--json`` and works through its
:func:`~iotbill.entrypoints.cli.session.session` (units of work, clock, output).
Errors are reported in one place, the root group
(:class:`~iotbill.entrypoints.cli.errors.IotbillGroup`). Heavy libraries are
imported inside the commands that use them, so that ``iotbill --help`` stays
fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli import (
    adoption,
    billing,
    charges,
    coupons,
    credits,
    customers,
    data_products,
    demo,
    devices,
    documents,
    entitlements,
    ingest,
    invoices,
    mqtt,
    orders,
    plans,
    preview,
    serve,
    sharing,
    storage,
    subscriptions,
    usage,
    webhooks,
    work_orders,
)
from iotbill.entrypoints.cli.errors import IotbillGroup

app = typer.Typer(
    name="iotbill",
    cls=IotbillGroup,
    help="Open billing for the Internet of Things.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
demo.register(app)
preview.register(app)
storage.register(app)
ingest.register(app)
plans.register(app)
customers.register(app)
devices.register(app)
mqtt.register(app, devices.devices_app)
subscriptions.register(app)
invoices.register(app)
credits.register(app)
charges.register(app)
orders.register(app)
work_orders.register(app)
sharing.register(app)
data_products.register(app)
coupons.register(app)
documents.register(invoices.invoices_app, invoices.credit_notes_app)
billing.register(app)
serve.register(app)
usage.register(app)
webhooks.register(app)
entitlements.register(app)
adoption.register(app)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"iotbill {version('iotbill')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print iotbill's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Open billing for the Internet of Things."""


def main() -> None:
    app()
