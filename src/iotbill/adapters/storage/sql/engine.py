"""Connecting to the store and migrating its schema.

The store is a SQLAlchemy URL: ``--database`` if given, else
``IOTBILL_DATABASE_URL``, else the SQLite file ``./iotbill.db``. A plain path
(``billing.db``) means a SQLite file; ``postgresql://`` means PostgreSQL through
psycopg 3. :func:`upgrade` applies the Alembic migrations shipped in
:mod:`iotbill.adapters.storage.migrations`, so it works from an installed
package.
"""

from __future__ import annotations

import os
from importlib.resources import files
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from iotbill.domain.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///iotbill.db"
DATABASE_URL_VARIABLE = "IOTBILL_DATABASE_URL"

# Generous for bulk ingestion: SQLite grows the cache only as pages are used.
SQLITE_CACHE_KIBIBYTES = 256 * 1024
SQLITE_PAGE_SIZE = 16384  # fewer, larger pages: about 25 % faster random inserts
SQLITE_BUSY_MILLISECONDS = 30_000


def database_url(option: str | None = None) -> str:
    """The store's URL: ``option``, else ``$IOTBILL_DATABASE_URL``, else ``./iotbill.db``."""
    url = option or os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL
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
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
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


def _begin_sqlite(connection: Any) -> None:
    # Take the write lock at the start: a transaction that reads and then writes
    # can never fail half-way because another writer came first.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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
