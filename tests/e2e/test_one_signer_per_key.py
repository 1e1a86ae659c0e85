"""One signer per key, enforced outside the process: real `kraken-gateway serve` processes.

- two gateways on one config and one data_dir: the second stops at once, one line, exit 1;
- two gateways with separate data_dirs and the same Kraken key: the second refuses that account
  (one log line, logons refused with KEY_LEASED) and serves its other account; the simulator,
  which counts validly signed requests per key, sees none with the shared key from it;
- the lock dies with its holder: after kill -9 of the first, a new gateway serves the account.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from krakengw import AsyncClient, ExecType, KrakenGwError
from simulator.accounts import (
    DEMO_BALANCES,
    DEMO_SPOT_KEY,
    DEMO_SPOT_SECRET,
    KEY_PERMISSIONS,
    KrakenAccount,
    KrakenApiKey,
    KrakenTier,
    demo_accounts,
)
from simulator.app import SimulatorServer

TIMEOUT = 60
READY = re.compile(r"listening on (\S+):(\d+)")
OTHER_KEY = "krakengw-sim-other-spot-key"
OTHER_SECRET = base64.b64encode(b"other-secret-for-the-lock-tests-only".ljust(64, b".")).decode()
TOKEN_SHARED = "token-of-the-shared-session-0123456789"
TOKEN_OTHER = "token-of-the-other-session-0123456789"


def _secret(path: Path, value: str) -> str:
    path.write_text(value)
    path.chmod(0o600)
    return path.name


def _config(workdir: Path, sim: SimulatorServer, *, other: bool) -> str:
    """`shared` signs with the demo key; `other` (if asked) with a key of its own."""
    keys = f"""
key_file = "{_secret(workdir / "demo.key", DEMO_SPOT_KEY)}"
secret_file = "{_secret(workdir / "demo.secret", DEMO_SPOT_SECRET)}"
"""
    text = f"""
[server]
data_dir = "data"
key_lock_dir = "locks"
shutdown_grace_s = 2

[kraken]
dead_man_switch = false

[kraken.spot]
rest_url = "{sim.base_url}"
ws_public_url = "{sim.spot_ws_public_url}"
ws_private_url = "{sim.spot_ws_private_url}"
tier = "intermediate"

[accounts.shared]
permissions = ["read", "trade"]
[accounts.shared.spot]
{keys}
[sessions.shared]
account = "shared"
token_file = "{_secret(workdir / "shared.token", TOKEN_SHARED)}"
"""
    if other:
        text += f"""
[accounts.other]
permissions = ["read", "trade"]
[accounts.other.spot]
key_file = "{_secret(workdir / "other.key", OTHER_KEY)}"
secret_file = "{_secret(workdir / "other.secret", OTHER_SECRET)}"

[sessions.other]
account = "other"
token_file = "{_secret(workdir / "other.token", TOKEN_OTHER)}"
"""
    return text


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    accounts = demo_accounts()
    accounts.add_account(
        KrakenAccount(
            account_id="AA00OTHER00001",
            name="other",
            tier=KrakenTier.INTERMEDIATE,
            balances=dict(DEMO_BALANCES),
        )
    )
    accounts.add_key(KrakenApiKey(OTHER_KEY, OTHER_SECRET, "AA00OTHER00001", KEY_PERMISSIONS))
    async with SimulatorServer(host="127.0.0.1", port=0, seed=3, accounts=accounts) as server:
        yield server


async def _start(config: Path, log: Path, *extra: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--config",
            str(config),
            "--listen",
            "127.0.0.1:0",
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
        )


@asynccontextmanager
async def serve(config: Path, log: Path, *extra: str) -> AsyncIterator[tuple[str, int]]:
    """A gateway that must come up; yields (target, pid). Stopped with SIGTERM (or killed)."""
    proc = await _start(config, log, *extra)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        ready = READY.search(line)
        assert ready, f"no ready line: {line!r}; log: {log.read_text()[-2000:]}"
        while not line.startswith("serving "):  # new orders are taken once it reconciled
            line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
            assert line, f"stopped before serving; log: {log.read_text()[-2000:]}"
        yield f"127.0.0.1:{ready.group(2)}", proc.pid
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGCONT)  # in case a test left it stopped
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), TIMEOUT)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def buy(target: str, token: str) -> None:
    """Log on, buy at market and wait for the fill."""
    async with AsyncClient(target, token) as client:
        await client.logon()
        stream = client.stream_executions(0)
        order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"))
        async with asyncio.timeout(TIMEOUT):
            async for report in stream:
                if report.client_order_id == order.client_order_id and (
                    report.exec_type is ExecType.FILL
                ):
                    break
        await stream.aclose()
        await client.logout()


async def test_second_gateway_on_the_same_data_dir_refuses_to_start(
    tmp_path: Path, sim: SimulatorServer
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(_config(tmp_path, sim, other=False))
    async with serve(config, tmp_path / "first.log"):
        second = await _start(config, tmp_path / "second.log")
        stdout, _ = await asyncio.wait_for(second.communicate(), TIMEOUT)
        assert second.returncode == 1
        assert b"listening" not in stdout
        err = (tmp_path / "second.log").read_text().strip()
        assert len(err.splitlines()) == 1, err  # one line, no traceback
        assert err.startswith("kraken-gateway: data_dir ")
        assert "in use by another gateway (pid " in err and "one gateway per data_dir" in err


async def test_same_key_on_separate_data_dirs_is_refused_and_signs_nothing(
    tmp_path: Path, sim: SimulatorServer
) -> None:
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    for d in (first_dir, second_dir):
        d.mkdir()
    # Both gateways use one lock directory (the default is per user; here the tests' own).
    (first_dir / "gateway.toml").write_text(
        _config(first_dir, sim, other=False).replace('"locks"', f'"{tmp_path / "locks"}"')
    )
    (second_dir / "gateway.toml").write_text(
        _config(second_dir, sim, other=True).replace('"locks"', f'"{tmp_path / "locks"}"')
    )
    signed = sim.ctx.spot_auth.signed_requests
    async with serve(first_dir / "gateway.toml", first_dir / "gw.log") as (first, first_pid):
        await buy(first, TOKEN_SHARED)
        assert signed[DEMO_SPOT_KEY] > 0
        # Frozen, the first gateway cannot sign either: every demo-key request from here on
        # until it resumes would be the second gateway's.
        os.kill(first_pid, signal.SIGSTOP)
        demo_before = signed[DEMO_SPOT_KEY]
        async with serve(second_dir / "gateway.toml", second_dir / "gw.log") as (second, _):
            async with AsyncClient(second, TOKEN_SHARED) as client:
                with pytest.raises(KrakenGwError) as refused:
                    await client.logon()
            assert refused.value.reason == "KEY_LEASED"
            assert "another gateway" in refused.value.message
            await buy(second, TOKEN_OTHER)  # its other account serves and signs
            assert signed[OTHER_KEY] > 0
            assert signed[DEMO_SPOT_KEY] == demo_before
        log = (second_dir / "gw.log").read_text()
        assert log.count("account 'shared' refused") == 1, log[-3000:]
        assert DEMO_SPOT_KEY not in log and DEMO_SPOT_SECRET not in log
        os.kill(first_pid, signal.SIGCONT)
        await buy(first, TOKEN_SHARED)  # the holder never noticed


async def test_the_key_lock_dies_with_its_holder(tmp_path: Path, sim: SimulatorServer) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(_config(tmp_path, sim, other=False))
    first = await _start(config, tmp_path / "first.log", "--data-dir", str(tmp_path / "d1"))
    assert first.stdout is not None
    assert READY.search((await asyncio.wait_for(first.stdout.readline(), TIMEOUT)).decode())
    first.kill()
    await first.wait()
    async with serve(config, tmp_path / "second.log", "--data-dir", str(tmp_path / "d2")) as (
        target,
        _,
    ):
        await buy(target, TOKEN_SHARED)
    assert "refused" not in (tmp_path / "second.log").read_text()
