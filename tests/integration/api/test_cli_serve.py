"""`kraken-gateway serve` in-process, failing to bind: a clean message and exit code 1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway import cli


def test_serve_on_a_taken_port_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = cli.main(["serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path)])
    assert code == 1
    assert "cannot listen" in capsys.readouterr().err
