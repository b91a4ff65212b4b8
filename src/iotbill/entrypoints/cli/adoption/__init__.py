"""``iotbill adoption``: population models that forecast how a business model spreads.

Commands register themselves on :data:`app`: ``cascades`` (herding, cascade,
window, capacity), ``networks`` (small-world, search, seeds) and ``forecast``.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Forecast adoption: information cascades, threshold cascades, small worlds.",
    no_args_is_help=True,
)

from iotbill.entrypoints.cli.adoption import cascades, forecast, networks  # noqa: E402

__all__ = ["app", "cascades", "forecast", "networks"]
