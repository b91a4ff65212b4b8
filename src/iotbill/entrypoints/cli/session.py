"""What every store command works with: one session, from one place.

A command registered on a :func:`store_group` (or wrapped by :func:`store_command`)
takes ``--tenant``, ``--database`` and ``--json`` without declaring them, and
reads its :class:`Session` with :func:`session`::

    customers_app = store_group(help="Customers: ...")

    @customers_app.command("list")
    def list_command() -> None:
        current = session()
        customers = list_customers(current.uow())
        current.emit([customer_json(c) for c in customers], lambda: print_table(...))

A command outside a group registers with the class:
``app.command("bill-run")(store_command(bill_run_command))``. Errors need no
handling in the command: the root group reports them
(:mod:`iotbill.entrypoints.cli.errors`).

The session wires the store through :mod:`iotbill.bootstrap` on first use
(settings from the options, else the environment), reads the time from the one
clock, and prints through :meth:`Session.emit`: the JSON document with
``--json``, else the text.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from functools import cached_property
from inspect import Parameter
from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.entrypoints.cli.output import print_json

if TYPE_CHECKING:
    from iotbill.bootstrap import Settings, Wired
    from iotbill.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
"""The ``--json`` flag (a store command takes it without declaring it)."""

TenantOption = Annotated[
    str | None,
    typer.Option("--tenant", help="Tenant code (default: $IOTBILL_TENANT, else default)."),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL or SQLite file (default: $IOTBILL_DATABASE_URL, else ./iotbill.db).",
    ),
]

_CURRENT: ContextVar[Session] = ContextVar("iotbill_session")


class Session:
    """One command's session: its settings, units of work on the store for its tenant,
    the clock, and whether it prints JSON."""

    def __init__(self, settings: Settings, *, as_json: bool) -> None:
        self.settings = settings
        self.as_json = as_json
        self._wired: Wired | None = None

    @property
    def tenant(self) -> str:
        return self.settings.tenant

    @property
    def wired(self) -> Wired:
        """The store and the clock (the store's schema is checked once, on first use)."""
        if self._wired is None:
            from iotbill.bootstrap import bootstrap

            self._wired = bootstrap(self.settings)
        return self._wired

    def close(self) -> None:
        """Close the store's connections, so that a command run inside a longer process
        (a test, a script) leaves none open behind it."""
        if self._wired is not None and self._wired.engine is not None:
            self._wired.engine.dispose()
        self._wired = None

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self.wired.uow_factory

    def uow(self) -> UnitOfWork:
        """A new unit of work for the session's tenant."""
        return self.uow_factory(self.tenant)

    @cached_property
    def clock(self) -> Clock:
        from iotbill.bootstrap import system_clock

        return system_clock()

    def now(self) -> datetime:
        """The current instant, from the clock."""
        return self.clock.now()

    def instant_or_now(self, text: str | None, flag: str) -> datetime:
        """The instant an option ``flag`` gives (a date is UTC midnight), or now without it."""
        from iotbill.entrypoints.cli.options import parse_instant

        return self.now() if text is None else parse_instant(text, flag)

    def emit(self, document: Any, text: str | Callable[[], object] | None = None) -> None:
        """Print ``document`` as JSON with ``--json``; else ``text``: a line, or a function
        that prints (a table); nothing when ``None``. ``document`` may be a function that
        makes it, called only with ``--json`` (a large report is not built to be dropped)."""
        if self.as_json:
            print_json(document() if callable(document) else document)
        elif callable(text):
            text()
        elif text is not None:
            typer.echo(text)


def session() -> Session:
    """The session of the store command running now."""
    try:
        return _CURRENT.get()
    except LookupError:
        raise RuntimeError("session() is called only inside a store command") from None


def store_command(
    function: Callable[..., Any], *, for_tenant: bool = True, json_output: bool = True
) -> Callable[..., Any]:
    """``function`` as a store command: it also takes ``--tenant`` (unless not
    ``for_tenant``: a command on the whole store), ``--database`` and ``--json`` (unless
    not ``json_output``: a command that prints no document), and runs with its
    :class:`Session` (closed when it ends)."""
    signature = inspect.signature(function, eval_str=True)
    added = [Parameter("database", Parameter.KEYWORD_ONLY, default=None, annotation=DatabaseOption)]
    if json_output:
        added.append(
            Parameter("as_json", Parameter.KEYWORD_ONLY, default=False, annotation=JsonOption)
        )
    if for_tenant:
        added.insert(
            0, Parameter("tenant", Parameter.KEYWORD_ONLY, default=None, annotation=TenantOption)
        )

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        from iotbill.bootstrap import load_settings

        settings = load_settings(
            tenant=kwargs.pop("tenant", None), database_url=kwargs.pop("database")
        )
        current = Session(settings, as_json=kwargs.pop("as_json", False))
        token = _CURRENT.set(current)
        try:
            return function(*args, **kwargs)
        finally:
            _CURRENT.reset(token)
            current.close()

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added]
    )
    return command


def store_group(
    *, for_tenant: bool = True, json_output: bool = True, **options: Any
) -> typer.Typer:
    """A command group whose commands are all store commands (``for_tenant``: each acts for
    one tenant, else on the whole store; ``json_output``: each prints a JSON document with
    ``--json``)."""
    group = typer.Typer(no_args_is_help=True, **options)
    register = group.command

    def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        def decorator(function: Callable[..., Any]) -> Any:
            register(*args, **kwargs)(
                store_command(function, for_tenant=for_tenant, json_output=json_output)
            )
            return function

        return decorator

    group.command = command  # type: ignore[method-assign]
    return group
