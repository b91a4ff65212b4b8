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

__all__ = ["DEFAULT_TENANT", "DatabaseOption", "TenantOption", "open_engine", "open_store"]


def open_engine(database: str | None) -> Engine:
    """The engine of the store that ``--database`` (or the environment) names."""
    from iotbill.bootstrap import load_settings
    from iotbill.bootstrap import open_engine as engine_for

    return engine_for(load_settings(database_url=database))


def open_store(database: str | None) -> UnitOfWorkFactory:
    """Units of work on the store; :class:`Conflict` if its schema is missing or old."""
    from iotbill.bootstrap import bootstrap, load_settings

    return bootstrap(load_settings(database_url=database)).uow_factory
