"""Migrations keep what a store holds: a store made by an earlier version upgrades in place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from iotbill.adapters.storage.sql.engine import create_engine_for, schema_is_current, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.periods import Period
from iotbill.services.ports import DEFAULT_TENANT, EventScope, Tenant
from tests.services import postgres_schema

EVENT = (
    "INSERT INTO usage_events (tenant_id, event_id, event_type, device_id, customer_id, "
    "occurred_at, received_at, properties, measures) "
    """SELECT id, 'e1', 'ping', 'd1', 'c1', 0, 0, '{}', '{}' FROM tenants"""
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine_for(str(tmp_path / "old.db"))
        yield engine
        engine.dispose()
        return
    with postgres_schema() as url:
        engine = create_engine_for(url)
        yield engine
        engine.dispose()


def test_events_stored_by_the_first_schema_survive_the_upgrade(engine: Engine) -> None:
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(EVENT)
    assert not schema_is_current(engine)

    upgrade(engine)

    assert schema_is_current(engine)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT seq, event_id FROM usage_events").all()
        assert [tuple(row) for row in rows] == [(1, "e1")]
        assert inspect(connection).get_foreign_keys("usage_events") == []
        unique = inspect(connection).get_unique_constraints("usage_events")
        assert [found["column_names"] for found in unique] == [["tenant_id", "event_id"]]
        if engine.dialect.name == "postgresql":
            collations = connection.exec_driver_sql(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'usage_events' "
                "AND collation_name IS NOT NULL ORDER BY column_name"
            ).all()
            assert [tuple(row) for row in collations] == [
                ("customer_id", "C"),
                ("event_id", "C"),
                ("event_type", "C"),
            ]


def test_invoices_stored_before_kinds_take_theirs_from_their_ids(engine: Engine) -> None:
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers (tenant_id, id, name, currency, timezone, billing_address,"
            " tax_rate) SELECT id, 'c1', 'C', 'USD', 'UTC', 'x', '0' FROM tenants"
        )
        for invoice in (
            "s1/opening",
            "s1/change/2026-01-10T00:00:00+00:00",
            "s1/close/2026-01-01T00:00:00+00:00",
            "s1/cancellation",
        ):
            connection.exec_driver_sql(
                "INSERT INTO invoices (tenant_id, id, status, customer_id, subscription_id,"
                " currency, period_start, period_end, tax_rate, subtotal_minor, tax_minor,"
                " total_minor, credits, issued_at, grace_until)"
                f" SELECT id, '{invoice}', 'draft', 'c1', 's1', 'USD', 0, 1, '0', 0, 0, 0, '0',"
                " 0, 0 FROM tenants"
            )

    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, kind FROM invoices ORDER BY id").all()
    assert [tuple(row) for row in rows] == [
        ("s1/cancellation", "cancellation"),
        ("s1/change/2026-01-10T00:00:00+00:00", "change"),
        ("s1/close/2026-01-01T00:00:00+00:00", "close"),
        ("s1/opening", "opening"),
    ]


def test_customers_stored_before_locales_read_their_documents_in_english(engine: Engine) -> None:
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO tenants (code, name) VALUES ('t', 'T')")
        connection.exec_driver_sql(
            "INSERT INTO customers (tenant_id, id, name, currency, timezone, billing_address,"
            " tax_rate) SELECT id, 'c1', 'C', 'USD', 'UTC', '', '0' FROM tenants WHERE code = 't'"
        )

    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, locale FROM customers").all()
        assert [tuple(row) for row in rows] == [("c1", "en")]


def test_events_stored_before_the_roll_up_are_rolled_up_by_the_upgrade(engine: Engine) -> None:
    upgrade(engine, "0010")
    insert = (
        "INSERT INTO usage_events (tenant_id, event_id, event_type, device_id, customer_id, "
        "occurred_at, received_at, properties, measures, replaces, is_void) "
        "SELECT id, '{}', 'reading', '{}', 'c1', {}, 0, '{{}}', '{}', {}, {} FROM tenants"
    )
    hour = 3_600_000_000
    with engine.begin() as connection:
        for row in (
            ("e1", "d1", 0, '{"kwh": 2500000000}', "NULL", "false"),  # 2.5, voided by e3
            ("e2", "d2", hour + 300_000_000, '{"kwh": 1250000000}', "NULL", "false"),  # 1.25
            ("e3", "d1", 0, "{}", "'e1'", "true"),
        ):
            connection.exec_driver_sql(insert.format(*row))

    upgrade(engine, "0032")

    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT hour, property, events, high, low FROM usage_rollups ORDER BY hour, property"
        ).all()
    assert [tuple(row) for row in rows] == [(1, "", 1, 0, 1), (1, "kwh", 1, 0, 1_250_000_000)]

    upgrade(engine)  # by days (0033): both events fall on 1 January 1970, day 0

    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT day, property, events, high, low FROM usage_rollups ORDER BY day, property"
        ).all()
    assert [tuple(row) for row in rows] == [(0, "", 1, 0, 1), (0, "kwh", 1, 0, 1_250_000_000)]
    span = Period(datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 3, tzinfo=UTC))
    with sql_unit_of_work_factory(engine)(DEFAULT_TENANT, read_only=True) as uow:
        readings = Meter("readings", "reading", "count")
        energy = Meter("energy", "reading", "sum", "kwh")
        assert uow.events.running_total(readings, span, EventScope("c1")) == 1
        assert uow.events.running_total(energy, span, EventScope("c1")) == Decimal("1.25")


def test_the_roll_up_by_days_goes_back_to_hours_on_downgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from iotbill.adapters.storage.sql.engine import _migrations

    upgrade(engine, "0032")
    day_two = 2 * 86_400_000_000 + 3_600_000_000  # 1970-01-03 01:00
    with engine.begin() as connection:
        connection.exec_driver_sql(EVENT)  # 1970-01-01 00:00
        connection.exec_driver_sql(EVENT.replace("'e1'", "'e2'").replace("0, 0,", f"{day_two}, 0,"))
        empty_name = EVENT.replace("'e1'", "'e3'").replace("0, 0,", f"{day_two}, 0,")
        connection.exec_driver_sql(  # a number under the name "": counted, never summed
            empty_name.replace("""'{}' FROM""", """'{"": 5000000000}' FROM""")
        )

    upgrade(engine)

    with engine.connect() as connection:
        days = connection.exec_driver_sql("SELECT day, events FROM usage_rollups ORDER BY day")
        assert [tuple(row) for row in days] == [(0, 1), (2, 2)]
    config = Config()
    config.set_main_option("script_location", str(_migrations()))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0032")
    with engine.connect() as connection:
        hours = connection.exec_driver_sql("SELECT hour, events FROM usage_rollups ORDER BY hour")
        assert [tuple(row) for row in hours] == [(0, 1), (49, 2)]


def test_what_settled_invoices_stored_before_is_kept_in_minor_units(engine: Engine) -> None:
    upgrade(engine, "0028")
    insert = (
        "INSERT INTO invoices (tenant_id, id, status, kind, customer_id, currency, period_start,"
        " period_end, tax_rate, subtotal_minor, tax_minor, total_minor, credits, payments,"
        " balance_applied, issued_at, grace_until)"
        " SELECT id, '{}', 'finalized', 'close', 'c1', '{}', 0, 1, '0', 0, 0, 0, '{}', '{}', '{}',"
        " 0, 0 FROM tenants"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers (tenant_id, id, name, currency, timezone, billing_address,"
            " tax_rate) SELECT id, 'c1', 'C', 'USD', 'UTC', 'x', '0' FROM tenants"
        )
        for row in (
            ("i-usd", "USD", "10.00", "5.5", "0"),  # text as an API payment wrote it
            ("i-jpy", "JPY", "0", "1200", "300"),
            ("i-kwd", "KWD", "1.235", "0.000", "0.1"),
            ("i-none", "EUR", "0", "0", "0"),
        ):
            connection.exec_driver_sql(insert.format(*row))

    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, credits_minor, payments_minor, balance_applied_minor FROM invoices"
            " ORDER BY id"
        ).all()
    assert [tuple(row) for row in rows] == [
        ("i-jpy", 0, 1200, 300),
        ("i-kwd", 1235, 0, 100),
        ("i-none", 0, 0, 0),
        ("i-usd", 1000, 550, 0),
    ]


def test_an_invoice_settled_finer_than_its_currency_stops_the_upgrade(engine: Engine) -> None:
    upgrade(engine, "0028")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers (tenant_id, id, name, currency, timezone, billing_address,"
            " tax_rate) SELECT id, 'c1', 'C', 'USD', 'UTC', 'x', '0' FROM tenants"
        )
        connection.exec_driver_sql(
            "INSERT INTO invoices (tenant_id, id, status, kind, customer_id, currency,"
            " period_start, period_end, tax_rate, subtotal_minor, tax_minor, total_minor,"
            " credits, payments, balance_applied, issued_at, grace_until)"
            " SELECT id, 'i-odd', 'finalized', 'close', 'c1', 'USD', 0, 1, '0', 0, 0, 0, '0',"
            " '1.005', '0', 0, 0 FROM tenants"
        )

    with pytest.raises(ValueError, match=r"invoice .i-odd. payments is 1\.005 USD"):
        upgrade(engine)

    assert not schema_is_current(engine)
    with engine.begin() as connection:  # nothing was written half-way: it upgrades once fixed
        connection.exec_driver_sql("UPDATE invoices SET payments = '1.00'")
    upgrade(engine)
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT payments_minor FROM invoices").scalar_one()
    assert found == 100


def test_settlements_stored_before_event_ids_are_not_settled_again(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from iotbill.adapters.plan_files import parse_plan_text
    from iotbill.adapters.storage.sql.engine import _migrations
    from iotbill.domain.customers import Customer
    from iotbill.domain.events import UsageEvent
    from iotbill.domain.subscriptions import subscribe
    from iotbill.services.sharing import register_buyer, settle_sales
    from tests.contract.conftest import device
    from tests.contract.test_sharing import SHARING_PLAN

    upgrade(engine)
    store = sql_unit_of_work_factory(engine)
    jan_1 = datetime(2026, 1, 1, tzinfo=UTC)
    with store(DEFAULT_TENANT) as uow:
        plan = parse_plan_text(SHARING_PLAN, "plan.yaml")
        uow.plans.add_version(plan, SHARING_PLAN, jan_1)
        for id in ("c2", "c3"):
            uow.customers.add(Customer.create(id=id, name=id, currency_code="EUR", timezone="UTC"))
        uow.devices.add(device("b1", "c2"))
        owner = uow.customers.get("c2")
        uow.subscriptions.add(
            subscribe(id="s1", customer=owner, plan=plan, plan_version=1, start=jan_1)
        )
        uow.commit()
    register_buyer(store(DEFAULT_TENANT), device="b1", buyer="grid", customer="c3", at=jan_1)

    def sell(id: str, day: int, kwh: str, received: datetime) -> None:
        properties = {"kwh": Decimal(kwh), "price": Decimal("0.21"), "buyer": "grid"}
        at = datetime(2026, 1, day, tzinfo=UTC)
        event = UsageEvent(id, "capacity.sold", "b1", at, properties)
        with store(DEFAULT_TENANT) as uow:
            uow.events.append([event], ["c2"], received)
            uow.commit()

    feb_1 = datetime(2026, 2, 1, 6, tzinfo=UTC)
    sell("e1", 5, "12.5", datetime(2026, 1, 5, tzinfo=UTC))
    sell("e2", 9, "3", feb_1)  # received at the instant the period is settled: settled
    (first,) = settle_sales(store(DEFAULT_TENANT), as_of=feb_1, now=feb_1).settled
    assert first.event_ids == ("e1", "e2")
    sell("e3", 20, "5", datetime(2026, 2, 15, tzinfo=UTC))  # late, settled by the next run
    # The store as version 0029 left it: settlements without the ids of their events.
    config = Config()
    config.set_main_option("script_location", str(_migrations()))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0029")

    upgrade(engine)

    with store(DEFAULT_TENANT) as uow:
        assert [s.event_ids for s in uow.sharing.settlements()] == [("e1", "e2")]
    mar_1 = datetime(2026, 3, 1, 6, tzinfo=UTC)
    late = settle_sales(store(DEFAULT_TENANT), as_of=mar_1, now=mar_1).settled
    assert [(s.period.start.month, s.number, s.event_ids) for s in late] == [
        (1, 2, ("e3",)),
        (2, 1, ()),
    ]
    assert [str(line.amount) for line in late[0].lines] == ["1.05"]  # 5 x 0.21, e3 only
    assert settle_sales(store(DEFAULT_TENANT), as_of=mar_1, now=mar_1).settled == []


def test_idempotent_answers_are_kept_whole_and_compressed_with_lz4_on_postgresql(
    engine: Engine,
) -> None:
    from alembic import command
    from alembic.config import Config

    from iotbill.adapters.storage.sql.engine import _migrations

    upgrade(engine, "0035")
    answer = '{"results": [' + ",".join(['{"status": "accepted"}'] * 2000) + "]}"
    insert = (
        "INSERT INTO idempotency_records (tenant_id, key, fingerprint, token, locked_until,"
        " status, content_type, body, created_at) SELECT id, '{key}', 'f', 't', 0, 200,"
        " 'application/json', '{body}', 0 FROM tenants"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(insert.format(key="before", body=answer))

    upgrade(engine)

    with engine.begin() as connection:
        connection.exec_driver_sql(insert.format(key="after", body=answer))
    with engine.connect() as connection:
        bodies = connection.exec_driver_sql(
            "SELECT key, body FROM idempotency_records ORDER BY key"
        )
        assert [tuple(row) for row in bodies] == [("after", answer), ("before", answer)]
        if engine.dialect.name == "postgresql":
            methods = connection.exec_driver_sql(
                "SELECT key, pg_column_compression(body) FROM idempotency_records ORDER BY key"
            )
            assert [tuple(row) for row in methods] == [("after", "lz4"), ("before", "pglz")]
    config = Config()
    config.set_main_option("script_location", str(_migrations()))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0035")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM idempotency_records").scalar() == 2


def test_the_device_history_length_of_each_tenant_is_counted_by_the_upgrade(
    engine: Engine,
) -> None:
    upgrade(engine, "0036")
    store = sql_unit_of_work_factory(engine)
    with store(DEFAULT_TENANT) as uow:
        uow.tenants.add(Tenant("other", "Other"))
        uow.commit()
    for code, devices in ((DEFAULT_TENANT, ("d1", "d2", "d3")), ("other", ("d1",))):
        with store(code) as uow:  # customers as 0036 stores them; devices by hand below
            uow.customers.add(
                Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC")
            )
            uow.commit()
        tenant = f"(SELECT id FROM tenants WHERE code = '{code}')"
        with engine.begin() as connection:
            for device, start in [(device, 0) for device in devices] + (
                [("d1", 1000)] if code == DEFAULT_TENANT else []  # d1 moved once
            ):
                if start == 0:
                    connection.exec_driver_sql(
                        f"INSERT INTO devices (tenant_id, id) SELECT {tenant}, '{device}'"
                    )
                connection.exec_driver_sql(
                    "INSERT INTO device_owners (tenant_id, device_id, valid_from, customer_id)"
                    f" SELECT {tenant}, '{device}', {start}, 'c1'"
                )

    upgrade(engine)

    with store(DEFAULT_TENANT, read_only=True) as uow:
        assert uow.devices.history_length() == 4  # three devices, one move
    with store("other", read_only=True) as uow:
        assert uow.devices.history_length() == 1
