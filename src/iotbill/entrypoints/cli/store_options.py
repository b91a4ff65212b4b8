"""Options shared by every command that reads or writes the store: --tenant and --database.

Use them as parameter types and open the store with :func:`open_store`::

    def command(tenant: TenantOption = DEFAULT_TENANT, database: DatabaseOption = None):
        uow_factory = open_store(database)

The wiring itself (settings, engine, schema check) is :mod:`iotbill.bootstrap`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.services.ports import DEFAULT_TENANT

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from iotbill.services.ports import UnitOfWorkFactory

TenantOption = Annotated[
    str, typer.Option("--tenant", envvar="IOTBILL_TENANT", help="Tenant code.", show_default=True)
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL or SQLite file (default: $IOTBILL_DATABASE_URL, else ./iotbill.db).",
    ),
]

__all__ = [
    "DEFAULT_TENANT",
    "DatabaseOption",
    "TenantOption",
    "close_engines",
    "open_engine",
    "open_store",
]

_opened: list[Engine] = []
"""The engines the running command opened: closed when it ends (:func:`close_engines`)."""


def open_engine(database: str | None) -> Engine:
    """The engine of the store that ``--database`` (or the environment) names."""
    from iotbill.bootstrap import load_settings
    from iotbill.bootstrap import open_engine as engine_for

    engine = engine_for(load_settings(database_url=database))
    _opened.append(engine)
    return engine


def close_engines() -> None:
    """Close the connections of every engine the command opened, so that a command run
    inside a longer process (a test, a script) leaves no connection open behind it."""
    while _opened:
        _opened.pop().dispose()


def open_store(database: str | None) -> UnitOfWorkFactory:
    """Units of work on the store; :class:`Conflict` if its schema is missing or old."""
    from iotbill.bootstrap import bootstrap, load_settings

    wired = bootstrap(load_settings(database_url=database))
    if wired.engine is not None:
        _opened.append(wired.engine)
    return wired.uow_factory
