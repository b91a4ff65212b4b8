"""The repositories of the SQL unit of work: domain values in, domain values out.

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.lines import line_from_row, line_rows
from iotbill.domain.billing_cycles import BillingMode
from iotbill.domain.catalog import Interval, Plan
from iotbill.domain.customers import Customer, Device, Ownership
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus
from iotbill.domain.money import currency, to_minor_units
from iotbill.domain.periods import Period, from_micros, to_micros
from iotbill.domain.subscriptions import Cancellation, CancelTiming, Phase, Subscription
from iotbill.services.ports import InvoiceSummary, StoredPlan, Tenant

CHUNK = 10_000  # ids per IN (...) list, well under SQLite's parameter limit


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """``values``, sorted and without repeats, in lists of at most ``CHUNK``."""
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


class _Repository:
    def __init__(self, connection: Callable[[], Connection], tenant_id: Callable[[], int]):
        self._connection = connection
        self._tenant_id = tenant_id

    def _execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._connection().execute(statement, parameters)

    def _exists(self, table: Table, **key: Any) -> bool:
        conditions = [table.c.tenant_id == self._tenant_id()]
        conditions += [table.c[name] == value for name, value in key.items()]
        found = self._execute(select(func.count()).select_from(table).where(and_(*conditions)))
        return bool(found.scalar_one())

    def _require(self, table: Table, what: str, **key: Any) -> None:
        if not self._exists(table, **key):
            raise NotFound(f"unknown {what} {' '.join(map(str, key.values()))!r}")

    def _refuse_taken(self, table: Table, what: str, id: str) -> None:
        if self._exists(table, id=id):
            raise Conflict(f"{what} {id!r} already exists")

    def _mine(self, table: Table) -> Any:
        return table.c.tenant_id == self._tenant_id()


class SqlTenantRepository:
    def __init__(self, connection: Callable[[], Connection]):
        self._connection = connection

    def add(self, tenant: Tenant) -> None:
        found = select(t.tenants.c.id).where(t.tenants.c.code == tenant.code)
        if self._connection().execute(found).first() is not None:
            raise Conflict(f"tenant {tenant.code!r} already exists")
        self._connection().execute(insert(t.tenants).values(code=tenant.code, name=tenant.name))

    def get(self, code: str) -> Tenant:
        found = select(t.tenants).where(t.tenants.c.code == code)
        row = self._connection().execute(found).first()
        if row is None:
            raise NotFound(f"unknown tenant {code!r} (iotbill tenants add {code} creates it)")
        return Tenant(row.code, row.name)

    def list(self) -> list[Tenant]:
        rows = self._connection().execute(select(t.tenants).order_by(t.tenants.c.code))
        return [Tenant(row.code, row.name) for row in rows]


class SqlPlanRepository(_Repository):
    def __init__(self, connection: Callable[[], Connection], tenant_id: Callable[[], int]):
        super().__init__(connection, tenant_id)
        self._parsed: dict[tuple[str, int], Plan] = {}

    def add_version(self, plan: Plan, document: str, created_at: datetime) -> StoredPlan:
        versions = self._stored(plan.code)
        if versions and versions[-1].plan == plan:
            return versions[-1]
        version = versions[-1].version + 1 if versions else 1
        self._execute(
            insert(t.plans).values(
                tenant_id=self._tenant_id(),
                code=plan.code,
                version=version,
                currency=plan.currency.code,
                document=document,
                created_at=to_micros(created_at),
            )
        )
        self._parsed[plan.code, version] = plan
        return StoredPlan(plan, version, document, created_at)

    def get(self, code: str, version: int | None = None) -> StoredPlan:
        versions = self.versions(code)
        if version is None:
            return versions[-1]
        for stored in versions:
            if stored.version == version:
                return stored
        raise NotFound(f"plan {code!r} has no version {version} (latest: {versions[-1].version})")

    def versions(self, code: str) -> list[StoredPlan]:
        versions = self._stored(code)
        if not versions:
            raise NotFound(f"unknown plan {code!r}")
        return versions

    def latest(self) -> list[StoredPlan]:
        newest = (
            select(t.plans.c.code, func.max(t.plans.c.version).label("version"))
            .where(self._mine(t.plans))
            .group_by(t.plans.c.code)
            .subquery()
        )
        statement = (
            select(t.plans)
            .join(
                newest, and_(t.plans.c.code == newest.c.code, t.plans.c.version == newest.c.version)
            )
            .where(self._mine(t.plans))
            .order_by(t.plans.c.code)
        )
        return [self._plan(row) for row in self._execute(statement)]

    def _stored(self, code: str) -> list[StoredPlan]:
        statement = (
            select(t.plans)
            .where(self._mine(t.plans), t.plans.c.code == code)
            .order_by(t.plans.c.version)
        )
        return [self._plan(row) for row in self._execute(statement)]

    def _plan(self, row: Any) -> StoredPlan:
        key = (row.code, row.version)
        if key not in self._parsed:
            self._parsed[key] = parse_plan_text(row.document, f"plan {row.code} v{row.version}")
        return StoredPlan(self._parsed[key], row.version, row.document, from_micros(row.created_at))


class SqlCustomerRepository(_Repository):
    def add(self, customer: Customer) -> None:
        self._refuse_taken(t.customers, "customer", customer.id)
        self._execute(
            insert(t.customers).values(
                tenant_id=self._tenant_id(),
                id=customer.id,
                name=customer.name,
                currency=customer.currency.code,
                timezone=customer.timezone,
                billing_address=customer.billing_address,
                tax_rate=customer.tax_rate,
            )
        )

    def get(self, id: str) -> Customer:
        statement = select(t.customers).where(self._mine(t.customers), t.customers.c.id == id)
        row = self._execute(statement).first()
        if row is None:
            raise NotFound(f"unknown customer {id!r}")
        return _customer(row)

    def find(self, ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        for chunk in _chunks(ids):
            statement = select(t.customers).where(
                self._mine(t.customers), t.customers.c.id.in_(chunk)
            )
            found.update((row.id, _customer(row)) for row in self._execute(statement))
        return found

    def list(self) -> list[Customer]:
        statement = select(t.customers).where(self._mine(t.customers)).order_by(t.customers.c.id)
        return [_customer(row) for row in self._execute(statement)]


def _customer(row: Any) -> Customer:
    return Customer(
        row.id, row.name, currency(row.currency), row.timezone, row.billing_address, row.tax_rate
    )


class SqlDeviceRepository(_Repository):
    def add(self, device: Device) -> None:
        self._refuse_taken(t.devices, "device", device.id)
        self._execute(insert(t.devices).values(tenant_id=self._tenant_id(), id=device.id))
        self._insert_owners(device)

    def save(self, device: Device) -> None:
        self._require(t.devices, "device", id=device.id)
        owners = t.device_owners
        self._execute(delete(owners).where(self._mine(owners), owners.c.device_id == device.id))
        self._insert_owners(device)

    def _insert_owners(self, device: Device) -> None:
        for customer_id in {entry.customer_id for entry in device.ownership}:
            self._require(t.customers, "customer", id=customer_id)
        self._execute(
            insert(t.device_owners),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "device_id": device.id,
                    "valid_from": to_micros(entry.start),
                    "customer_id": entry.customer_id,
                }
                for entry in device.ownership
            ],
        )

    def get(self, id: str) -> Device:
        found = self.find([id])
        if id not in found:
            raise NotFound(f"unknown device {id!r}")
        return found[id]

    def find(self, ids: Sequence[str]) -> dict[str, Device]:
        unique = sorted(set(ids))
        histories: dict[str, list[Ownership]] = {}
        owners = t.device_owners
        for start in range(0, len(unique), CHUNK):
            statement = select(owners).where(
                self._mine(owners), owners.c.device_id.in_(unique[start : start + CHUNK])
            )
            for row in self._execute(statement):
                ownership = Ownership(row.customer_id, from_micros(row.valid_from))
                histories.setdefault(row.device_id, []).append(ownership)
        return {
            device_id: Device(device_id, tuple(sorted(history, key=lambda entry: entry.start)))
            for device_id, history in histories.items()
        }

    def list(self, customer: str | None = None) -> list[Device]:
        owners = t.device_owners
        statement = select(owners.c.device_id).where(self._mine(owners)).distinct()
        if customer is not None:
            statement = statement.where(owners.c.customer_id == customer)
        ids = list(self._execute(statement).scalars())
        found = self.find(ids)
        return [found[device_id] for device_id in sorted(found)]


class SqlSubscriptionRepository(_Repository):
    def add(self, subscription: Subscription) -> None:
        self._refuse_taken(t.subscriptions, "subscription", subscription.id)
        self._require(t.customers, "customer", id=subscription.customer_id)
        self._execute(
            insert(t.subscriptions).values(tenant_id=self._tenant_id(), **_columns(subscription))
        )
        self._insert_phases(subscription)

    def save(self, subscription: Subscription) -> None:
        self._require(t.subscriptions, "subscription", id=subscription.id)
        subs, phases = t.subscriptions, t.subscription_phases
        self._execute(
            update(subs)
            .where(self._mine(subs), subs.c.id == subscription.id)
            .values(**_columns(subscription))
        )
        self._execute(
            delete(phases).where(self._mine(phases), phases.c.subscription_id == subscription.id)
        )
        self._insert_phases(subscription)

    def _insert_phases(self, subscription: Subscription) -> None:
        for phase in subscription.phases:
            self._require(t.plans, "plan version", code=phase.plan_code, version=phase.plan_version)
        self._execute(
            insert(t.subscription_phases),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "subscription_id": subscription.id,
                    "start": to_micros(phase.start),
                    "plan_code": phase.plan_code,
                    "plan_version": phase.plan_version,
                }
                for phase in subscription.phases
            ],
        )

    def get(self, id: str) -> Subscription:
        found = self._load(t.subscriptions.c.id == id)
        if not found:
            raise NotFound(f"unknown subscription {id!r}")
        return found[0]

    def list(self, customer: str | None = None) -> list[Subscription]:
        condition = None if customer is None else t.subscriptions.c.customer_id == customer
        return self._load(condition)

    def for_customers(self, customers: Sequence[str]) -> builtins.list[Subscription]:
        found = [
            subscription
            for chunk in _chunks(customers)
            for subscription in self._load(t.subscriptions.c.customer_id.in_(chunk))
        ]
        return sorted(found, key=lambda subscription: subscription.id)

    def _load(self, condition: Any) -> builtins.list[Subscription]:
        subs, phases = t.subscriptions, t.subscription_phases
        statement = select(subs).where(self._mine(subs)).order_by(subs.c.id)
        phase_statement = select(phases).where(self._mine(phases)).order_by(phases.c.start)
        if condition is not None:
            statement = statement.where(condition)
            chosen = select(subs.c.id).where(self._mine(subs), condition)
            phase_statement = phase_statement.where(phases.c.subscription_id.in_(chosen))
        by_subscription: dict[str, list[Phase]] = {}
        for row in self._execute(phase_statement):
            phase = Phase(row.plan_code, row.plan_version, from_micros(row.start))
            by_subscription.setdefault(row.subscription_id, []).append(phase)
        return [
            _subscription(row, tuple(by_subscription.get(row.id, ())))
            for row in self._execute(statement)
        ]


def _columns(subscription: Subscription) -> dict[str, Any]:
    cancellation = subscription.cancellation
    return {
        "id": subscription.id,
        "customer_id": subscription.customer_id,
        "device_id": subscription.device_id,
        "interval": subscription.interval,
        "billing_mode": subscription.billing_mode,
        "start": to_micros(subscription.start),
        "trial_end": _micros(subscription.trial_end),
        "cancel_timing": None if cancellation is None else cancellation.timing,
        "cancel_requested_at": None
        if cancellation is None
        else to_micros(cancellation.requested_at),
        "cancel_effective_at": None
        if cancellation is None
        else to_micros(cancellation.effective_at),
    }


def _subscription(row: Any, phases: tuple[Phase, ...]) -> Subscription:
    cancellation = None
    if row.cancel_timing is not None:
        cancellation = Cancellation(
            cast(CancelTiming, row.cancel_timing),
            from_micros(row.cancel_requested_at),
            from_micros(row.cancel_effective_at),
        )
    return Subscription(
        id=row.id,
        customer_id=row.customer_id,
        interval=cast(Interval, row.interval),
        start=from_micros(row.start),
        phases=phases,
        billing_mode=cast(BillingMode, row.billing_mode),
        device_id=row.device_id,
        trial_end=_instant(row.trial_end),
        cancellation=cancellation,
    )


def _micros(instant: datetime | None) -> int | None:
    return None if instant is None else to_micros(instant)


def _instant(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


class SqlInvoiceRepository(_Repository):
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
        try:
            self._execute(
                insert(t.invoices),
                [{"tenant_id": tenant_id, **_invoice(invoice)} for invoice in invoices],
            )
        except IntegrityError as error:
            raise Conflict(
                f"an invoice id or number among the {len(invoices)} invoices from"
                f" {invoices[0].id!r} is already taken"
            ) from error
        self._insert_many_lines(invoices)

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        invoices_table, lines = t.invoices, t.invoice_lines
        stored: dict[str, Any] = {}
        for chunk in _chunks(invoice.id for invoice in invoices):
            statement = (
                select(invoices_table.c.id, invoices_table.c.status, invoices_table.c.number)
                .where(self._mine(invoices_table), invoices_table.c.id.in_(chunk))
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
        for chunk in _chunks(invoice.id for invoice in invoices):
            self._execute(delete(lines).where(self._mine(lines), lines.c.invoice_id.in_(chunk)))
        self._insert_many_lines(invoices)

    def _insert_lines(self, invoice: Invoice) -> None:
        self._insert_many_lines([invoice])

    def _insert_many_lines(self, invoices: Sequence[Invoice]) -> None:
        tenant_id = self._tenant_id()
        rows = [
            row
            for invoice in invoices
            for row in line_rows(
                tenant_id, "invoice_id", invoice.id, invoice.lines, invoice.currency
            )
        ]
        if rows:
            self._execute(insert(t.invoice_lines), rows)

    def _ids(self, table: Table, column: Any, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that ``column`` of the tenant's rows of ``table`` holds."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            statement = select(column).where(self._mine(table), column.in_(chunk))
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
            for chunk in _chunks(ids)
            for invoice in self._load(t.invoices.c.id.in_(chunk))
        }

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        invoices = t.invoices
        found: list[InvoiceSummary] = []
        for chunk in _chunks(subscriptions):
            statement = select(
                invoices.c.id,
                invoices.c.subscription_id,
                invoices.c.status,
                invoices.c.period_start,
                invoices.c.period_end,
                invoices.c.issued_at,
                invoices.c.grace_until,
                invoices.c.number,
                invoices.c.finalized_at,
            ).where(self._mine(invoices), invoices.c.subscription_id.in_(chunk))
            found.extend(
                InvoiceSummary(
                    row.id,
                    row.subscription_id,
                    cast(InvoiceStatus, row.status),
                    Period(from_micros(row.period_start), from_micros(row.period_end)),
                    from_micros(row.issued_at),
                    from_micros(row.grace_until),
                    row.number,
                    _instant(row.finalized_at),
                )
                for row in self._execute(statement)
            )
        return sorted(found, key=lambda summary: (summary.period.start, summary.id))

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
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
        return self._load(and_(True, *conditions))

    def _load(self, condition: Any) -> builtins.list[Invoice]:
        invoices, lines = t.invoices, t.invoice_lines
        statement = (
            select(invoices)
            .where(self._mine(invoices), condition)
            .order_by(invoices.c.period_start, invoices.c.id)
        )
        rows = self._execute(statement).all()
        chosen = select(invoices.c.id).where(self._mine(invoices), condition)
        line_rows_by_invoice: dict[str, builtins.list[Any]] = {}
        line_statement = (
            select(lines)
            .where(self._mine(lines), lines.c.invoice_id.in_(chosen))
            .order_by(lines.c.invoice_id, lines.c.position)
        )
        for line in self._execute(line_statement):
            line_rows_by_invoice.setdefault(line.invoice_id, []).append(line)
        return [_invoice_from(row, line_rows_by_invoice.get(row.id, [])) for row in rows]

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
        "finalized_at": _micros(invoice.finalized_at),
        "paid_at": _micros(invoice.paid_at),
        "voided_at": _micros(invoice.voided_at),
    }


def _invoice_from(row: Any, lines: list[Any]) -> Invoice:
    money = currency(row.currency)
    return Invoice(
        id=row.id,
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
        finalized_at=_instant(row.finalized_at),
        paid_at=_instant(row.paid_at),
        voided_at=_instant(row.voided_at),
        credits=row.credits,
    )


class SqlCreditNoteRepository(_Repository):
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
