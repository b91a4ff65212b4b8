"""``iotbill serve`` (the HTTP API) and ``iotbill keys create|list|revoke`` (its API keys)."""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_command, store_group

keys_app = store_group(help="API keys of a tenant: shown once, stored hashed, listed by prefix.")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to ``app``."""
    app.command("serve")(store_command(serve_command, for_tenant=False, json_output=False))
    app.add_typer(keys_app, name="keys")


def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes (default 1).")
    ] = None,
) -> None:
    """Serve the HTTP API (docs at /docs, schema at /openapi.json) until stopped.

    Settings not given as options come from the environment (IOTBILL_API_HOST,
    IOTBILL_API_PORT, IOTBILL_API_WORKERS, IOTBILL_DATABASE_URL, ...; see
    docs/api.md). SIGTERM or Ctrl-C stops it gracefully.
    """
    import os

    from iotbill.entrypoints.api.server import serve
    from iotbill.entrypoints.api.settings import ApiSettings

    current = session()
    current.uow_factory  # noqa: B018 (refuse now, clearly, a store without the schema)
    given = {"host": host, "port": port, "workers": workers}
    # The workers read the environment: the store this command was given goes there.
    os.environ["IOTBILL_DATABASE_URL"] = current.settings.database_url
    for name, value in given.items():
        if value is not None:
            os.environ[f"IOTBILL_API_{name.upper()}"] = str(value)
    code = serve(ApiSettings())
    if code:
        raise typer.Exit(code)


@keys_app.command("create")
def create_key_command(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. gateway-7.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="A scope it grants: events:write, billing:read, billing:write, admin (repeat).",
        ),
    ],
    party: Annotated[
        str | None,
        typer.Option(
            "--party",
            help="A customer the key acts for alone (a data buyer, a grid operator): it sees"
            " that customer's objects only; billing:read and billing:write scopes only.",
        ),
    ] = None,
) -> None:
    """Create a key; its text is printed this once and cannot be shown again.

    Exit codes: 0 ok, 2 invalid input, 3 unknown party."""
    from iotbill.entrypoints.api.routes.keys import key_view
    from iotbill.services.api_keys import create_key

    current = session()
    created = create_key(current.uow(), name=name, scopes=scope, clock=current.clock, party=party)

    def print_key() -> None:
        typer.echo(created.text)
        typer.echo(
            f"key {created.key.id} of tenant {current.tenant}"
            + ("" if party is None else f" acting for {party} alone")
            + f" ({', '.join(sorted(created.key.scopes))}): keep it now, it is not shown again",
            err=True,
        )

    current.emit({**key_view(created.key), "key": created.text}, print_key)


@keys_app.command("list")
def list_keys_command() -> None:
    """List the tenant's keys by the prefix their text starts with (revoked ones too)."""
    from iotbill.entrypoints.api.routes.keys import key_view
    from iotbill.services.api_keys import list_keys

    current = session()
    found = [key_view(key) for key in list_keys(current.uow())]
    current.emit(
        found,
        "\n".join(
            f"{key['prefix']}…\t{key['name']}\t{' '.join(key['scopes'])}\t"
            + (f"revoked {key['revoked_at']}" if key["revoked_at"] else "active")
            for key in found
        )
        or None,
    )


@keys_app.command("revoke")
def revoke_key_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after iotbill_).")],
) -> None:
    """Revoke a key: from now on it opens nothing."""
    from iotbill.entrypoints.api.routes.keys import key_view
    from iotbill.services.api_keys import revoke_key

    current = session()
    revoked = revoke_key(current.uow(), key_id, clock=current.clock)
    current.emit(key_view(revoked), f"revoked key {revoked.id} of tenant {current.tenant}")
