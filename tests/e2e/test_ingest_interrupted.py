"""Ctrl-C during ``iotbill ingest``: the batches committed stay, whole; one line says how
many events they stored; exit 130; ingesting the file again stores exactly the rest."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app
from tests.conftest import run_iotbill

LINES = 30_000  # about 3.3 MB; ingest reads a stretch (1 MiB) at a time


def _events() -> bytes:
    return b"".join(
        b'{"id": "e%06d", "type": "pump.flow", "device": "pump-1",'
        b' "timestamp": "2026-01-05T00:00:00Z", "properties": {"m3": 1}}\n' % number
        for number in range(LINES)
    )


def _stored(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM usage_events").fetchone()[0])


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_what_was_committed_and_says_how_much(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    store = ["--database", str(database)]
    for command in (
        ["db", "upgrade"],
        ["customers", "add", "acme", "--currency", "USD", "--timezone", "UTC"],
        ["devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01"],
    ):
        assert CliRunner().invoke(app, [*command, *store]).exit_code == 0
    events = _events()
    ingest = subprocess.Popen(
        [sys.executable, "-m", "iotbill.entrypoints.cli", "ingest", "-", *store],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl-C as at a terminal, even when this suite runs where SIGINT is ignored (in the
        # background of a shell), which a child would inherit.
        preexec_fn=_interruptible,
    )
    assert ingest.stdin is not None
    # Two thirds (over 2 MiB: the first stretch and the read after it), and the pipe stays
    # open: ingest stores the first stretch, then waits for the rest, which never comes (given
    # the whole file, a fast machine could store all of it before the signal).
    sent = LINES * 2 // 3
    ingest.stdin.write(b"".join(events.splitlines(keepends=True)[:sent]))
    ingest.stdin.flush()
    waited = 0
    while _stored(database) == 0 and waited < 600:  # the first stretch is committed
        time.sleep(0.1)
        waited += 1

    ingest.send_signal(signal.SIGINT)
    stdout, stderr = ingest.communicate(timeout=120)

    stored = _stored(database)
    assert 0 < stored <= sent
    assert ingest.returncode == 130
    assert stdout == b""
    assert stderr.decode() == (
        f"interrupted: {stored:,} events stored before stopping, each batch whole (none with"
        " --atomic); ingest the same file again to store the rest\n"
    )
    (tmp_path / "events.jsonl").write_bytes(events)
    again = run_iotbill("ingest", str(tmp_path / "events.jsonl"), *store)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == (
        f"{LINES - stored:,} accepted, {stored:,} duplicates, 0 conflicts, 0 rejected\n"
    )
    assert _stored(database) == LINES
