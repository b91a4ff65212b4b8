"""``iotbill serve`` (the HTTP API) and ``iotbill keys create|list|revoke`` (its API keys)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from iotbill.entrypoints.cli.errors import report_errors
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_store,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
keys_app = typer.Typer(
    help="API keys of a tenant: shown once, stored hashed, listed by prefix.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to ``app``."""
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")


@report_errors
def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes (default 1).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Serve the HTTP API (docs at /docs, schema at /openapi.json) until stopped.

    Settings not given as options come from the environment (IOTBILL_API_HOST,
    IOTBILL_API_PORT, IOTBILL_API_WORKERS, IOTBILL_DATABASE_URL, ...; see
    docs/api.md). SIGTERM or Ctrl-C stops it gracefully.
    """
    import os

    from iotbill.entrypoints.api.server import serve
    from iotbill.entrypoints.api.settings import ApiSettings

    open_store(database)  # refuse now, clearly, a store without the schema
    given = {"host": host, "port": port, "workers": workers}
    if database is not None:
        os.environ["IOTBILL_DATABASE_URL"] = database  # the workers read the environment
    for name, value in given.items():
        if value is not None:
            os.environ[f"IOTBILL_API_{name.upper()}"] = str(value)
    serve(ApiSettings())


@keys_app.command("create")
@report_errors
def create_key_command(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. gateway-7.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="A scope it grants: events:write, billing:read, billing:write, admin (repeat).",
        ),
    ],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key; its text is printed this once and cannot be shown again."""
    from iotbill.adapters.clock import SystemClock
    from iotbill.entrypoints.api.routes.keys import key_view
    from iotbill.services.api_keys import create_key

    created = create_key(open_store(database)(tenant), name=name, scopes=scope, clock=SystemClock())
    if as_json:
        typer.echo(json.dumps({**key_view(created.key), "key": created.text}, indent=2))
        return
    typer.echo(created.text)
    typer.echo(
        f"key {created.key.id} of tenant {tenant} ({', '.join(sorted(created.key.scopes))}):"
        " keep it now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
@report_errors
def list_keys_command(
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's keys by the prefix their text starts with (revoked ones too)."""
    from iotbill.entrypoints.api.routes.keys import key_view
    from iotbill.services.api_keys import list_keys

    found = [key_view(key) for key in list_keys(open_store(database)(tenant))]
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for key in found:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        typer.echo(f"{key['prefix']}…\t{key['name']}\t{' '.join(key['scopes'])}\t{state}")


@keys_app.command("revoke")
@report_errors
def revoke_key_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after iotbill_).")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
) -> None:
    """Revoke a key: from now on it opens nothing."""
    from iotbill.adapters.clock import SystemClock
    from iotbill.services.api_keys import revoke_key

    revoked = revoke_key(open_store(database)(tenant), key_id, clock=SystemClock())
    typer.echo(f"revoked key {revoked.id} of tenant {tenant}")
