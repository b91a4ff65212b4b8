"""Connecting to the store and migrating its schema.

The store is a SQLAlchemy URL (which one, :mod:`iotbill.bootstrap` decides
from the settings). A plain path (``billing.db``) means a SQLite file;
``postgresql://`` means PostgreSQL through psycopg 3. :func:`upgrade` applies
the Alembic migrations shipped in :mod:`iotbill.adapters.storage.migrations`,
so it works from an installed package.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from iotbill.domain.errors import InvalidInput, StoreUnavailable

# Per connection, and each writer and reader has its own: a cap, so that memory does not
# grow with the store (SQLite grows the cache as pages are used, up to this). An ingest
# fills three connections' caches as the store grows past a million events; measured on
# ingests of 1M and 3M lines, 16 MiB against 32 MiB: the 3M peak 714 MiB, not 804 (the 1M
# peak about the same), for an ingest about 5 % slower; a bill run no slower.
SQLITE_CACHE_KIBIBYTES = 16 * 1024
SQLITE_PAGE_SIZE = 16384  # fewer, larger pages: about 25 % faster random inserts
SQLITE_BUSY_MILLISECONDS = 30_000
READ_ONLY = "iotbill_read_only"
"""A connection's execution option: its transactions only read."""
_TURN = "iotbill_writer_turn"  # in a connection's info while its transaction has the turn


def database_url(url: str) -> str:
    """``url`` as SQLAlchemy takes it: a plain path is a SQLite file, and ``postgresql://``
    goes through psycopg 3.

    >>> database_url("billing.db"), database_url("postgresql://db/iotbill")
    ('sqlite:///billing.db', 'postgresql+psycopg://db/iotbill')
    """
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_engine_for(url: str) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), tuned for its database."""
    try:
        parsed = make_url(database_url(url))
    except ArgumentError:
        raise InvalidInput.at("--database", f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        turns = _WriterTurns()
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", turns.begin)
        event.listen(engine, "commit", turns.end)
        event.listen(engine, "rollback", turns.end)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed.set(drivername="postgresql+psycopg"))
    raise InvalidInput.at(
        "--database", f"{parsed.get_backend_name()!r} is not supported (use sqlite or postgresql)"
    )


def _configure_sqlite(connection: Any, record: Any) -> None:
    # Let SQLAlchemy's "begin" event start transactions (below), not the driver.
    connection.isolation_level = None
    cursor = connection.cursor()
    for pragma in (
        f"page_size = {SQLITE_PAGE_SIZE}",  # takes effect only on a new database
        "journal_mode = WAL",
        "synchronous = NORMAL",
        "foreign_keys = ON",
        f"cache_size = -{SQLITE_CACHE_KIBIBYTES}",
        f"busy_timeout = {SQLITE_BUSY_MILLISECONDS}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class _WriterTurns:
    """Writers on one SQLite engine take their turns on a lock, readers need none.

    A writing transaction takes the database's write lock at the start, so a
    transaction that reads and then writes can never fail half-way because
    another writer came first. A writer of this process that finds the
    database locked would poll it, sleeping up to a tenth of a second between
    tries; waiting on this lock instead, it starts as soon as the writer before
    it commits. (Another process's writers still take turns by polling.) A
    transaction that only reads takes no lock: in WAL mode it reads a snapshot
    beside the writer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        # Bounded, so a turn never released (a thread killed mid-transaction)
        # delays writers but never stops them: the database's own lock decides.
        if self._lock.acquire(timeout=SQLITE_BUSY_MILLISECONDS / 1000):
            connection.info[_TURN] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Any) -> None:
        # Called as the transaction commits or rolls back: the next writer's
        # BEGIN then waits only for this COMMIT, in SQLite's shortest sleeps.
        if connection.info.pop(_TURN, False):
            self._lock.release()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str, ...]:
    """Apply the migrations up to ``revision`` (creating the schema on a new database, and
    a new SQLite file): the revisions the store had before, ``()`` if it had no schema.

    :class:`~iotbill.domain.errors.StoreUnavailable` if the store cannot be created or
    reached.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    config = Config()
    config.set_main_option("script_location", str(_migrations()))
    _check_sqlite_file(engine, must_exist=False)
    with _reaching(engine), engine.begin() as connection:
        before = tuple(MigrationContext.configure(connection).get_current_heads())
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before


def schema_is_current(engine: Engine) -> bool:
    """Whether the database has the schema of the latest migration.

    A SQLite file that does not exist has none, and is not created by asking.
    :class:`~iotbill.domain.errors.StoreUnavailable` if the store cannot be opened or
    reached.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    if not _check_sqlite_file(engine, must_exist=True):
        return False
    with _reaching(engine), engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(ScriptDirectory(str(_migrations())).get_heads())


def _migrations() -> Any:
    return files("iotbill.adapters.storage") / "migrations"


def _check_sqlite_file(engine: Engine, *, must_exist: bool) -> bool:
    """For a SQLite file: whether it exists; :class:`StoreUnavailable` if it cannot be one
    (its folder is missing, or it is a folder). Any other store: ``True``."""
    name = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return True
    path = Path(name)
    if path.is_dir():
        raise _unavailable(engine, "is a folder, not a SQLite file")
    if not path.parent.is_dir():
        raise _unavailable(engine, f"the folder {path.parent} does not exist")
    return path.exists() or not must_exist


@contextmanager
def _reaching(engine: Engine) -> Iterator[None]:
    """Inside, the database's operational error (a server that refuses, a database that
    does not exist, a file that cannot be opened) or its refusal of a file that is no
    SQLite database (a plain ``DatabaseError``) is :class:`StoreUnavailable`, in one line.
    Other errors (a constraint, a statement) are not about reaching the store: they pass."""
    try:
        yield
    except DatabaseError as error:
        if not isinstance(error, OperationalError) and type(error) is not DatabaseError:
            raise
        reason = " ".join(str(error.orig).split()).removeprefix("connection failed: ")
        raise _unavailable(engine, reason) from None


def _unavailable(engine: Engine, reason: str) -> StoreUnavailable:
    url = engine.url.set(drivername=engine.url.get_backend_name())  # as the user wrote it
    shown = url.render_as_string(hide_password=True)
    return StoreUnavailable(f"--database {shown}: {reason}")
