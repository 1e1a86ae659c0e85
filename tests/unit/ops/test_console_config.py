"""`[console]` config, the console's admin token check, and `serve`'s operator flags."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pytest

from gateway import cli
from gateway.config import ConfigError, parse_config
from gateway.console.auth import AdminAuth

TOKEN = "console-admin-token-0123456789"


def test_console_is_off_by_default_and_read_only_without_a_token(tmp_path: Path) -> None:
    config = parse_config({}, tmp_path)
    assert config.console.listen is None and config.console.admin_token_sha256 is None
    config = parse_config({"console": {"listen": "127.0.0.1:8080"}}, tmp_path)
    assert config.console.listen == "127.0.0.1:8080"
    assert not AdminAuth(config.console.admin_token_sha256).check(f"Bearer {TOKEN}")


def test_admin_token_from_env_file_or_digest(tmp_path: Path) -> None:
    digest = hashlib.sha256(TOKEN.encode()).digest()
    by_env = parse_config({"console": {"admin_token_env": "ADM"}}, tmp_path, environ={"ADM": TOKEN})
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    by_file = parse_config({"console": {"admin_token_file": "admin.token"}}, tmp_path)
    by_digest = parse_config({"console": {"admin_token_sha256": digest.hex()}}, tmp_path)
    for config in (by_env, by_file, by_digest):
        auth = AdminAuth(config.console.admin_token_sha256)
        assert auth.check(f"Bearer {TOKEN}")
        assert not auth.check(f"Bearer {TOKEN}x") and not auth.check(TOKEN)
        assert not auth.check(None) and not auth.check("Bearer ")
        assert TOKEN not in repr(config) and TOKEN not in repr(auth)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"listen": "nowhere"}, "HOST:PORT"),
        ({"admin_token_sha256": "abc"}, "64 hex"),
        ({"admin_token_env": "ADM", "admin_token_sha256": "0" * 64}, "at most one"),
        ({"admin_token_env": "SHORT"}, "too short"),
        ({"admin_token": "inline"}, "unknown key"),
    ],
)
def test_bad_console_tables_are_refused(table: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"console": table}, Path("."), environ={"SHORT": "x", "ADM": TOKEN})


def _args(**over: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "config": None, "listen": None, "data_dir": None, "metrics": None, "console": None,
    }  # fmt: skip
    base.update(over)
    return argparse.Namespace(**base)


def test_serve_flags_override_and_stay_on_loopback_without_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cli.CONSOLE_TOKEN_ENV, TOKEN)
    config = cli._resolve_config(_args(metrics="127.0.0.1:9464", console="127.0.0.1:0"), tmp_path)
    assert config.server.metrics_listen == "127.0.0.1:9464"
    assert config.console.listen == "127.0.0.1:0"
    assert AdminAuth(config.console.admin_token_sha256).check(f"Bearer {TOKEN}")
    with pytest.raises(ConfigError, match="loopback"):
        cli._resolve_config(_args(console="0.0.0.0:8080"), tmp_path)
    with pytest.raises(ConfigError, match="loopback"):
        cli._resolve_config(_args(metrics="0.0.0.0:9464"), tmp_path)


def test_tracing_is_off_by_default_and_validated(tmp_path: Path) -> None:
    assert parse_config({}, tmp_path).tracing.exporter is None
    config = parse_config(
        {"tracing": {"exporter": "otlp", "endpoint": "http://127.0.0.1:4318/v1/traces"}}, tmp_path
    )
    assert (config.tracing.exporter, config.tracing.endpoint) == (
        "otlp",
        "http://127.0.0.1:4318/v1/traces",
    )
    with pytest.raises(ConfigError, match="console or otlp"):
        parse_config({"tracing": {"exporter": "jaeger"}}, tmp_path)
    with pytest.raises(ConfigError, match="URL"):
        parse_config({"tracing": {"exporter": "otlp", "endpoint": "localhost"}}, tmp_path)
    flagged = cli._resolve_config(_args(tracing="console", tracing_endpoint=None), tmp_path)
    assert flagged.tracing.exporter == "console"
