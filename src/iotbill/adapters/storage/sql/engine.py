"""Connecting to the store and migrating its schema.

The store is a SQLAlchemy URL (which one, :mod:`iotbill.bootstrap` decides
from the settings). A plain path (``billing.db``) means a SQLite file;
``postgresql://`` means PostgreSQL through psycopg 3. :func:`upgrade` applies
the Alembic migrations shipped in :mod:`iotbill.adapters.storage.migrations`,
so it works from an installed package.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from iotbill.domain.errors import InvalidInput

# Per connection, and each writer and reader has its own: a cap, so that memory does not
# grow with the store (SQLite grows the cache as pages are used, up to this).
SQLITE_CACHE_KIBIBYTES = 32 * 1024
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (creating the schema on a new database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("iotbill.adapters.storage") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def schema_is_current(engine: Engine) -> bool:
    """Whether the database has the schema of the latest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current = MigrationContext.configure(connection).get_current_heads()
    scripts = ScriptDirectory(str(files("iotbill.adapters.storage") / "migrations"))
    return set(current) == set(scripts.get_heads())
