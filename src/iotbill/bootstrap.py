"""The one place that wires adapters to services: settings, the store, the clock.

Every entrypoint (the command line, the HTTP service, the ingestion workers)
starts here and hands the services what they take: a unit-of-work factory and
a clock. Nothing here runs at import: the environment is read, and the store
opened, only when :func:`load_settings` or :func:`bootstrap` is called.

Settings come from, in this order: values given by the caller (a command's
``--database``), the environment (``IOTBILL_DATABASE_URL``,
``IOTBILL_TENANT``, ``IOTBILL_GRACE_HOURS``), then the defaults below.

>>> settings = load_settings(database_url="billing.db", tenant="acme")
>>> settings.database_url, settings.tenant
('billing.db', 'acme')
>>> wired = in_memory()
>>> with wired.uow_factory("default") as uow:
...     [tenant.code for tenant in uow.tenants.list()]
['default']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iotbill.domain.errors import Conflict, InvalidInput, Problem
from iotbill.services.ports import DEFAULT_TENANT, Clock, UnitOfWorkFactory

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings
    from sqlalchemy import Engine

DEFAULT_DATABASE_URL = "sqlite:///iotbill.db"
ENVIRONMENT_PREFIX = "IOTBILL_"

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Settings",
    "Wired",
    "bootstrap",
    "in_memory",
    "load_settings",
    "open_engine",
    "system_clock",
]


@dataclass(frozen=True, slots=True)
class Settings:
    """What an iotbill process is configured with.

    ``database_url``: a SQLAlchemy URL or a SQLite file path; ``tenant``: the
    tenant commands act for unless told otherwise; ``grace_hours``: how long an
    invoice stays a draft after its period ends, so late events still count.
    """

    database_url: str = DEFAULT_DATABASE_URL
    tenant: str = DEFAULT_TENANT
    grace_hours: int = 0


def load_settings(**given: Any) -> Settings:
    """Settings from ``given`` (a ``None`` counts as not given), else the environment.

    A value that is not valid is :class:`~iotbill.domain.errors.InvalidInput`
    naming the variable and the reason.

    >>> load_settings(grace_hours=-1)
    Traceback (most recent call last):
    ...
    iotbill.domain.errors.InvalidInput: IOTBILL_GRACE_HOURS: must be at least 0 (got -1)
    """
    from pydantic import ValidationError

    unknown = sorted(set(given) - set(Settings.__dataclass_fields__))
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(unknown)}")
    chosen = {name: value for name, value in given.items() if value is not None}
    try:
        read = _environment_settings()(**chosen)
    except ValidationError as error:
        raise InvalidInput(
            [
                Problem(
                    ENVIRONMENT_PREFIX + ".".join(map(str, problem["loc"])).upper(),
                    _reason(problem),
                )
                for problem in error.errors()
            ]
        ) from None
    return Settings(**{name: getattr(read, name) for name in Settings.__dataclass_fields__})


def _reason(problem: Any) -> str:
    if problem["type"] == "greater_than_equal":
        return f"must be at least {problem['ctx']['ge']} (got {problem['input']})"
    if problem["type"] == "string_too_short":
        return "must not be empty"
    return f"{problem['msg'].lower()} (got {problem['input']!r})"


def _environment_settings() -> type[BaseSettings]:
    """The pydantic-settings model of :class:`Settings` (built on first use: pydantic
    is imported only by a process that reads settings)."""
    from pydantic import Field
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class EnvironmentSettings(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENVIRONMENT_PREFIX, extra="ignore", validate_default=True
        )

        database_url: str = Field(DEFAULT_DATABASE_URL, min_length=1)
        tenant: str = Field(DEFAULT_TENANT, min_length=1, max_length=64)
        grace_hours: int = Field(0, ge=0)

    return EnvironmentSettings


@dataclass(frozen=True, slots=True)
class Wired:
    """What the services need, wired: units of work on the store, and the clock;
    ``engine`` is the SQL store's (``None`` in memory), for its owner to close."""

    settings: Settings
    uow_factory: UnitOfWorkFactory
    clock: Clock
    engine: Engine | None = None


def system_clock() -> Clock:
    """The system's clock (UTC): the one every entrypoint reads the time from."""
    from iotbill.adapters.clock import SystemClock

    return SystemClock()


def open_engine(settings: Settings) -> Engine:
    """The SQLAlchemy engine of the store that ``settings`` name (no connection yet)."""
    from iotbill.adapters.storage.sql.engine import create_engine_for

    return create_engine_for(settings.database_url)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Wired:
    """Units of work on the store of ``settings`` (read from the environment when ``None``).

    Connects once, to check that the store's schema is current:
    :class:`~iotbill.domain.errors.Conflict` if it is missing or old.
    """
    from iotbill.adapters.storage.sql.engine import schema_is_current
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory

    settings = settings or load_settings()
    engine = open_engine(settings)
    if not schema_is_current(engine):
        shown = engine.url.render_as_string(hide_password=True)
        raise Conflict(
            f"the store {shown} has no iotbill schema or an old one: run `iotbill db upgrade`"
        )
    return Wired(settings, sql_unit_of_work_factory(engine), clock or system_clock(), engine)


def in_memory(settings: Settings | None = None, *, clock: Clock | None = None) -> Wired:
    """Units of work on a new, empty in-memory store (one tenant, ``default``)."""
    from iotbill.adapters.storage.memory import MemoryStore

    store = MemoryStore()
    return Wired(settings or Settings(), store.unit_of_work_factory(), clock or system_clock())
