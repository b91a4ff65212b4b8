"""``iotbill consent give|withdraw|list`` and ``iotbill data export|exports``.

Data monetization: a device's owner consents to its data being sold, from a
date until it withdraws; a buyer holding a data product on its plan exports
the product's k-anonymous cells over a window as CSV, JSON Lines or Parquet,
billed per record delivered on its next invoice, the owners credited their
share.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_products import Cell, DataProduct
from iotbill.entrypoints.cli.options import AT_HELP
from iotbill.entrypoints.cli.session import session, store_group

consent_app = store_group(help="Consent of devices to sell their data: give, withdraw, list.")
data_app = store_group(help="Data products: export one to a buyer, list the exports.")


def register(app: typer.Typer) -> None:
    """Add the ``consent`` and ``data`` groups to ``app``."""
    app.add_typer(consent_app, name="consent")
    app.add_typer(data_app, name="data")


@consent_app.command("give")
def give_command(
    device: Annotated[str, typer.Argument(help="The device whose data may be sold.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that a device's data may be sold from --at. Exit codes: 0 ok, 2 invalid
    input, 3 unknown device, 4 consent given already."""
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.data_products import give_consent

    current = session()
    moment = current.instant_or_now(at, "--at")
    with flag_names(at="--at"):
        _emit(give_consent(current.uow(), device, at=moment))


@consent_app.command("withdraw")
def withdraw_command(
    device: Annotated[str, typer.Argument(help="The device whose data may no longer be sold.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that a device's data may no longer be sold from --at. Exit codes: 0 ok,
    2 invalid input (--at before the consent was given), 3 unknown device, 4 no consent."""
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.data_products import withdraw_consent

    current = session()
    moment = current.instant_or_now(at, "--at")
    with flag_names(at="--at"):
        _emit(withdraw_consent(current.uow(), device, at=moment))


@consent_app.command("list")
def list_command(
    device: Annotated[str | None, typer.Option("--device", help="Only this one's.")] = None,
) -> None:
    """List the consents, by device, then when given."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.data_products import list_consents

    current = session()
    found = list_consents(current.uow(), device)

    def show() -> None:
        shown = table("Consents", "Device", "Given", "Withdrawn")
        for consent in found:
            view = consent.as_json()
            shown.add_row(consent.device_id, view["given_at"], view["withdrawn_at"] or "")
        print_table(shown)

    current.emit([consent.as_json() for consent in found], show)


@data_app.command("export")
def export_command(
    product: Annotated[str, typer.Option("--product", help="The data product's code.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer: a customer holding it.")],
    start: Annotated[str, typer.Option("--from", help="Cells from this instant (a date: UTC).")],
    end: Annotated[str, typer.Option("--to", help="Cells until this instant, excluded.")],
    output: Annotated[Path, typer.Option("--output", help="The file to write.")],
    format: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")] = "csv",
    export_id: Annotated[
        str | None,
        typer.Option("--id", help="The export's id: the same id again bills nothing more."),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Write a data product's k-anonymous cells over [--from, --to) to --output, billed per
    record on the buyer's next invoice; the same --id again writes the cells it first
    delivered. Exit codes: 0 ok, 2 invalid input (a product the buyer does not hold, a
    window off the product's buckets or ending after --at), 3 unknown buyer, 4 an --id of
    another request."""
    from iotbill.adapters.data_files import discard, publish
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.output import counted, flag_names
    from iotbill.services.data_products import export_data

    current = session()
    moment = current.instant_or_now(at, "--at")
    with flag_names(product="--product", format="--format", start="--from", end="--to", id="--id"):
        window = (parse_instant(start, "--from"), parse_instant(end, "--to"))
        try:
            result = export_data(
                current.uow(),
                product=product,
                buyer=buyer,
                start=window[0],
                end=window[1],
                format=format,
                at=moment,
                export_id=export_id,
                deliver=lambda found, cells: _write(output, format, found, cells),
            )
        except BaseException:
            discard(output)
            raise
    publish(output)
    export = result.export
    data = {
        **export.as_json(),
        "output": str(output),
        "repeated": result.repeated,
        "owners": []
        if result.allocation is None
        else [
            {"customer": owner, "credit": str(amount)} for owner, amount in result.allocation.owners
        ],
        "operator": None if result.allocation is None else str(result.allocation.operator),
    }
    again = " again (billed before)" if result.repeated else ""
    current.emit(
        data,
        f"{export.id}: {counted(len(result.tabulation.cells), 'record')} of {product} "
        f"written to {output}{again}, {counted(result.tabulation.suppressed, 'cell')} "
        f"suppressed; {export.revenue} {export.currency} billed to {buyer}",
    )


@data_app.command("exports")
def exports_command(
    buyer: Annotated[str | None, typer.Option("--buyer", help="Only this one's.")] = None,
) -> None:
    """List the data exports, oldest first."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.data_products import list_exports

    current = session()
    found = list_exports(current.uow(), buyer)

    def show() -> None:
        shown = table("Data exports", "Id", "Product", "From", "To", "Records>", "Revenue>")
        for export in found:
            view = export.as_json()
            shown.add_row(
                export.id,
                export.product,
                view["from"],
                view["to"],
                str(export.records),
                f"{view['revenue']} {export.currency}",
            )
        print_table(shown)

    current.emit([export.as_json() for export in found], show)


def _write(output: Path, format: str, product: DataProduct, cells: Sequence[Cell]) -> None:
    """Write the cells, or refuse at ``--output`` a file that cannot be written (the export
    is then not stored)."""
    from iotbill.adapters.data_files import write_cells
    from iotbill.domain.errors import InvalidInput

    try:
        write_cells(output, format, product, cells)
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInput.at("--output", f"{str(output)!r} cannot be written: {reason}") from None


def _emit(consent: Consent) -> None:
    view = consent.as_json()
    until = "until withdrawn" if consent.open else f"until {view['withdrawn_at']}"
    session().emit(view, f"{consent.device_id}: data may be sold from {view['given_at']} {until}")
