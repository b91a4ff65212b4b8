"""``iotbill preview``: price a plan against a file of events, without a database."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer

from iotbill.entrypoints.cli.output import print_json
from iotbill.entrypoints.cli.session import JsonOption


def register(app: typer.Typer) -> None:
    """Add the ``preview`` command to ``app``."""
    app.command("preview")(preview_command)


def preview_command(
    plan: Annotated[Path, typer.Option("--plan", help="Plan file (YAML or JSON).")],
    events: Annotated[
        str, typer.Option("--events", help="Usage events, JSON Lines (- for stdin).")
    ],
    start: Annotated[str, typer.Option("--from", help="Period start: a date or an instant.")],
    end: Annotated[str, typer.Option("--to", help="Period end (exclusive).")],
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA zone for dates and capped days (default UTC)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Price every event in a file under a plan, for one period [from, to).

    The period is billed as one billing period: one fixed fee, one tier ladder.
    Events before --from still count where a meter carries a level into the
    period. Exit codes: 0 ok, 2 bad input.
    """
    from iotbill.adapters.columnar_events import PlanProperties, read_columnar_table
    from iotbill.adapters.event_files import read_event_table
    from iotbill.adapters.plan_files import read_plan
    from iotbill.domain.errors import InvalidInput
    from iotbill.domain.periods import Period, zone
    from iotbill.domain.preview import preview
    from iotbill.entrypoints.cli.options import parse_instant

    # A one-shot command over millions of acyclic objects: cycle collection only costs time.
    gc.disable()
    period_start = parse_instant(start, "--from", timezone)
    period_end = parse_instant(end, "--to", timezone)
    if period_end <= period_start:
        raise InvalidInput.at("--to", f"{end} must be after --from {start}")
    the_plan = read_plan(str(plan))
    # Columns straight from the file where that is provably exact, else event by event.
    table = read_columnar_table(events, PlanProperties.of(the_plan)) or read_event_table(events)
    in_zone = zone(timezone or "UTC", "--timezone")
    result = preview(the_plan, table, Period(period_start, period_end), in_zone)
    for conflict in result.conflicts:
        typer.echo(
            f"warning: {table.source}:{conflict.line}: event id {conflict.id!r} repeats line "
            f"{conflict.first_line} with different content; the first one stands",
            err=True,
        )
    if as_json:
        print_json(result.as_json())
    else:
        from iotbill.entrypoints.cli.render import print_preview

        print_preview(result)
