"""`kraken-gateway serve` trading through the Kraken Spot adapter, as a real process:

- no config: it embeds the local Kraken simulator (demo keys) and prints its URLs; a client's
  marketable order comes back filled;
- a config with two `simulator` accounts: each trades on its own simulator account;
- a config with Kraken keys and `[kraken]` URLs: it signs with those keys at those URLs (here a
  simulator the test runs, standing in for Kraken);
- a config mixing venue kinds is refused before anything starts.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from gateway import cli
from gateway.cli import DEV_TOKEN
from krakengw import AsyncClient, ExecType, ExecutionReport
from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer

TIMEOUT = 60
READY = re.compile(r"listening on (\S+):(\d+)")
TOKEN_B = "e2e-token-for-session-b-0123456789"


@asynccontextmanager
async def serve(workdir: Path, *args: str) -> AsyncIterator[tuple[str, str]]:
    """A `serve` process; yields (gateway target, everything it printed up to readiness)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KRAKENGW_TOKEN", None)
    log = workdir / "serve.log"
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--listen",
            "127.0.0.1:0",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=workdir,
            env=env,
        )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        ready = READY.search(first)
        assert ready, f"no ready line: {first!r}; log: {log.read_text()[-2000:]}"
        printed = first
        # The simulator's URLs follow the ready line; `serving` once it reconciled.
        while "\nserving " not in printed:
            line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
            assert line, f"stdout ended early: {printed!r}; log: {log.read_text()[-2000:]}"
            printed += line
        yield f"127.0.0.1:{ready.group(2)}", printed
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = log.read_text()
    assert "journal closed" in text
    assert DEMO_SPOT_SECRET not in text


async def buy_and_see_fill(target: str, token: str, qty: str = "0.01") -> ExecutionReport:
    async with AsyncClient(target, token) as client:
        await client.logon()
        stream = client.stream_executions(0)
        order = await client.submit_order("BTC/USD", "buy", Decimal(qty))
        fill: ExecutionReport | None = None
        async with asyncio.timeout(TIMEOUT):
            async for report in stream:
                if report.client_order_id == order.client_order_id and (
                    report.exec_type is ExecType.FILL
                ):
                    fill = report
                    break
        await stream.aclose()
        await client.logout()
    assert fill is not None
    assert fill.cum_qty == Decimal(qty) and fill.leaves_qty == 0
    assert fill.last_px is not None and fill.last_px > 0
    assert fill.fee is not None and fill.fee.amount > 0
    return fill


async def btc_balance(target: str, token: str) -> Decimal:
    async with AsyncClient(target, token) as client:
        await client.logon()
        # The simulator accounts also trade Futures: its wallets list BTC too.
        balances = {b.asset: b.total for b in await client.list_balances() if b.wallet == "spot"}
        await client.logout()
    return balances["BTC"]


def _secret(path: Path, value: str) -> str:
    path.write_text(value)
    path.chmod(0o600)
    return path.name


async def test_serve_without_config_trades_on_the_embedded_simulator(tmp_path: Path) -> None:
    async with serve(tmp_path) as (target, printed):
        assert re.search(r"spot_rest\s+http://127\.0\.0\.1:\d+", printed), printed
        assert re.search(r"spot_ws_private\s+ws://127\.0\.0\.1:\d+/ws-auth/v2", printed)
        async with AsyncClient(target, DEV_TOKEN) as client:
            await client.logon()
            symbols = {i.symbol for i in await client.list_instruments()}
            assert {"BTC/USD", "ETH/USD"} <= symbols
            await client.logout()
        await buy_and_see_fill(target, DEV_TOKEN)
    assert DEV_TOKEN not in (tmp_path / "serve.log").read_text()
    # The journal lived in a temporary directory, not in the working directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serve.log"]


async def test_two_simulator_accounts_trade_on_their_own_simulator_accounts(
    tmp_path: Path,
) -> None:
    (tmp_path / "gateway.toml").write_text(
        f"""
[server]
data_dir = "data"
shutdown_grace_s = 2

[accounts.a]
venue = "simulator"
permissions = ["read", "trade"]

[accounts.b]
venue = "simulator"
permissions = ["read", "trade"]

[sessions.a]
account = "a"
token_env = "E2E_TOKEN_A"

[sessions.b]
account = "b"
token_file = "{_secret(tmp_path / "b.token", TOKEN_B)}"
"""
    )
    token_a = "e2e-token-for-session-a-0123456789"
    os.environ["E2E_TOKEN_A"] = token_a
    try:
        async with serve(tmp_path, "--config", "gateway.toml") as (target, _):
            before_b = await btc_balance(target, TOKEN_B)
            await buy_and_see_fill(target, token_a, "0.02")
            assert await btc_balance(target, TOKEN_B) == before_b  # a's fill is not b's
            await buy_and_see_fill(target, TOKEN_B, "0.03")
            assert await btc_balance(target, TOKEN_B) == before_b + Decimal("0.03")
    finally:
        del os.environ["E2E_TOKEN_A"]
    log = (tmp_path / "serve.log").read_text()
    assert token_a not in log and TOKEN_B not in log


async def test_kraken_keys_and_configured_urls(tmp_path: Path) -> None:
    async with SimulatorServer(host="127.0.0.1", port=0, seed=5) as venue:
        (tmp_path / "gateway.toml").write_text(
            f"""
[server]
data_dir = "data"
shutdown_grace_s = 2

[kraken]
dead_man_switch = false

[kraken.spot]
rest_url = "{venue.base_url}"
ws_public_url = "{venue.spot_ws_public_url}"
ws_private_url = "{venue.spot_ws_private_url}"
tier = "intermediate"

[accounts.main]
permissions = ["read", "trade"]
spot = {{ key_file = "{_secret(tmp_path / "spot.key", DEMO_SPOT_KEY)}", secret_file = "{
                _secret(tmp_path / "spot.secret", DEMO_SPOT_SECRET)
            }" }}

[sessions.main]
account = "main"
token_file = "{_secret(tmp_path / "main.token", TOKEN_B)}"
"""
        )
        async with serve(tmp_path, "--config", "gateway.toml") as (target, printed):
            assert "simulator" not in printed  # nothing embedded: the config names the venue
            # The only venue this gateway knows is the one at the configured URLs.
            await buy_and_see_fill(target, TOKEN_B)


def test_mixing_venue_kinds_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[accounts.p]\nvenue = "paper"\n[accounts.s]\nvenue = "simulator"\n'
        f'[sessions.p]\naccount = "p"\ntoken_file = "{_secret(tmp_path / "t", TOKEN_B)}"\n'
    )
    assert cli.main(["serve", "--config", str(config)]) == 2
    assert "different venues" in capsys.readouterr().err
