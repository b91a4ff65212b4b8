"""A ``--database`` that cannot be opened, created or reached: one line naming it and the
reason, exit code 5, no traceback, and no file left behind."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app
from tests.services import free_port, postgres_url, require_postgres

EXIT_STORE_UNAVAILABLE = 5


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr
    return stderr


def test_a_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    store = tmp_path / "nowhere" / "billing.db"

    for command in (["customers", "list"], ["db", "upgrade"]):
        code, _, stderr = _run(*command, "--database", str(store))

        assert code == EXIT_STORE_UNAVAILABLE
        assert _one_line(stderr) == (
            f"error: --database sqlite:///{store}: the folder {store.parent} does not exist\n"
        )
    assert not store.parent.exists()


def test_a_folder_given_as_the_sqlite_file(tmp_path: Path) -> None:
    for command in (["customers", "list"], ["db", "upgrade"]):
        code, _, stderr = _run(*command, "--database", str(tmp_path))

        assert code == EXIT_STORE_UNAVAILABLE
        assert _one_line(stderr) == (
            f"error: --database sqlite:///{tmp_path}: is a folder, not a SQLite file\n"
        )


def test_a_file_that_is_no_sqlite_database(tmp_path: Path) -> None:
    store = tmp_path / "notes.db"
    store.write_text("these are notes, not a database\n" * 200)

    for command in (["customers", "list"], ["db", "upgrade"]):
        code, _, stderr = _run(*command, "--database", str(store))

        assert code == EXIT_STORE_UNAVAILABLE
        assert _one_line(stderr) == (
            f"error: --database sqlite:///{store}: file is not a database\n"
        )
    assert store.read_text() == "these are notes, not a database\n" * 200


def test_a_missing_sqlite_file_is_not_created_by_a_command(tmp_path: Path) -> None:
    store = tmp_path / "new.db"

    code, _, stderr = _run("customers", "list", "--database", str(store))

    assert code == 4
    assert _one_line(stderr) == (
        f"error: the store sqlite:///{store} has no iotbill schema or an old one:"
        " run `iotbill db upgrade`\n"
    )
    assert not store.exists()


def test_db_upgrade_says_whether_it_created_the_schema(tmp_path: Path) -> None:
    store = tmp_path / "new.db"

    created = _run("db", "upgrade", "--database", str(store))
    again = _run("db", "upgrade", "--database", str(store))

    assert created == (0, f"sqlite:///{store}: schema created\n", "")
    assert again == (0, f"sqlite:///{store}: schema is up to date\n", "")


def test_a_postgresql_port_where_nothing_listens() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"

    for command in (["customers", "list"], ["db", "upgrade"]):
        code, _, stderr = _run(*command, "--database", url)

        assert code == EXIT_STORE_UNAVAILABLE
        line = _one_line(stderr)
        assert line.startswith(f"error: --database {url}: ")
        assert "Connection refused" in line


def test_an_unknown_postgresql_database() -> None:
    require_postgres()
    server = postgres_url().rsplit("/", 1)[0].replace("+psycopg", "")
    url = f"{server}/iotbill_no_such_database"

    for command in (["customers", "list"], ["db", "upgrade"]):
        code, _, stderr = _run(*command, "--database", url)

        assert code == EXIT_STORE_UNAVAILABLE
        line = _one_line(stderr)
        assert line.startswith(f"error: --database {url}: ")
        assert line.endswith('database "iotbill_no_such_database" does not exist\n')


def test_the_exit_code_is_documented() -> None:
    from iotbill.entrypoints.cli import errors

    documented = Path("docs/operations.md").read_text(encoding="utf-8")
    assert "`5` the store cannot be opened, created or reached" in documented
    assert "5 the store cannot be opened, created or reached" in " ".join(
        (errors.__doc__ or "").split()
    )


def test_a_postgresql_connection_lost_mid_command_is_one_line_and_stores_nothing() -> None:
    """The server ends the command's session between two statements (a restart, a failover,
    an administrator): the unit of work reports the store unavailable (exit code 5 on the
    command line, 503 over HTTP) instead of a driver's traceback, and the server rolled
    back what was not committed."""
    import psycopg
    from sqlalchemy import text

    from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
    from iotbill.domain.customers import Customer
    from iotbill.domain.errors import StoreUnavailable
    from iotbill.services.ports import Tenant
    from tests.services import postgres_schema

    with postgres_schema("iotbill_lost") as url:
        engine = create_engine_for(url)
        upgrade(engine)
        factory = sql_unit_of_work_factory(engine)
        with factory("t") as uow:
            uow.tenants.add(Tenant("t", "T"))
            uow.commit()
        try:
            with factory("t") as uow:
                uow.customers.add(
                    Customer.create(id="c", name="C", currency_code="EUR", timezone="UTC")
                )
                pid = uow._connection().execute(text("SELECT pg_backend_pid()")).scalar()
                with psycopg.connect(url.split("?")[0].replace("+psycopg", "")) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                uow.customers.list()
            raise AssertionError("the lost connection went unnoticed")
        except StoreUnavailable as error:
            assert str(error).startswith("lost the connection to the store: ")
            assert "nothing since the last commit was stored" in str(error)
        with factory("t", read_only=True) as uow:
            assert uow.customers.list() == []
        engine.dispose()
