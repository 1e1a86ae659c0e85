"""A fleet of real `kraken-gateway serve` processes on one PostgreSQL and one simulator.

- failover: the gateway serving an account is killed with -9; another takes the account once
  the lease expires, and the client resumes its stream there with every report exactly once
  (checked against the shared journal), then keeps trading with sequences that continue;
- fencing: a gateway frozen (SIGSTOP) past its lease while another takes the account over, then
  resumed (SIGCONT), says so in one line and neither signs (simulator's per-key count) nor
  writes (the shared journal) anything more for it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from krakengw import AsyncClient, ExecutionReport, KrakenGwError, OrdStatus
from simulator.accounts import DEMO_ACCOUNT_ID, DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from tests.e2e.test_one_signer_per_key import OTHER_KEY, OTHER_SECRET, _secret
from tests.e2e.test_one_signer_per_key import sim as sim
from tests.support.postgres import PostgresServer

TIMEOUT = 60
TTL = 2.0
READY = re.compile(r"listening on (\S+):(\d+)")
TOKEN_X = "token-of-session-x-0123456789abcdef"
TOKEN_Y = "token-of-session-y-0123456789abcdef"
RESTING = Decimal("20000")


def _config(
    workdir: Path,
    sim: SimulatorServer,
    pg: PostgresServer,
    url: str,
    cap: int,
    instance: str | None = None,
) -> Path:
    path = workdir / f"fleet-cap{cap}-{instance}.toml"
    named = "" if instance is None else f'instance = "{instance}"\n'

    path.write_text(
        f"""
[server]
data_dir = "data"
shutdown_grace_s = 2
heartbeat_timeout_s = 60

[kraken]
rest_url = "{sim.base_url}"
ws_public_url = "{sim.spot_ws_public_url}"
ws_private_url = "{sim.spot_ws_private_url}"
tier = "intermediate"
dead_man_switch = false

[journal]
url = "{url}"
password_file = "{pg.password_file}"

[fleet]
{named}lease_ttl_s = {TTL}
max_accounts = {cap}

[accounts.x]
permissions = ["read", "trade"]
spot = {{ key_file = "{_secret(workdir / "x.key", DEMO_SPOT_KEY)}", secret_file = "{
            _secret(workdir / "x.secret", DEMO_SPOT_SECRET)
        }" }}

[accounts.y]
permissions = ["read", "trade"]
spot = {{ key_file = "{_secret(workdir / "y.key", OTHER_KEY)}", secret_file = "{
            _secret(workdir / "y.secret", OTHER_SECRET)
        }" }}

[sessions.x]
account = "x"
token_file = "{_secret(workdir / "x.token", TOKEN_X)}"

[sessions.y]
account = "y"
token_file = "{_secret(workdir / "y.token", TOKEN_Y)}"
"""
    )
    return path


@dataclass
class Gateway:
    """One fleet gateway process; its log lines are watched as they come."""

    name: str
    proc: asyncio.subprocess.Process
    target: str = ""
    lines: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, name: str, config: Path, data_dir: Path, listen: str = "127.0.0.1:0"
    ) -> Gateway:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(data_dir),
            "--listen",
            listen,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        gw = cls(name, proc)
        gw._reader = asyncio.create_task(gw._read())
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        ready = READY.search(line)
        assert ready, f"{name} did not start: {line!r}; log: {''.join(gw.lines)[-3000:]}"
        gw.target = f"127.0.0.1:{ready.group(2)}"
        return gw

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace"))
                self._changed.notify_all()

    async def wait_for(self, text: str) -> None:
        try:
            async with asyncio.timeout(TIMEOUT), self._changed:
                await self._changed.wait_for(lambda: any(text in line for line in self.lines))
        except TimeoutError:
            tail = "".join(self.lines[-40:])
            raise AssertionError(
                f"{self.name} never logged {text!r}; its log ends:\n{tail}"
            ) from None

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader


@pytest.fixture
async def fleet(
    tmp_path: Path, sim: SimulatorServer, postgres_server: PostgresServer
) -> AsyncIterator[tuple[list[Gateway], str, dict[int, Path]]]:
    url = postgres_server.create_database()
    configs = {cap: _config(tmp_path, sim, postgres_server, url, cap) for cap in (1, 2)}
    gateways: list[Gateway] = []
    try:
        yield gateways, url, configs
    finally:
        for gw in gateways:
            await gw.stop()
        log = "".join(line for gw in gateways for line in gw.lines)
        assert DEMO_SPOT_SECRET not in log and OTHER_SECRET not in log
        assert postgres_server.password not in log


async def _journal_rows(url: str, pg: PostgresServer, account: str) -> list[tuple[int, str]]:
    async with await psycopg.AsyncConnection.connect(url, password=pg.password) as conn:
        cur = await conn.execute(
            "SELECT seq, exec_id FROM reports WHERE account = %s ORDER BY seq", (account,)
        )
        return [(int(seq), str(exec_id)) for seq, exec_id in await cur.fetchall()]


def _open_orders(sim: SimulatorServer) -> set[str]:
    """Txids of the demo account's open orders at the simulator (x signs with the demo key)."""
    return {o.txid for o in sim.ctx.spot().open_orders(DEMO_ACCOUNT_ID)}


async def _read(stream: AsyncIterator[ExecutionReport], upto: int) -> list[ExecutionReport]:
    got: list[ExecutionReport] = []
    async with asyncio.timeout(TIMEOUT):
        async for report in stream:
            got.append(report)
            if report.sequence >= upto:
                return got
    return got


async def test_failover_after_kill_9_resumes_with_no_gap_and_no_duplicate(
    tmp_path: Path,
    sim: SimulatorServer,
    postgres_server: PostgresServer,
    fleet: tuple[list[Gateway], str, dict[int, Path]],
) -> None:
    gateways, url, configs = fleet
    a = await Gateway.start("a", configs[1], tmp_path / "a")  # takes x (cap 1)
    gateways.append(a)
    await a.wait_for("fleet: serving account 'x'")
    b = await Gateway.start("b", configs[2], tmp_path / "b")  # takes y; x is a's
    gateways.append(b)
    await b.wait_for("fleet: serving account 'y'")

    async with AsyncClient(a.target, TOKEN_X) as client:
        await client.logon()
        resting = []
        for i in range(4):
            if i % 2:
                await client.submit_order("BTC/USD", "buy", Decimal("0.01"))  # fills
            else:
                resting.append(
                    await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
                )
        seen = await _read(client.stream_executions(0, max_batch=0), 4)
    assert [r.sequence for r in seen] == [1, 2, 3, 4]

    a.proc.kill()  # kill -9: no release, the lease must expire
    await a.proc.wait()
    await b.wait_for("fleet: serving account 'x'")
    journaled = await _journal_rows(url, postgres_server, "x")
    last = journaled[-1][0]
    assert [s for s, _ in journaled] == list(range(1, last + 1))

    async with AsyncClient(b.target, TOKEN_X) as client:
        await client.logon()
        stream = client.stream_executions(4, max_batch=0)
        rest = await _read(stream, last)
        canceled = await client.cancel_order(resting[0].client_order_id)
        assert canceled.ord_status is OrdStatus.CANCELED
        later = await _read(stream, last + 2)  # PENDING_CANCEL, CANCELED
        await stream.aclose()
        await client.logout()
    everything = seen + rest + later
    # Every journaled report exactly once, in order, then the new ones right after.
    assert [r.sequence for r in everything] == list(range(1, last + 3))
    assert [r.exec_id for r in seen + rest] == [e for _, e in journaled]
    assert all(r.poss_resend for r in rest)
    assert later[-1].client_order_id == resting[0].client_order_id
    assert later[-1].ord_status is OrdStatus.CANCELED


async def test_a_frozen_gateway_that_lost_its_lease_signs_and_writes_nothing(
    tmp_path: Path,
    sim: SimulatorServer,
    postgres_server: PostgresServer,
    fleet: tuple[list[Gateway], str, dict[int, Path]],
) -> None:
    gateways, url, configs = fleet
    a = await Gateway.start("a", configs[1], tmp_path / "a")
    gateways.append(a)
    await a.wait_for("fleet: serving account 'x'")
    b = await Gateway.start("b", configs[2], tmp_path / "b")
    gateways.append(b)
    await b.wait_for("fleet: serving account 'y'")
    async with AsyncClient(a.target, TOKEN_X) as client:
        await client.logon()
        await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)

    a.proc.send_signal(signal.SIGSTOP)
    await b.wait_for("fleet: serving account 'x'")  # after a's lease expired
    async with AsyncClient(b.target, TOKEN_X) as client:
        await client.logon()
        order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
        assert order.ord_status is OrdStatus.NEW
        await client.logout()
    signed = sim.ctx.spot_auth.signed_requests
    signed_before = signed[DEMO_SPOT_KEY]
    orders_before = _open_orders(sim)
    rows_before = await _journal_rows(url, postgres_server, "x")

    # a wakes up with its WS feed full of b's order events and a client still talking to it.
    a.proc.send_signal(signal.SIGCONT)
    async with AsyncClient(a.target, TOKEN_X) as client:
        with pytest.raises(KrakenGwError):
            await client.logon()
            await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
    await a.wait_for("lost the key lease of account 'x'")
    assert a.count("lost the key lease of account 'x'") == 1
    # b was idle meanwhile: any signed REST request, or any order placed or canceled (over WS
    # too), would be a's.
    assert signed[DEMO_SPOT_KEY] == signed_before
    assert _open_orders(sim) == orders_before
    assert await _journal_rows(url, postgres_server, "x") == rows_before

    async with AsyncClient(b.target, TOKEN_X) as client:  # b serves on
        await client.logon()
        again = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
        assert again.ord_status is OrdStatus.NEW
        await client.logout()
    assert len(_open_orders(sim)) == len(orders_before) + 1
