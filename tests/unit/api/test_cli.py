"""`kraken-gateway` argument handling that needs no running server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway import cli
from gateway.config import AccountVenue
from gateway.core.model import Permission


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [
        ("127.0.0.1:0", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("0.0.0.0:50051", False),
        ("10.1.2.3:1", False),
        ("example.com:1", False),
    ],
)
def test_loopback_detection(listen: str, loopback: bool) -> None:
    assert cli._is_loopback(listen) is loopback


def test_serve_without_config_refuses_a_public_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--listen", "0.0.0.0:50051"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_serve_reports_a_bad_config_without_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "gateway.toml"
    bad.write_text("[server]\nheartbeat_interval_s = -1\n")
    assert cli.main(["serve", "--config", str(bad)]) == 2
    assert "heartbeat_interval_s" in capsys.readouterr().err


def test_dev_config_has_one_simulator_session_with_every_permission(tmp_path: Path) -> None:
    config = cli.dev_config("127.0.0.1:0", tmp_path, "tok-123456789012345")
    session = config.sessions["demo"]
    account = config.accounts[session.account]
    assert account.venue is AccountVenue.SIMULATOR and account.spot_key is None
    assert session.permissions == frozenset(Permission)
    assert session.token_sha256 == hashlib.sha256(b"tok-123456789012345").digest()


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "serve" in capsys.readouterr().out
