"""``iotbill adoption``: population models that forecast how a business model spreads.

Each module registers its commands as the other command groups do: ``cascades``
(herding, cascade, window, capacity), ``networks`` (small-world, search, seeds)
and ``forecast``.
"""

from __future__ import annotations

import typer

from iotbill.entrypoints.cli.adoption import cascades, forecast, networks


def register(app: typer.Typer) -> None:
    """Add the ``adoption`` group to ``app``."""
    adoption_app = typer.Typer(
        help="Forecast adoption: information cascades, threshold cascades, small worlds.",
        no_args_is_help=True,
    )
    cascades.register(adoption_app)
    networks.register(adoption_app)
    forecast.register(adoption_app)
    app.add_typer(adoption_app, name="adoption")
