"""``iotbill invoices list|show|finalize|pay|void|remind|export`` and ``iotbill credit-notes
create|list|show``.

An invoice is named by its id or its number. ``invoices show --json`` prints
exactly the invoice's one JSON schema (:meth:`Invoice.as_json`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.entrypoints.cli.session import session, store_group

if TYPE_CHECKING:
    from rich.console import Console

    from iotbill.domain.invoices import CreditNote, Invoice
    from iotbill.domain.invoicing import InvoiceLine

invoices_app = store_group(help="Invoices: draft -> finalized (numbered) -> paid, or void.")
credit_notes_app = store_group(help="Credit notes: corrections of a finalized invoice.")
Reference = Annotated[str, typer.Argument(help="Invoice id or number (INV-2026-000001).")]


def register(app: typer.Typer) -> None:
    """Add the ``invoices`` and ``credit-notes`` groups to ``app``."""
    app.add_typer(invoices_app, name="invoices")
    app.add_typer(credit_notes_app, name="credit-notes")


@invoices_app.command("list")
def list_command(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only this subscription's.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="draft, finalized, paid or void.")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only finalized invoices unpaid past their due date.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="With --overdue: overdue then (default: now)."),
    ] = None,
) -> None:
    """List invoices by period (--json: a list of the invoice schema)."""
    from iotbill.entrypoints.cli.output import flag_names, period_text, print_table, table
    from iotbill.services.customers import list_customers
    from iotbill.services.invoices import list_invoices

    current = session()
    overdue_at = None
    if overdue:
        overdue_at = current.instant_or_now(as_of, "--as-of")
    with flag_names(status="--status"):
        invoices = list_invoices(
            current.uow(),
            customer=customer,
            subscription=subscription,
            status=status,
            overdue_at=overdue_at,
        )

    def print_invoices() -> None:
        zones = {c.id: c.timezone for c in list_customers(current.uow())}
        shown = table("Invoices", "Number or id", "Status", "Customer", "Period", "Total>", "Due>")
        for invoice in invoices:
            view = invoice.as_json()
            shown.add_row(
                invoice.number or invoice.id,
                invoice.status,
                invoice.customer_id,
                period_text(invoice.period, zones[invoice.customer_id]),
                f"{view['total']} {invoice.currency}",
                view["amount_due"],
            )
        print_table(shown)

    current.emit([invoice.as_json() for invoice in invoices], print_invoices)


@invoices_app.command("show")
def show_command(
    reference: Reference,
) -> None:
    """Show an invoice: its lines, totals and credit notes (--json: the invoice schema with
    "issued_credit_notes", the credit notes themselves). Exit code 3 if unknown."""
    from iotbill.services.customers import get_customer
    from iotbill.services.invoices import get_invoice, list_credit_notes

    current = session()
    invoice = get_invoice(current.uow(), reference)
    notes = list_credit_notes(current.uow(), invoice.id)
    current.emit(
        invoice.as_json() | {"issued_credit_notes": [n.as_json() for n in notes]},
        lambda: print_invoice(
            invoice, get_customer(current.uow(), invoice.customer_id).timezone, notes
        ),
    )


@invoices_app.command("finalize")
def finalize_command(
    reference: Reference,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Finalized at (default: now), a time with an offset: not before the"
            " latest finalization of its number series.",
        ),
    ] = None,
) -> None:
    """Finalize a draft, before its grace period ends: it gets the next number.

    Exit codes: 0 ok, 2 --at before the series' latest finalization or in the
    future, 3 unknown invoice, 4 not a draft.
    """
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.invoices import finalize_invoice

    current = session()
    now = current.now()
    instant = now if at is None else parse_instant(at, "--at")
    with flag_names(at="--at"):
        invoice = finalize_invoice(current.uow(), reference, at=instant, now=now)
    current.emit(invoice.as_json(), f"finalized invoice {invoice.id} as {invoice.number}")


@invoices_app.command("pay")
def pay_command(
    reference: Reference,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Paid at (default: now): a date (the customer's midnight) or a time with offset.",
        ),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="A partial payment, e.g. 40.00 (default: all that is due)."),
    ] = None,
) -> None:
    """Record a payment of a finalized invoice; it is paid once nothing is due.

    Exit codes: 0 ok, 2 invalid input (e.g. more than is due), 3 unknown invoice,
    4 not finalized.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.invoices import pay_invoice

    current = session()
    paid_at = current.now() if at is None else parse_date_or_instant(at, "--at")
    with flag_names(at="--at", amount="--amount"):
        invoice = pay_invoice(current.uow(), reference, at=paid_at, amount=amount)
    view = invoice.as_json()
    current.emit(
        view,
        f"invoice {invoice.number} is paid"
        if invoice.status == "paid"
        else f"payment recorded on {invoice.number}; {view['amount_due']} {invoice.currency}"
        " left due",
    )


@invoices_app.command("remind")
def remind_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Record what is due by then (default: now).")
    ] = None,
    schedule: Annotated[
        str,
        typer.Option("--schedule", help="Reminder days after the due date, e.g. 3,10,30."),
    ] = "3,10,30",
) -> None:
    """Record overdue notices and dunning reminders, each once per invoice.

    An unpaid invoice gets an 'overdue' notice the day after its due date and a
    'reminder+N' notice N days after it, for each N of --schedule. Exit codes:
    0 ok, 2 invalid input.
    """
    from iotbill.domain.errors import InvalidInput
    from iotbill.entrypoints.cli.output import counted
    from iotbill.services.invoices import record_notices

    current = session()
    at = current.instant_or_now(as_of, "--as-of")
    parts = [part.strip() for part in schedule.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise InvalidInput.at("--schedule", f"must be whole days separated by commas: {schedule!r}")
    notices = record_notices(current.uow(), at=at, schedule=[int(part) for part in parts])
    current.emit(
        [
            {"invoice": n.invoice_id, "kind": n.kind, "due_on": n.due_on.isoformat()}
            for n in notices
        ],
        "\n".join(
            [
                *(f"{n.kind}: {n.invoice_id} (due {n.due_on.isoformat()})" for n in notices),
                f"{counted(len(notices), 'notice')} recorded",
            ]
        ),
    )


@invoices_app.command("void")
def void_command(
    reference: Reference,
) -> None:
    """Void a draft or finalized invoice (a paid one takes a credit note).

    Exit codes: 0 ok, 3 unknown invoice, 4 paid or void already.
    """
    from iotbill.services.invoices import void_invoice

    current = session()
    invoice = void_invoice(current.uow(), reference, at=current.now())
    current.emit(invoice.as_json(), f"invoice {invoice.number or invoice.id} is void")


@credit_notes_app.command("create")
def create_credit_note_command(
    reference: Reference,
    reason: Annotated[str, typer.Option("--reason", help="Why the invoice is credited.")],
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Amount before tax, e.g. 10.00; tax is added at its rate."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Credit all that is left.")] = False,
    description: Annotated[
        str | None, typer.Option("--description", help="The credit line's text.")
    ] = None,
) -> None:
    """Credit part (--amount) or all (--full) of a finalized or paid invoice.

    The credit note is numbered CN-YEAR-NNNNNN and lowers the invoice's amount
    due. Exit codes: 0 ok, 2 invalid input, 3 unknown invoice, 4 not finalized
    or nothing left to credit.
    """
    from iotbill.domain.errors import InvalidInput
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.invoices import create_credit_note

    current = session()
    if full == (amount is not None):
        raise InvalidInput.at("--amount", "give --amount or --full (one of them)")
    with flag_names(amount="--amount", reason="--reason"):
        note, invoice = create_credit_note(
            current.uow(),
            reference,
            reason=reason,
            amount=amount,
            description=description,
            at=current.now(),
        )
    view = note.as_json()
    current.emit(
        view,
        f"credit note {note.number}: {view['total']} {note.currency} credited on"
        f" {invoice.number}; {invoice.as_json()['amount_due']} {invoice.currency} left due",
    )


@credit_notes_app.command("list")
def list_credit_notes_command(
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="Only this invoice's (id or number).")
    ] = None,
) -> None:
    """List credit notes by issue time (--json: a list of the credit note schema). Exit
    code 3 for an unknown --invoice."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.invoices import list_credit_notes

    current = session()
    notes = list_credit_notes(current.uow(), invoice)
    shown = table("Credit notes", "Number", "Invoice", "Issued (UTC)", "Reason", "Total>")
    for note in notes:
        view = note.as_json()
        shown.add_row(
            note.number,
            note.invoice_id,
            note.issued_at.strftime("%Y-%m-%d %H:%M"),
            note.reason,
            f"{view['total']} {note.currency}",
        )
    current.emit([note.as_json() for note in notes], lambda: print_table(shown))


@credit_notes_app.command("show")
def show_credit_note_command(
    number: Annotated[str, typer.Argument(help="Credit note number (CN-2026-000001).")],
) -> None:
    """Show a credit note: its lines, tax and total. Exit code 3 if unknown."""
    from iotbill.entrypoints.cli.output import bold, print_table, table
    from iotbill.services.invoices import get_credit_note

    current = session()
    note = get_credit_note(current.uow(), number)
    view = note.as_json()

    def print_note() -> None:
        shown = table(
            f"Credit note {note.number} on {note.invoice_id}: {note.reason}",
            "Line",
            f"Amount ({note.currency.code})>",
            key_first=False,
        )
        for line in view["lines"]:
            shown.add_row(line["description"], f"-{line['amount']}")
        shown.add_section()
        shown.add_row("Subtotal", f"-{view['subtotal']}")
        shown.add_row(f"Tax ({view['tax']['rate']} %)", f"-{view['tax']['amount']}")
        shown.add_row(bold("Total credited"), bold(f"-{view['total']}"))
        print_table(shown)
        typer.echo(f"Issued {note.issued_at.isoformat()}")

    current.emit(view, print_note)


EXPORT_COLUMNS = (
    "number",
    "invoice_id",
    "status",
    "customer",
    "subscription",
    "currency",
    "period_start",
    "period_end",
    "issued_at",
    "finalized_at",
    "line",
    "kind",
    "charge",
    "description",
    "group",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
)


@invoices_app.command("export")
def export_command(
    start: Annotated[
        str, typer.Option("--from", help="Finalized from: a date (UTC midnight) or a time.")
    ],
    end: Annotated[str, typer.Option("--to", help="Finalized before (exclusive).")],
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone for the dates (default UTC).")
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV, one row per invoice line (the default).")
    ] = False,
) -> None:
    """Export the invoices finalized in [from, to), one CSV row per invoice line, for
    accounting: by invoice number, then line order (--json: a list of the invoice schema).

    Voided or paid since, they are exported with their status now. Exit code 2
    for a bad --from, --to or --timezone.
    """
    import csv
    import sys

    from iotbill.domain.errors import InvalidInput
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.cli.progress import progress_bar
    from iotbill.services.invoices import finalized_invoices

    current = session()
    if as_csv and current.as_json:
        raise InvalidInput.at("--json", "give --csv or --json, not both")
    with flag_names(to="--to", **{"from": "--from"}):
        invoices = finalized_invoices(
            current.uow(),
            start=parse_instant(start, "--from", timezone),
            end=parse_instant(end, "--to", timezone),
        )

    def write_csv() -> None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        with progress_bar("exporting invoices", len(invoices)) as advance:
            for done, invoice in enumerate(invoices, start=1):
                writer.writerows(_export_rows(invoice.as_json()))
                advance(done)

    current.emit([invoice.as_json() for invoice in invoices], write_csv)


def _export_rows(view: dict[str, Any]) -> list[list[object]]:
    """An invoice's CSV rows for ``invoices export``: one per line, in :data:`EXPORT_COLUMNS`."""
    return [
        [
            view["number"],
            view["id"],
            view["status"],
            view["customer"],
            view["subscription"] or "",
            view["currency"],
            view["period"]["start"],
            view["period"]["end"],
            view["issued_at"],
            view["finalized_at"],
            position,
            line["kind"],
            line["charge"],
            line["description"],
            line["group"] or "",
            line["quantity"],
            line["unit_price"] or "",
            line["amount"],
            view["tax"]["rate"],
        ]
        for position, line in enumerate(view["lines"], start=1)
    ]


def print_invoice(
    invoice: Invoice,
    timezone: str,
    notes: list[CreditNote],
    *,
    upcoming: bool = False,
    console: Console | None = None,
) -> None:
    """Print an invoice as a table, each line followed by the steps of its arithmetic
    (tiers, rates, packages), exact and trimmed; ``upcoming``: one priced but not stored."""

    from iotbill.domain.money import format_money
    from iotbill.entrypoints.cli.output import bold, period_text, print_table, table, zoned_text

    view = invoice.as_json()
    code = invoice.currency.code
    state = "upcoming, not stored" if upcoming else invoice.status
    title = (
        f"Invoice {invoice.number or invoice.id} ({state}), {invoice.customer_id}, "
        f"{period_text(invoice.period, timezone)}"
    )
    shown = table(title, "Line", "Quantity>", "Unit price>", f"Amount ({code})>", key_first=False)
    for line in invoice.lines:
        line_view = line.as_json(invoice.currency)
        shown.add_row(
            line.description,
            line_view["quantity"],
            line_view["unit_price"] or "",
            line_view["amount"],
        )
        for step in _steps(line):
            shown.add_row(f"  {step}", "", "", "")
    shown.add_section()
    shown.add_row("Subtotal", "", "", view["subtotal"])
    shown.add_row(f"Tax ({view['tax']['rate']} %)", "", "", view["tax"]["amount"])
    shown.add_row(bold("Total"), "", "", bold(view["total"]))
    for label, key in (
        ("Credit notes", "credit_notes"),
        ("Balance applied", "balance_applied"),
        ("Payments", "payments"),
    ):
        if view[key] != format_money(Decimal(0), invoice.currency):
            shown.add_row(label, "", "", f"-{view[key]}")
    shown.add_row(bold("Amount due"), "", "", bold(view["amount_due"]))
    print_table(shown, console)
    say = typer.echo if console is None else console.print
    if upcoming:
        say(
            "Priced with the events stored so far, as if the period closed now; "
            f"the bill run issues it at {zoned_text(invoice.issued_at, timezone)}"
        )
        return
    say(f"Issued {zoned_text(invoice.issued_at, timezone)}")
    if invoice.finalized_at is not None:
        say(f"Finalized {zoned_text(invoice.finalized_at, timezone)}")
    if invoice.due_on is not None:
        say(f"Due {invoice.due_on.isoformat()}")
    if invoice.paid_at is not None:
        say(f"Paid {zoned_text(invoice.paid_at, timezone)}")
    if invoice.voided_at is not None:
        say(f"Void since {zoned_text(invoice.voided_at, timezone)}")
    if invoice.status == "draft":
        say(f"Draft until {zoned_text(invoice.grace_until, timezone)}, the end of its grace")
    for note in notes:
        note_view = note.as_json()
        say(f"Credit note {note.number}: -{note_view['total']} {code} ({note.reason})")


def _steps(line: InvoiceLine) -> list[str]:
    """The steps of a usage line's arithmetic, in words, exact and trimmed: ``tier 2 (from
    1000): 3662.813 x 0.30 = 1098.8439``. None for a line of one step without units (a
    fee)."""
    from iotbill.entrypoints.cli.output import trimmed

    steps = []
    for detail in line.detail:
        if detail.units is None:
            continue
        if detail.tier is not None:
            upper = "" if detail.up_to is None else f" to {trimmed(detail.up_to)}"
            head = f"tier {detail.tier} (from {trimmed(detail.lower or Decimal(0))}{upper}): "
        else:
            head = ""
        if detail.rate is not None:
            arithmetic = f"{trimmed(detail.rate)} % of {trimmed(detail.units)}"
        elif detail.unit_price is not None:
            arithmetic = f"{trimmed(detail.units)} x {trimmed(detail.unit_price)}"
        else:
            arithmetic = f"{trimmed(detail.units)} units"
        if detail.flat_fee:
            arithmetic += f" + {trimmed(detail.flat_fee)}"
        note = f" ({detail.note})" if detail.note else ""
        steps.append(f"{head}{arithmetic} = {trimmed(detail.amount)}{note}")
    return steps
