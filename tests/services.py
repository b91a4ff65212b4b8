"""Services that tests need (PostgreSQL), found or skipped (or failed) in one place.

Tests that need PostgreSQL read ``IOTBILL_TEST_POSTGRES_URL`` (default: the
local server's ``test`` database), work in a schema of their own and drop it
afterwards. When the server is unreachable they skip with the reason, unless
``IOTBILL_REQUIRE_SERVICES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("IOTBILL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def require_postgres() -> str:
    """The server's URL, after checking that it answers; skips (or fails) otherwise."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = postgres_url()
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL at {url} is unreachable: {str(error).strip()}"
        if os.environ.get("IOTBILL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (IOTBILL_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return make_url(url).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(prefix: str = "iotbill_test") -> Iterator[str]:
    """A fresh schema on the test server: yields a URL whose connections use it; drops it."""
    import psycopg

    url = require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _libpq(url: str) -> str:
    """The URL as libpq takes it (without SQLAlchemy's driver name)."""
    return "postgresql://" + url.split("://", 1)[1]


MOSQUITTO = "/usr/sbin/mosquitto"


def require_mosquitto() -> str:
    """The Mosquitto broker's path, after checking it is installed; skips (or fails) otherwise."""
    if not os.access(MOSQUITTO, os.X_OK):
        reason = f"Mosquitto is not installed at {MOSQUITTO} (apt-get install mosquitto)"
        if os.environ.get("IOTBILL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (IOTBILL_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return MOSQUITTO


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
