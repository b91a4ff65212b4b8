"""Progress bars: drawn on a terminal's standard error, never with --json, never when piped."""

from __future__ import annotations

import io

import pytest

from iotbill.entrypoints.cli.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("terminal", "enabled", "drawn"), [
    (True, True, True), (True, False, False), (False, True, False),
])  # fmt: skip
def test_a_bar_is_drawn_only_on_a_terminal_and_when_enabled(
    monkeypatch: pytest.MonkeyPatch, terminal: bool, enabled: bool, drawn: bool
) -> None:
    stderr = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    with progress_bar("billing subscriptions", 4, enabled=enabled) as advance:
        for done in range(1, 5):
            advance(done)
    assert ("billing subscriptions" in stderr.getvalue()) is drawn
    assert bool(stderr.getvalue()) is drawn
