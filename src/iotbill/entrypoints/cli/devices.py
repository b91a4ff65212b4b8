"""``iotbill devices add|move|retire|list|import``: devices and who owned them when."""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.imports import AtomicOption, FormatOption
from iotbill.entrypoints.cli.session import session, store_group

devices_app = store_group(help="Devices: each belongs to one customer at a time.")
FROM_HELP = "A date (local midnight in the customer's zone) or a time with an offset."


def register(app: typer.Typer) -> None:
    """Add the ``devices`` group to ``app``."""
    app.add_typer(devices_app, name="devices")


@devices_app.command("add")
def add_command(
    id: Annotated[str, typer.Argument(help="Device id, as its events name it.")],
    customer: Annotated[str, typer.Option("--customer", help="The owner.")],
    start: Annotated[str, typer.Option("--from", help=f"Owned from. {FROM_HELP}")],
) -> None:
    """Add a device owned by a customer from a date; its events from then on are billed to it.

    Exit codes: 0 ok, 2 invalid input, 4 the device exists (use devices move).
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import device_json
    from iotbill.services.customers import add_device

    current = session()
    with flag_names(id="ID", customer="--customer", start="--from"):
        device = add_device(
            current.uow(),
            id,
            customer=customer,
            start=parse_date_or_instant(start, "--from"),
        )
    current.emit(
        device_json(device), f"added device {device.id}, owned by {device.owner} from {start}"
    )


@devices_app.command("move")
def move_command(
    id: Annotated[str, typer.Argument(help="Device id.")],
    to_customer: Annotated[str, typer.Option("--to", help="The new owner.")],
    at: Annotated[str, typer.Option("--from", help=f"Owned from. {FROM_HELP}")],
) -> None:
    """Move a device to another customer from a date (local midnight in the new owner's zone).

    Events before then stay the old owner's; events already stored from then
    on pass to the new owner, unless a finalized invoice counted them. The
    date must be after the current owner's start: a device never has two
    owners at once. Exit codes: 0 ok, 2 invalid input (nothing stored),
    3 unknown device.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import counted, flag_names
    from iotbill.entrypoints.views import device_json
    from iotbill.services.customers import move_device

    current = session()
    with flag_names(to_customer="--to", at="--from"):
        moved = move_device(
            current.uow(),
            id,
            to_customer=to_customer,
            at=parse_date_or_instant(at, "--from"),
        )
    device = moved.device
    events = f"; {counted(moved.events, 'stored event')} passed to it" if moved.events else ""
    current.emit(
        {**device_json(device), "events_moved": moved.events},
        f"moved device {device.id} to {device.owner} from {at}{events}",
    )


@devices_app.command("retire")
def retire_command(
    id: Annotated[str, typer.Argument(help="Device id.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help=f"Out of service from then (default: now). {FROM_HELP}"),
    ] = None,
) -> None:
    """Retire a device: from --at on, usage it reports is refused at ingest, with the
    reason, and it cannot move again; it stays listed, as retired.

    --at must be after its owner's start and after its last stored event. Exit codes:
    0 ok, 2 invalid --at (nothing stored), 3 unknown device, 4 retired already.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import device_json
    from iotbill.services.customers import retire_device

    current = session()
    moment = current.now() if at is None else parse_date_or_instant(at, "--at")
    with flag_names(at="--at"):
        device = retire_device(current.uow(), id, at=moment)
    assert device.retired_at is not None
    current.emit(
        device_json(device),
        f"retired device {device.id} from {device.retired_at.isoformat()};"
        " usage it reports from then on is refused",
    )


@devices_app.command("list")
def list_command(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only devices this customer ever owned.")
    ] = None,
) -> None:
    """List devices with their owners, in each owner's zone."""
    from iotbill.entrypoints.cli.output import print_table, table, zoned_text
    from iotbill.entrypoints.views import device_json
    from iotbill.services.customers import list_customers, list_devices

    current = session()
    devices = list_devices(current.uow(), customer=customer)

    def print_devices() -> None:
        zones = {c.id: c.timezone for c in list_customers(current.uow())}
        shown = table("Devices", "Id", "Owner", "Since", "Earlier owners", "Retired")
        for device in devices:
            retired = device.retired_at
            earlier = [
                f"{entry.customer_id} from {zoned_text(entry.start, zones[entry.customer_id])}"
                for entry in device.ownership[:-1]
            ]
            shown.add_row(
                device.id,
                device.owner,
                zoned_text(device.moved_at, zones[device.owner]),
                "; ".join(earlier) or "-",
                "-" if retired is None else zoned_text(retired, zones[device.owner]),
            )
        print_table(shown)

    current.emit([device_json(device) for device in devices], print_devices)


@devices_app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(help="Devices, CSV or JSON Lines (- for stdin).")],
    format: FormatOption = None,
    atomic: AtomicOption = False,
) -> None:
    """Add the devices of a file: fields id, customer, from (a date: the customer's local
    midnight; or a time with an offset).

    Every row is checked; each problem is reported with its line and field. A
    device already stored with that owner from that instant is left as it is (a
    re-run changes nothing); one stored with another owner is a conflict, never
    moved (devices move does that). Exit codes: 0 ok, 2 rows rejected, 4
    conflicts (with --atomic: then nothing is stored).
    """
    from iotbill.entrypoints.cli.imports import run_import
    from iotbill.services.imports import DEVICE_FIELDS, import_devices

    run_import(file, DEVICE_FIELDS, format, import_devices, atomic=atomic)
