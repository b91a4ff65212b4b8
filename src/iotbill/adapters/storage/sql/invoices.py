"""Invoices and credit notes in SQL: documents with their lines, numbered per series."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.analytics import (
    revenue_statement,
    revenue_sums_from,
    standing_from,
    standing_statement,
)
from iotbill.adapters.storage.sql.lines import (
    DetailTexts,
    insert_rows,
    line_from_row,
    line_rows,
)
from iotbill.adapters.storage.sql.repository import Repository, chunks, instant, micros
from iotbill.adapters.storage.sql.statistics import refresh_outgrown
from iotbill.domain.analytics import RevenueSum, Standing
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import CreditNote, DocumentKind, Invoice, InvoiceStatus, InvoiceSummary
from iotbill.domain.money import currency, from_minor_units, to_minor_units
from iotbill.domain.payments import Notice, Payment, notice_order
from iotbill.domain.periods import Period, from_micros, require_aware, to_micros
from iotbill.services.ports import Paging


class SqlInvoiceRepository(Repository):
    def add(self, invoice: Invoice) -> None:
        self._refuse_taken(t.invoices, "invoice", invoice.id)
        self._require(t.customers, "customer", id=invoice.customer_id)
        self._execute(insert(t.invoices).values(tenant_id=self._tenant_id(), **_invoice(invoice)))
        self._insert_lines(invoice)

    def save(self, invoice: Invoice) -> None:
        invoices = t.invoices
        stored = self._execute(
            select(invoices.c.status).where(self._mine(invoices), invoices.c.id == invoice.id)
        ).scalar()
        if stored is None:
            raise NotFound(f"unknown invoice {invoice.id!r}")
        self._execute(
            update(invoices)
            .where(self._mine(invoices), invoices.c.id == invoice.id)
            .values(**_invoice(invoice))
        )
        if stored == "draft":  # a finalized invoice's lines never change
            lines = t.invoice_lines
            self._execute(delete(lines).where(self._mine(lines), lines.c.invoice_id == invoice.id))
            self._insert_lines(invoice)

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        customers = {invoice.customer_id for invoice in invoices}
        missing = sorted(customers - self._ids(t.customers, t.customers.c.id, customers))
        if missing:
            raise NotFound(f"unknown customer {missing[0]!r}")
        tenant_id = self._tenant_id()
        connection = self._connection()
        refresh_outgrown(connection, [t.customers], len(customers))
        rows = [{"tenant_id": tenant_id, **_invoice(invoice)} for invoice in invoices]
        try:
            insert_rows(connection, t.invoices, rows)  # one statement, not one per invoice
        except (IntegrityError, connection.dialect.loaded_dbapi.IntegrityError) as error:
            raise Conflict(
                f"an invoice id or number among the {len(invoices)} invoices from"
                f" {invoices[0].id!r} is already taken"
            ) from error
        refresh_outgrown(self._connection(), [t.invoices], len(invoices))
        self._insert_many_lines(invoices)

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        invoices_table, lines = t.invoices, t.invoice_lines
        stored: dict[str, Any] = {}
        for chunk in chunks(invoice.id for invoice in invoices):
            statement = (
                select(invoices_table.c.id, invoices_table.c.status, invoices_table.c.number)
                .where(self._mine(invoices_table), self._among(invoices_table.c.id, chunk))
                .with_for_update()
            )
            stored.update((row.id, row) for row in self._execute(statement))
        for invoice in invoices:
            row = stored.get(invoice.id)
            if row is None:
                raise NotFound(f"unknown invoice {invoice.id!r}")
            if row.status != "draft":
                raise Conflict(f"invoice {row.number or row.id} is {row.status}, not a draft")
        changes = []
        for invoice in invoices:
            columns = _invoice(invoice)
            key = {"key_tenant": self._tenant_id(), "key_id": columns.pop("id")}
            changes.append({**key, **columns})
        self._execute(
            update(invoices_table).where(
                invoices_table.c.tenant_id == bindparam("key_tenant"),
                invoices_table.c.id == bindparam("key_id"),
            ),
            changes,
        )
        for chunk in chunks(invoice.id for invoice in invoices):
            self._execute(
                delete(lines).where(self._mine(lines), self._among(lines.c.invoice_id, chunk))
            )
        self._insert_many_lines(invoices)

    def _insert_lines(self, invoice: Invoice) -> None:
        self._insert_many_lines([invoice])

    def hold(self) -> None:
        """On PostgreSQL, the tenant's bill-run lock until the transaction ends, so two
        bill runs take turns, a batch at a time. SQLite runs one writer at a time."""
        connection = self._connection()
        if connection.dialect.name == "postgresql":
            key = f"iotbill bill runs of tenant {self._tenant_id()}"
            self._execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )

    def _insert_many_lines(self, invoices: Sequence[Invoice]) -> None:
        tenant_id = self._tenant_id()
        texts = DetailTexts()
        rows = [
            row
            for invoice in invoices
            for row in line_rows(
                tenant_id, "invoice_id", invoice.id, invoice.lines, invoice.currency, texts
            )
        ]
        if not rows:
            return
        insert_rows(self._connection(), t.invoice_lines, rows)

    def _ids(self, table: Table, column: Any, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that ``column`` of the tenant's rows of ``table`` holds."""
        found: set[str] = set()
        for chunk in chunks(ids):
            statement = select(column).where(self._mine(table), self._among(column, chunk))
            found.update(self._execute(statement).scalars())
        return found

    def get(self, id: str) -> Invoice:
        found = self._load(t.invoices.c.id == id)
        if not found:
            raise NotFound(f"unknown invoice {id!r}")
        return found[0]

    def get_by_number(self, number: str) -> Invoice:
        found = self._load(t.invoices.c.number == number)
        if not found:
            raise NotFound(f"no invoice is numbered {number!r}")
        return found[0]

    def find(self, ids: Sequence[str]) -> dict[str, Invoice]:
        return {
            invoice.id: invoice
            for chunk in chunks(ids)
            for invoice in self._load(self._among(t.invoices.c.id, chunk))
        }

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        invoices = t.invoices
        found: list[InvoiceSummary] = []
        for chunk in chunks(subscriptions):
            statement = select(
                invoices.c.id,
                invoices.c.kind,
                invoices.c.subscription_id,
                invoices.c.status,
                invoices.c.period_start,
                invoices.c.period_end,
                invoices.c.issued_at,
                invoices.c.grace_until,
                invoices.c.number,
                invoices.c.finalized_at,
                invoices.c.currency,
                invoices.c.subtotal_minor,
            ).where(self._mine(invoices), self._among(invoices.c.subscription_id, chunk))
            found.extend(
                InvoiceSummary(
                    id=row.id,
                    kind=DocumentKind(row.kind),
                    subscription_id=row.subscription_id,
                    status=cast(InvoiceStatus, row.status),
                    period=Period(from_micros(row.period_start), from_micros(row.period_end)),
                    issued_at=from_micros(row.issued_at),
                    grace_until=from_micros(row.grace_until),
                    number=row.number,
                    finalized_at=instant(row.finalized_at),
                    subtotal=from_minor_units(row.subtotal_minor, currency(row.currency)),
                )
                for row in self._execute(statement)
            )
        return sorted(found, key=lambda summary: (summary.period.start, summary.id))

    def revenue_sums(self) -> builtins.list[RevenueSum]:
        return revenue_sums_from(self._execute(revenue_statement(self._tenant_id())))

    def standing(self, at: datetime) -> builtins.list[Standing]:
        statement = standing_statement(self._tenant_id(), require_aware(at, "at"))
        return standing_from(self._execute(statement))

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
        paging: Paging[tuple[datetime, str]] | None = None,
    ) -> list[Invoice]:
        invoices = t.invoices
        conditions = [
            column == value
            for column, value in (
                (invoices.c.customer_id, customer),
                (invoices.c.subscription_id, subscription),
                (invoices.c.status, status),
            )
            if value is not None
        ]
        if paging is None:
            return self._load(and_(True, *conditions))
        after = None
        if paging.after is not None:
            start, id = paging.after
            after = (to_micros(start), id)
        return self._load(and_(True, *conditions), Paging(after, paging.limit))

    def finalized_between(self, start: datetime, end: datetime) -> builtins.list[Invoice]:
        invoices = t.invoices
        found = self._load(
            and_(invoices.c.finalized_at >= micros(start), invoices.c.finalized_at < micros(end))
        )
        return sorted(found, key=lambda invoice: invoice.number or "")

    def latest_finalization(self, series: str) -> datetime | None:
        invoices = t.invoices
        statement = select(func.max(invoices.c.finalized_at)).where(
            self._mine(invoices), invoices.c.number.like(f"{series}-%")
        )
        return instant(self._execute(statement).scalar())

    def _load(
        self, condition: Any, paging: Paging[tuple[int, str]] | None = None
    ) -> builtins.list[Invoice]:
        """The invoices of ``condition`` with their lines, by period start, then id (only
        the page ``paging`` asks for: the period start in microseconds, and the id)."""
        invoices, lines = t.invoices, t.invoice_lines
        statement = self._page(
            select(invoices).where(self._mine(invoices), condition),
            [invoices.c.period_start, invoices.c.id],
            paging,
        )
        rows = self._execute(statement).all()
        line_rows_by_invoice: dict[str, builtins.list[Any]] = {}
        if paging is None:
            chosen = select(invoices.c.id).where(self._mine(invoices), condition)
            selections = [lines.c.invoice_id.in_(chosen)]
        else:  # the page's ids (the condition's subquery would not page)
            ids = chunks(row.id for row in rows)
            selections = [self._among(lines.c.invoice_id, chunk) for chunk in ids]
        for among in selections:
            line_statement = (
                select(lines)
                .where(self._mine(lines), among)
                .order_by(lines.c.invoice_id, lines.c.position)
            )
            for line in self._execute(line_statement):
                line_rows_by_invoice.setdefault(line.invoice_id, []).append(line)
        return [_invoice_from(row, line_rows_by_invoice.get(row.id, [])) for row in rows]

    def add_payment(self, payment: Payment) -> None:
        payments = t.payments
        position = self._execute(
            select(func.count())
            .select_from(payments)
            .where(self._mine(payments), payments.c.invoice_id == payment.invoice_id)
        ).scalar_one()
        self._execute(
            insert(payments).values(
                tenant_id=self._tenant_id(),
                invoice_id=payment.invoice_id,
                position=position,
                amount=payment.amount,
                received_at=to_micros(payment.received_at),
            )
        )

    def payments(self, invoice: str) -> builtins.list[Payment]:
        payments = t.payments
        statement = (
            select(payments)
            .where(self._mine(payments), payments.c.invoice_id == invoice)
            .order_by(payments.c.position)
        )
        return [
            Payment(row.invoice_id, row.amount, from_micros(row.received_at))
            for row in self._execute(statement)
        ]

    def add_notices(self, notices: Sequence[Notice]) -> None:
        if not notices:
            return
        tenant_id = self._tenant_id()
        try:
            self._execute(
                insert(t.invoice_notices),
                [
                    {
                        "tenant_id": tenant_id,
                        "invoice_id": notice.invoice_id,
                        "kind": notice.kind,
                        "due_on": notice.due_on.isoformat(),
                        "recorded_at": to_micros(notice.recorded_at),
                    }
                    for notice in notices
                ],
            )
        except IntegrityError:
            raise Conflict("an invoice has one of these notices already") from None

    def notices(self, invoice: str | None = None) -> builtins.list[Notice]:
        notices = t.invoice_notices
        statement = select(notices).where(self._mine(notices))
        if invoice is not None:
            statement = statement.where(notices.c.invoice_id == invoice)
        rows = self._execute(statement.order_by(notices.c.recorded_at, notices.c.invoice_id))
        return sorted(
            (
                Notice(
                    row.invoice_id,
                    row.kind,
                    date.fromisoformat(row.due_on),
                    from_micros(row.recorded_at),
                )
                for row in rows
            ),
            key=notice_order,
        )

    def next_number(self, series: str) -> int:
        return self.next_numbers(series, 1)[0]

    def next_numbers(self, series: str, count: int) -> range:
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        sequences = t.number_sequences
        dialect = sqlite if self._connection().dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(sequences)
            .values(tenant_id=self._tenant_id(), series=series, last_value=count)
            .on_conflict_do_update(
                index_elements=[sequences.c.tenant_id, sequences.c.series],
                set_={"last_value": sequences.c.last_value + count},
            )
            .returning(sequences.c.last_value)
        )
        last = int(self._execute(statement).scalar_one())
        return range(last - count + 1, last + 1)


def _invoice(invoice: Invoice) -> dict[str, Any]:
    money = invoice.currency
    totals = invoice.totals
    return {
        "id": invoice.id,
        "kind": invoice.kind.value,
        "number": invoice.number,
        "status": invoice.status,
        "customer_id": invoice.customer_id,
        "subscription_id": invoice.subscription_id,
        "currency": money.code,
        "period_start": to_micros(invoice.period.start),
        "period_end": to_micros(invoice.period.end),
        "tax_rate": invoice.tax_rate,
        "subtotal_minor": to_minor_units(totals.subtotal, money),
        "tax_minor": to_minor_units(totals.tax, money),
        "total_minor": to_minor_units(totals.total, money),
        "credits": invoice.credits,
        "issued_at": to_micros(invoice.issued_at),
        "grace_until": to_micros(invoice.grace_until),
        "finalized_at": micros(invoice.finalized_at),
        "paid_at": micros(invoice.paid_at),
        "voided_at": micros(invoice.voided_at),
        "payments": invoice.payments,
        "balance_applied": invoice.balance_applied,
        "credits_minor": to_minor_units(invoice.credits, money),
        "payments_minor": to_minor_units(invoice.payments, money),
        "balance_applied_minor": to_minor_units(invoice.balance_applied, money),
        "due_on": None if invoice.due_on is None else invoice.due_on.isoformat(),
    }


def _invoice_from(row: Any, lines: list[Any]) -> Invoice:
    money = currency(row.currency)
    return Invoice(
        id=row.id,
        kind=DocumentKind(row.kind),
        customer_id=row.customer_id,
        subscription_id=row.subscription_id,
        currency=money,
        period=Period(from_micros(row.period_start), from_micros(row.period_end)),
        lines=tuple(line_from_row(line, money) for line in lines),
        tax_rate=row.tax_rate,
        issued_at=from_micros(row.issued_at),
        grace_until=from_micros(row.grace_until),
        status=cast(InvoiceStatus, row.status),
        number=row.number,
        finalized_at=instant(row.finalized_at),
        paid_at=instant(row.paid_at),
        voided_at=instant(row.voided_at),
        credits=row.credits,
        payments=row.payments,
        balance_applied=row.balance_applied,
        due_on=None if row.due_on is None else date.fromisoformat(row.due_on),
    )


class SqlCreditNoteRepository(Repository):
    def add(self, note: CreditNote) -> None:
        self._refuse_taken(t.credit_notes, "credit note", note.id)
        self._require(t.invoices, "invoice", id=note.invoice_id)
        self._execute(
            insert(t.credit_notes).values(
                tenant_id=self._tenant_id(),
                id=note.id,
                invoice_id=note.invoice_id,
                number=note.number,
                currency=note.currency.code,
                tax_rate=note.tax_rate,
                reason=note.reason,
                total_minor=to_minor_units(note.totals.total, note.currency),
                issued_at=to_micros(note.issued_at),
            )
        )
        rows = line_rows(self._tenant_id(), "credit_note_id", note.id, note.lines, note.currency)
        if rows:
            self._execute(insert(t.credit_note_lines), rows)

    def get(self, id: str) -> CreditNote:
        found = self._load(t.credit_notes.c.id == id)
        if not found:
            raise NotFound(f"unknown credit note {id!r}")
        return found[0]

    def list(self, invoice: str | None = None) -> list[CreditNote]:
        notes = t.credit_notes
        return self._load(and_(True, *([] if invoice is None else [notes.c.invoice_id == invoice])))

    def _load(self, condition: Any) -> builtins.list[CreditNote]:
        notes, lines = t.credit_notes, t.credit_note_lines
        statement = (
            select(notes)
            .where(self._mine(notes), condition)
            .order_by(notes.c.issued_at, notes.c.id)
        )
        rows = self._execute(statement).all()
        chosen = select(notes.c.id).where(self._mine(notes), condition)
        by_note: dict[str, builtins.list[Any]] = {}
        line_statement = (
            select(lines)
            .where(self._mine(lines), lines.c.credit_note_id.in_(chosen))
            .order_by(lines.c.credit_note_id, lines.c.position)
        )
        for line in self._execute(line_statement):
            by_note.setdefault(line.credit_note_id, []).append(line)
        return [
            CreditNote(
                id=row.id,
                invoice_id=row.invoice_id,
                number=row.number,
                currency=currency(row.currency),
                lines=tuple(
                    line_from_row(line, currency(row.currency)) for line in by_note.get(row.id, [])
                ),
                tax_rate=row.tax_rate,
                reason=row.reason,
                issued_at=from_micros(row.issued_at),
            )
            for row in rows
        ]
