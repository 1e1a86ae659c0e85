"""`kraken-gateway check-config FILE` and `kraken-gateway --version`, run as the installed
command would run (a real subprocess of `python -m gateway.cli`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPOT_KEY = "kraken-public-key-AbCdEf0123456789"
SPOT_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
TOKEN = "alice-token-0123456789abcdef"

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[accounts.main]
venue = "kraken"
permissions = ["read", "trade"]
spot = { key_file = "spot.key", secret_env = "CHECK_SPOT_SECRET" }

[accounts.main.risk]
max_order_qty = "10"

[sessions.alice]
account = "main"
token_env = "CHECK_ALICE_TOKEN"
"""


def gateway(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=60,
    )


def write_config(tmp_path: Path, text: str = CONFIG, key_mode: int = 0o600) -> Path:
    key = tmp_path / "spot.key"
    key.write_text(SPOT_KEY + "\n")
    key.chmod(key_mode)
    config = tmp_path / "gateway.toml"
    config.write_text(text)
    return config


SECRETS_ENV = {"CHECK_SPOT_SECRET": SPOT_SECRET, "CHECK_ALICE_TOKEN": TOKEN}


def assert_no_secret(text: str) -> None:
    for secret in (SPOT_KEY, SPOT_SECRET, TOKEN):
        assert secret not in text


def test_valid_config_prints_effective_accounts_and_sessions_masked(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    run = gateway("check-config", str(config), cwd=tmp_path, env=SECRETS_ENV)
    assert run.returncode == 0, run.stderr
    assert_no_secret(run.stdout + run.stderr)
    assert "config ok" in run.stdout
    assert "max_order_qty: 10" in run.stdout
    shown = json.loads(
        gateway("check-config", str(config), "--json", cwd=tmp_path, env=SECRETS_ENV).stdout
    )
    account = shown["accounts"]["main"]
    assert account["venue"] == "kraken" and account["permissions"] == ["READ", "TRADE"]
    assert account["spot_key"]["key"] == "***" and account["spot_key"]["secret"] == "***"
    assert len(account["spot_key"]["fingerprint"]) == 12
    assert shown["sessions"]["alice"] == {
        "session_id": "alice",
        "account": "main",
        "token": "set",
        "permissions": ["READ", "TRADE"],
        "token_expires": None,
    }
    assert shown["server"]["data_dir"] == str(tmp_path / "data")


def test_missing_secret_is_a_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    run = gateway("check-config", str(config), cwd=tmp_path, env={"CHECK_ALICE_TOKEN": TOKEN})
    assert run.returncode == 1
    assert "CHECK_SPOT_SECRET" in run.stderr and run.stdout == ""


def test_group_readable_key_file_is_a_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path, key_mode=0o640)
    run = gateway("check-config", str(config), cwd=tmp_path, env=SECRETS_ENV)
    assert run.returncode == 1 and "chmod 600" in run.stderr
    assert_no_secret(run.stdout + run.stderr)


def test_unknown_account_and_bad_toml_and_missing_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG.replace('account = "main"', 'account = "nobody"'))
    run = gateway("check-config", str(config), cwd=tmp_path, env=SECRETS_ENV)
    assert run.returncode == 1 and "nobody" in run.stderr
    config.write_text("[server\n")
    assert gateway("check-config", str(config), cwd=tmp_path).returncode == 1
    assert gateway("check-config", str(tmp_path / "absent.toml"), cwd=tmp_path).returncode == 1


def test_unwritable_data_dir_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the journal directory should be")
    config = write_config(tmp_path)
    run = gateway("check-config", str(config), cwd=tmp_path, env=SECRETS_ENV)
    assert run.returncode == 1 and "data_dir" in run.stderr


def test_shipped_examples_are_valid(tmp_path: Path) -> None:
    run = gateway("check-config", str(REPO / "examples" / "simulator.toml"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "audit:" in run.stdout


def test_version(tmp_path: Path) -> None:
    run = gateway("--version", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.startswith("kraken-gateway ") and run.stdout.split()[1][0].isdigit()
