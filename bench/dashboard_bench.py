"""Benchmark of the dashboard's overview: 10,000 customers and 120,000 invoices.

On PostgreSQL (the issue's target; a schema of its own, dropped after) or on a
new SQLite file (``--store sqlite``). Seeds a tenant with bulk writes, never
one call per customer: 10,000 customers, subscriptions and their phases (by
``COPY`` on PostgreSQL), then a year of monthly invoices each (2025, two
lines: the plan's fee and its usage) through the invoice repository's
``add_many``, 10,000 at a time. Two plans of two business models in two
currencies (USD outcome-based, EUR asset-sharing); the year's invoices are paid
but for December's (due) and November's for one customer in ten (overdue), one
invoice in a hundred is void, and one in fifty is credited 5.00 by a credit note.

Then times, best of three each, in the same run on the same database:

* the overview, :func:`iotbill.services.analytics.overview`, exactly what
  ``/app`` and ``GET /v1/analytics/overview`` run;
* the floor: the bare SQL queries the overview needs (each statement it sends,
  recorded as it runs), replayed on the driver's cursor, rows fetched and
  nothing built: the revenue and standing sums and the plan version of each
  subscription in service (plan versions already read are not read again);
* for scale, the queries the overview needed before the stores summed for it
  (every invoice's totals and state, the credit notes and their lines, the
  subscriptions, plans and customers), likewise bare.

Prints the overview and the ratio to its floor beside the target: within 3x.
Run: ``python bench/dashboard_bench.py [--store postgresql|sqlite] [--customers N]
[--months M] [--postgres URL]``. Asserts nothing about time; says so and stops
when PostgreSQL is unreachable.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, select, text

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.lines import copy_rows
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.catalog import Plan
from iotbill.domain.invoices import (
    CreditNote,
    DocumentKind,
    Invoice,
    credit_line,
    issue_credit_note,
)
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.periods import Period
from iotbill.services.analytics import overview
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from postgres_schema import postgres_schema

TENANT = Tenant("bench", "Bench IoT Co.")
YEAR = 2025
AT = datetime(YEAR + 1, 1, 10, tzinfo=UTC)
PLANS = {
    "USD": """\
code: pump
model: outcome_based
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges: [{code: water, meter: water, model: per_unit, unit_price: "0.50"}]
""",
    "EUR": """\
code: battery
model: asset_sharing
name: Battery
currency: EUR
interval: month
fixed_fees: [{code: base, amount: "49.00"}]
meters: [{code: energy, event_type: grid.export, aggregation: sum, property: kwh}]
charges: [{code: energy, meter: energy, model: per_unit, unit_price: "0.12"}]
""",
}
FORMER = [
    "SELECT id, customer_id, subscription_id, currency, period_start, status, finalized_at, "
    "subtotal_minor, total_minor, credits, payments, balance_applied "
    "FROM invoices WHERE tenant_id = :tenant",
    "SELECT * FROM credit_notes WHERE tenant_id = :tenant ORDER BY issued_at, id",
    "SELECT * FROM credit_note_lines WHERE tenant_id = :tenant AND credit_note_id IN "
    "(SELECT id FROM credit_notes WHERE tenant_id = :tenant) "
    "ORDER BY credit_note_id, position",
    "SELECT * FROM subscriptions WHERE tenant_id = :tenant ORDER BY id",
    "SELECT * FROM subscription_phases WHERE tenant_id = :tenant ORDER BY subscription_id, start",
    "SELECT * FROM plans WHERE tenant_id = :tenant",
    "SELECT * FROM customers WHERE tenant_id = :tenant ORDER BY id",
]
"""The queries the overview sent before the stores summed for it: every invoice's row."""


def micros(instant: datetime) -> int:
    return int((instant - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def month(number: int) -> Period:
    """Month ``number`` (0 is January) of the year, in UTC."""
    start = datetime(YEAR + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    following = number + 1
    return Period(start, datetime(YEAR + following // 12, following % 12 + 1, 1, tzinfo=UTC))


def _insert_rows(connection: Any, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    connection.execute(insert(table), list(rows))


def seed_customers(engine: Engine, customers: int) -> int:
    """Customers, subscriptions and phases by COPY; the tenant's id."""
    with engine.begin() as connection:
        tenant_id = connection.execute(
            select(t.tenants.c.id).where(t.tenants.c.code == TENANT.code)
        ).scalar_one()
        codes = list(PLANS)
        start = micros(month(0).start)
        rows = [(f"c{n:05d}", codes[n % len(codes)]) for n in range(customers)]
        write = copy_rows if connection.dialect.name == "postgresql" else _insert_rows
        write(
            connection,
            t.customers,
            [
                {
                    "tenant_id": tenant_id,
                    "id": customer,
                    "name": f"Customer {customer}",
                    "currency": code,
                    "timezone": "UTC",
                    "billing_address": "",
                    "tax_rate": Decimal(10),
                    "net_terms": 30,
                    "locale": "en",
                }
                for customer, code in rows
            ],
        )
        write(
            connection,
            t.subscriptions,
            [
                {
                    "tenant_id": tenant_id,
                    "id": f"s{customer}",
                    "customer_id": customer,
                    "interval": "month",
                    "billing_mode": "calendar",
                    "start": start,
                }
                for customer, _ in rows
            ],
        )
        write(
            connection,
            t.subscription_phases,
            [
                {
                    "tenant_id": tenant_id,
                    "subscription_id": f"s{customer}",
                    "start": start,
                    "plan_code": "pump" if code == "USD" else "battery",
                    "plan_version": 1,
                }
                for customer, code in rows
            ],
        )
    return int(tenant_id)


def invoice(
    number: int, customer: int, plan: Plan, period_number: int
) -> tuple[Invoice, CreditNote | None]:
    """The month's invoice of customer ``customer``, paid, due, overdue or void, and the
    credit note of 5.00 issued against one in fifty."""
    period = month(period_number)
    money = plan.currency
    usage = Decimal(100 + (customer * 7 + period_number * 13) % 900)
    (charge,) = plan.charges
    unit_price = Decimal("0.50") if money.code == "USD" else Decimal("0.12")
    (fee,) = plan.fixed_fees
    lines = (
        InvoiceLine.rounded(
            money,
            charge="base",
            kind="fixed_fee",
            description="Base fee",
            quantity=Decimal(1),
            unit_price=fee.amount,
            exact_amount=fee.amount,
        ),
        InvoiceLine.rounded(
            money,
            charge=charge.code,
            kind="usage",
            description=charge.code,
            quantity=usage,
            unit_price=unit_price,
            exact_amount=usage * unit_price,
        ),
    )
    issued = period.end + timedelta(hours=1)
    draft = Invoice(
        id=f"s-c{customer:05d}/close/{period.start.date().isoformat()}",
        customer_id=f"c{customer:05d}",
        subscription_id=f"sc{customer:05d}",
        currency=money,
        period=period,
        lines=lines,
        tax_rate=Decimal(10),
        issued_at=issued,
        grace_until=issued,
        kind=DocumentKind.CLOSE,
    )
    finalized = draft.finalize(
        number=f"INV-{YEAR}-{number:07d}",
        at=issued,
        due_on=(issued + timedelta(days=30)).date(),
    )
    if number % 100 == 7:
        return finalized.void(at=issued + timedelta(days=1)), None
    note = None
    if number % 50 == 3:
        note, finalized = issue_credit_note(
            finalized,
            id=f"CN-{YEAR}-{number:07d}",
            number=f"CN-{YEAR}-{number:07d}",
            lines=[credit_line(money, amount=Decimal("5.00"), description="Goodwill")],
            reason="meter fault",
            issued_at=issued + timedelta(days=2),
        )
    due = period_number == 11 or (period_number == 10 and customer % 5 == 0)
    if due:
        return finalized, note
    return finalized.pay(at=issued + timedelta(days=5)), note


def seed_invoices(open_uow: UnitOfWorkFactory, customers: int, months: int) -> tuple[int, int]:
    """The invoices and credit notes; how many of each."""
    plans = {}
    with open_uow(TENANT.code, read_only=True) as uow:
        for stored in uow.plans.latest():
            plans[stored.plan.currency.code] = stored.plan
    codes = list(PLANS)
    written, credited = 0, 0
    batch: list[Invoice] = []
    notes: list[CreditNote] = []
    for customer in range(customers):
        plan = plans[codes[customer % len(codes)]]
        for period_number in range(months):
            written += 1
            made, note = invoice(written, customer, plan, period_number)
            batch.append(made)
            notes.extend([] if note is None else [note])
        if len(batch) >= 10_000 or customer == customers - 1:
            with open_uow(TENANT.code) as uow:
                uow.invoices.add_many(batch)
                for note in notes:
                    uow.credit_notes.add(note)
                uow.commit()
            credited += len(notes)
            batch, notes = [], []
    return written, credited


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def recorded(engine: Engine, work: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements and parameters that ``work`` sends to ``engine``'s database."""
    statements: list[tuple[str, Any]] = []

    def seen(connection: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return statements


def replay(engine: Engine, statements: list[tuple[str, Any]]) -> None:
    """``statements`` on one of ``engine``'s driver connections, rows fetched, in one
    transaction: nothing built from them."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
        connection.rollback()
    finally:
        connection.close()


def bench(engine: Engine, customers: int, months: int) -> None:
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    began = time.perf_counter()
    with open_uow(TENANT.code) as uow:
        uow.tenants.add(TENANT)
        uow.commit()
    for code, plan_text in PLANS.items():
        with open_uow(TENANT.code) as uow:
            uow.plans.add_version(
                parse_plan_text(plan_text, f"{code}.yaml"), plan_text, month(0).start
            )
            uow.commit()
    tenant_id = seed_customers(engine, customers)
    invoices, notes = seed_invoices(open_uow, customers, months)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    store = engine.dialect.name
    print(
        f"{store}: seeded {customers:,} customers, {invoices:,} invoices and {notes:,} "
        f"credit notes in {time.perf_counter() - began:.1f} s"
    )

    figures = overview(open_uow(TENANT.code, read_only=True), AT)
    needed = recorded(engine, lambda: overview(open_uow(TENANT.code, read_only=True), AT))
    seconds = best_of(3, lambda: overview(open_uow(TENANT.code, read_only=True), AT))
    floor = best_of(3, lambda: replay(engine, needed))
    former_statements = [(query.replace(":tenant", str(tenant_id)), ()) for query in FORMER]
    former = best_of(3, lambda: replay(engine, former_statements))
    standing = ", ".join(f"{s.state} {s.count:,} {s.currency}" for s in figures.standing)
    print(f"overview: MRR {', '.join(f'{a.amount} {a.currency}' for a in figures.mrr)}; {standing}")
    print(
        f"{store} overview: {seconds:.3f} s | floor: the {len(needed)} bare statements it sends "
        f"{floor:.3f} s | ratio {seconds / floor:.1f}x (target: 3x or less)"
    )
    print(
        f"{store} for scale: the {len(FORMER)} bare queries of every invoice's row that the "
        f"overview needed before the stores summed for it: {former:.3f} s "
        f"(the overview now takes {seconds / former:.2f}x that)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "IOTBILL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    arguments = parser.parse_args()
    if arguments.store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine_for(str(Path(folder) / "bench.db"))
            try:
                bench(engine, arguments.customers, arguments.months)
            finally:
                engine.dispose()
        return
    with postgres_schema(arguments.postgres) as server:
        if server is None:
            return
        bench(server.engine, arguments.customers, arguments.months)


if __name__ == "__main__":
    main()
