"""The ``iotbill`` command line.

One module per command group; each registers its commands (``register``), and
the root group loads a module only when one of its commands is asked for
(:data:`COMMANDS`): ``iotbill preview`` imports what pricing needs, not the whole
program, while ``iotbill --help`` loads and lists every command. A
command on the store is a :func:`~iotbill.entrypoints.cli.session.store_command`:
it takes ``--tenant``, ``--database`` and ``--json`` and works through its
:func:`~iotbill.entrypoints.cli.session.session` (units of work, clock, output).
Errors are reported in one place, the root group
(:class:`~iotbill.entrypoints.cli.errors.IotbillGroup`). Heavy libraries are
imported inside the commands that use them, so that ``iotbill --help`` stays
fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer
import typer.main

from iotbill.entrypoints.cli.errors import IotbillGroup

COMMANDS: dict[str, str] = {
    "demo": "demo",
    "preview": "preview",
    "ingest": "ingest",
    "mqtt-ingest": "devices",
    "bill-run": "billing",
    "serve": "serve",
    "usage": "usage",
    "db": "storage",
    "tenants": "storage",
    "plans": "plans",
    "customers": "customers",
    "devices": "devices",
    "mqtt": "devices",
    "subscriptions": "subscriptions",
    "invoices": "invoices",
    "credit-notes": "invoices",
    "credits": "credits",
    "charges": "charges",
    "reorders": "orders",
    "orders": "orders",
    "work-orders": "work_orders",
    "alerts": "work_orders",
    "sharing": "sharing",
    "payouts": "sharing",
    "consent": "data_products",
    "data": "data_products",
    "coupons": "coupons",
    "keys": "serve",
    "webhooks": "webhooks",
    "entitlements": "entitlements",
    "adoption": "adoption",
}
"""Each top-level command (in the order of ``iotbill --help``) and the module that
registers it: a command loads its own module, and no other."""

_loaded: dict[str, Any] = {}
"""The commands of the modules loaded so far, by name (each module is loaded once)."""


def _load(module_name: str) -> None:
    """Register the commands of one module, on an app of their own, and keep them."""
    section = typer.Typer()
    module = import_module(f"iotbill.entrypoints.cli.{module_name}")
    module.register(section)
    if module_name == "devices":  # device credentials are MQTT's: one section
        mqtt = import_module("iotbill.entrypoints.cli.mqtt")
        mqtt.register(section, module.devices_app)
    if module_name == "invoices":  # and an invoice's documents, the invoices group's
        documents = import_module("iotbill.entrypoints.cli.documents")
        documents.register(module.invoices_app, module.credit_notes_app)
    _loaded.update(typer.main.get_group(section).commands)


class _Commands(IotbillGroup):
    """The root group, loading a command's module only when the command is asked for
    (so that ``iotbill preview`` imports what pricing needs, not the whole program)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:  # unknown: every name, for the suggestion of a close one
            self.list_commands(ctx)
            return None
        if cmd_name not in _loaded:
            _load(module_name)
        self.commands[cmd_name] = _loaded[cmd_name]
        return self.commands[cmd_name]

    def list_commands(self, ctx: Any) -> list[str]:
        for name in COMMANDS:
            self.get_command(ctx, name)
        return list(COMMANDS)


app = typer.Typer(
    name="iotbill",
    cls=_Commands,
    help="Open billing for the Internet of Things.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
