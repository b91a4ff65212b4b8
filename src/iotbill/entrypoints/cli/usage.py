"""``iotbill usage``: a customer's (or a device's) stored usage per meter and bucket."""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.errors import report_errors
from iotbill.entrypoints.cli.storage import JsonOption
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_store,
)

if TYPE_CHECKING:
    from iotbill.services.usage import UsageReport

WHEN_HELP = "A date (local midnight in the customer's zone) or a time with an offset."
CSV_COLUMNS = ("meter", "start", "end", "group", "quantity")


def register(app: typer.Typer) -> None:
    """Add the ``usage`` command to ``app``."""
    app.command("usage")(usage_command)


@report_errors
def usage_command(
    customer: Annotated[str, typer.Option("--customer", help="Whose usage.")],
    start: Annotated[str, typer.Option("--from", help=f"From. {WHEN_HELP}")],
    end: Annotated[str, typer.Option("--to", help=f"To (exclusive). {WHEN_HELP}")],
    device: Annotated[
        str | None, typer.Option("--device", help="Only this device's events.")
    ] = None,
    meter: Annotated[str | None, typer.Option("--meter", help="Only this meter.")] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Buckets: hour, day or month, in the customer's zone."),
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV: meter,start,end,group,quantity.")
    ] = False,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stored usage per meter and bucket: the quantities a bill run would meter.

    The meters are those of the customer's plans. Exit codes: 0 ok, 2 invalid
    input (an unknown customer, device or meter; --to not after --from).
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names, print_json
    from iotbill.services.usage import usage

    with flag_names(
        customer="--customer",
        device="--device",
        meter="--meter",
        by="--by",
        to="--to",
        **{"from": "--from"},
    ):
        report = usage(
            open_store(database)(tenant),
            customer=customer,
            device=device,
            meter=meter,
            start=parse_date_or_instant(start, "--from"),
            end=parse_date_or_instant(end, "--to"),
            by=by,
        )
    if as_json:
        print_json(report.as_json())
    elif as_csv:
        _print_csv(report)
    else:
        _print_table(report)


def _print_csv(report: UsageReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        view = row.as_json()
        writer.writerow(
            [view[column] if view[column] is not None else "" for column in CSV_COLUMNS]
        )


def _print_table(report: UsageReport) -> None:
    from iotbill.entrypoints.cli.output import local_text, print_table, table

    timezone = report.customer.timezone
    scope = (
        report.customer.id if report.device is None else f"{report.customer.id}, {report.device}"
    )
    title = (
        f"Usage of {scope}, {local_text(report.period.start, timezone)} to "
        f"{local_text(report.period.end, timezone)} ({timezone})"
    )
    shown = table(title, "Meter", "From", "To", "Group", "Quantity>")
    for row in report.rows:
        shown.add_row(
            row.meter,
            local_text(row.bucket.start, timezone),
            local_text(row.bucket.end, timezone),
            row.group or "",
            row.as_json()["quantity"],
        )
    print_table(shown)
