"""The one place where iotbill errors become exit codes and messages.

Exit codes: 0 ok, 2 invalid input (also for command-line usage errors),
3 not found, 4 conflict. A bad input never shows a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from iotbill.domain.errors import Conflict, InvalidInput, IotbillError, NotFound

EXIT_INVALID_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4

P = ParamSpec("P")
R = TypeVar("R")


def exit_code_for(error: IotbillError) -> int:
    if isinstance(error, InvalidInput):
        return EXIT_INVALID_INPUT
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, Conflict):
        return EXIT_CONFLICT
    return 1


def report_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so iotbill errors print cleanly and exit with their code; the
    stores it opened are closed when it ends."""

    from iotbill.entrypoints.cli.store_options import close_engines

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except IotbillError as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(exit_code_for(error)) from None
        finally:
            close_engines()

    return wrapper
