"""The one place where iotbill errors become exit codes and messages.

Exit codes: 0 ok, 2 invalid input (also for command-line usage errors),
3 not found, 4 conflict, 5 the store cannot be opened, created or reached
(``--database`` names a missing folder, a folder, a file that is no SQLite
database, a server that does not answer or a database it does not have),
130 interrupted by Ctrl-C (``ingest`` says what it stored before stopping).
A bad input never shows a traceback: the ``iotbill`` command group
(:class:`IotbillGroup`, the root of every command) catches an
:class:`~iotbill.domain.errors.IotbillError` from any command, prints
``error: ...`` on standard error and exits with its code.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from iotbill.domain.errors import Conflict, InvalidInput, IotbillError, NotFound, StoreUnavailable

EXIT_INVALID_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_STORE_UNAVAILABLE = 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def exit_code_for(error: IotbillError) -> int:
    if isinstance(error, InvalidInput):
        return EXIT_INVALID_INPUT
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, Conflict):
        return EXIT_CONFLICT
    if isinstance(error, StoreUnavailable):
        return EXIT_STORE_UNAVAILABLE
    return 1


class IotbillGroup(TyperGroup):
    """The root command group: runs the command, and reports an iotbill error it raises."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except IotbillError as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(exit_code_for(error)) from None
        except KeyboardInterrupt:  # a command that stores in one transaction stored nothing
            print("interrupted", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None
