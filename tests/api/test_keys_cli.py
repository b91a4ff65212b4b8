"""``iotbill keys create|list|revoke``: the key shown once, listed by prefix, stored hashed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotbill.adapters.storage.sql import tables
from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.domain.api_keys import digest, split_key
from iotbill.entrypoints.cli import app


def test_keys_from_the_command_line(tmp_path: Path) -> None:
    database = str(tmp_path / "keys.db")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--database", database])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("db", "upgrade")
    run("tenants", "add", "acme")
    text = run("keys", "create", "--tenant", "acme", "--name", "gw", "--scope", "events:write")
    key = text.strip().splitlines()[0]
    parts = split_key(key)
    assert parts is not None
    key_id, secret = parts
    listed = json.loads(run("keys", "list", "--tenant", "acme", "--json"))
    assert [(k["id"], k["prefix"], k["scopes"], k["revoked_at"]) for k in listed] == [
        (key_id, f"iotbill_{key_id}_", ["events:write"], None)
    ]
    assert secret not in json.dumps(listed)
    engine = create_engine_for(f"sqlite:///{database}")
    with engine.connect() as connection:
        [row] = connection.execute(tables.api_keys.select()).all()
    engine.dispose()
    assert (row.secret_digest, secret in str(tuple(row))) == (digest(secret), False)

    assert (
        run("keys", "revoke", "--tenant", "acme", key_id)
        == f"revoked key {key_id} of tenant acme\n"
    )
    assert (
        json.loads(run("keys", "list", "--tenant", "acme", "--json"))[0]["revoked_at"] is not None
    )
    again = runner.invoke(
        app, ["keys", "revoke", "--tenant", "acme", key_id, "--database", database]
    )
    assert again.exit_code == 4  # a conflict: revoked already
    other = runner.invoke(
        app, ["keys", "revoke", "--tenant", "default", key_id, "--database", database]
    )
    assert other.exit_code == 3  # another tenant's key is not found
    bad = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--tenant",
            "acme",
            "--name",
            "x",
            "--scope",
            "root",
            "--database",
            database,
        ],
    )
    assert bad.exit_code == 2 and "unknown scope 'root'" in bad.output
