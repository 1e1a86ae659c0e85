"""Every log record of a full server run, at DEBUG, free of API keys, secrets and tokens;
reprs of the loaded config too; and the masking formatter as the last line of defence."""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.logging_setup import MaskingFormatter
from krakengw import AsyncClient, KrakenGwError
from tests.integration.api.conftest import CountingVenue, counting_factory

CONFIG = """
[server]
heartbeat_interval_s = 0.2

[accounts.keyed]
permissions = ["read", "trade", "drop_copy"]
spot = { key_file = "spot.key", secret_file = "spot.secret" }
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[sessions.s1]
account = "keyed"
token_file = "s1.token"
"""


def _secret_file(path: Path, value: str) -> None:
    path.write_text(value)
    path.chmod(0o600)


async def test_full_run_logs_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    values = {
        "spot_key": f"SPOTKEY{secrets.token_hex(16)}",
        "spot_secret": secrets.token_urlsafe(48),
        "fut_key": f"FUTKEY{secrets.token_hex(16)}",
        "fut_secret": secrets.token_urlsafe(48),
        "token": f"tok-{secrets.token_urlsafe(24)}",
        "bad_token": f"bad-{secrets.token_urlsafe(24)}",
    }
    _secret_file(tmp_path / "spot.key", values["spot_key"])
    _secret_file(tmp_path / "spot.secret", values["spot_secret"])
    _secret_file(tmp_path / "s1.token", values["token"])
    (tmp_path / "gateway.toml").write_text(CONFIG)
    env = {"FUT_KEY": values["fut_key"], "FUT_SECRET": values["fut_secret"]}
    caplog.set_level(logging.DEBUG)

    config = load_config(tmp_path / "gateway.toml", environ=env)
    venues: dict[str, CountingVenue] = {}
    app = await GatewayApp.build(config, venues=counting_factory(venues))
    port = await app.start("127.0.0.1:0")
    target = f"127.0.0.1:{port}"
    try:
        async with AsyncClient(target, values["token"]) as client:
            await client.logon(cancel_on_disconnect=True)
            await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=40000)
            await client.submit_order("BTC/USD", "sell", Decimal("0.01"), price=40000)
            with pytest.raises(KrakenGwError):
                await client.submit_order("NOPE/USD", "buy", Decimal("1"), price=1)
            with pytest.raises(KrakenGwError):
                await client.logon()
            stream = client.stream_executions(0)
            await stream.__anext__()
            await stream.aclose()
            await client.engage_kill_switch("log test")
            await client.logout()
        async with AsyncClient(target, values["bad_token"]) as intruder:
            with pytest.raises(KrakenGwError) as err:
                await intruder.logon()
            assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
    finally:
        await app.stop()

    captured = caplog.text + "".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    captured += repr(config) + str(config) + repr(config.accounts) + repr(app.sessions)
    assert "session logon" in captured  # the capture did see the run
    for name, value in values.items():
        assert value not in captured, f"{name} leaked into logs or reprs"


def test_masking_formatter_masks_messages_extras_and_tracebacks() -> None:
    secret = "s3cr3t-value-xyz"
    formatter = MaskingFormatter([secret, "abc"])  # too-short strings are not masked
    try:
        raise RuntimeError(f"venue said {secret}")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "call %s failed", (secret,), (type(exc), exc, None)
        )
    record.detail = secret
    line = formatter.format(record)
    assert secret not in line
    assert line.count("***") >= 3
