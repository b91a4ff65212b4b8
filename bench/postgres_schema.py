"""A PostgreSQL schema of its own for one benchmark run, dropped after.

Every benchmark that runs on PostgreSQL too sets up the same way: a new schema
on the server (so a run never meets another's rows), an engine whose
connections use it, and the schema dropped at the end whatever happens. When
the server cannot be reached, the run says so and skips PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine

from iotbill.adapters.storage.sql.engine import create_engine_for


@dataclass(frozen=True)
class BenchSchema:
    """The engine on the schema, the server's URL as psycopg takes it, and the schema."""

    engine: Engine
    libpq: str
    name: str


@contextmanager
def postgres_schema(url: str) -> Iterator[BenchSchema | None]:
    """A schema of its own on the server at ``url`` (a SQLAlchemy URL); ``None``, after
    saying so, when the server is unreachable."""
    libpq = "postgresql://" + url.split("://", 1)[1]
    name = f"iotbill_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f"CREATE SCHEMA {name}")
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: {url} is unreachable ({error})")
        yield None
        return
    separator = "&" if "?" in url else "?"
    engine = create_engine_for(f"{url}{separator}options=-csearch_path%3D{name}")
    try:
        yield BenchSchema(engine, libpq, name)
    finally:
        engine.dispose()
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {name} CASCADE")
