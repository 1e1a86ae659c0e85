"""Acceptance: 10 sessions on 10 Kraken Futures keys trade concurrently through the gRPC gateway
against the simulator with its rate limits on: Kraken never answers `apiLimitExceeded` (the
gateway's governor paces each key's /derivatives budget) and every fill reaches its session's
execution stream exactly once, as many as the venue made.

Full size is 300 orders per session (about a minute: 300 sendorders cost 3000 units of a budget
draining 50 per second); `SOAK=short` (CI) runs 30 per session.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from krakengw import AsyncClient, ExecType, ExecutionReport, OrdStatus
from simulator.app import SimulatorServer
from simulator.futures.limits import KrakenFuturesBudget
from simulator.futures.venue import futures_venue
from tests.integration.venues.kraken.futures.conftest import (
    futures_accounts,
    futures_gateway,
    futures_key,
)
from tests.secret_scan import register_secret

SESSIONS = 10
FULL_ORDERS = 300
SHORT_ORDERS = 30
IN_FLIGHT = 4  # orders one session keeps outstanding
FUT = "krakenfutures"
PERP = "BTC/USD:USD"
QTY = Decimal("0.01")
NAMES = [f"fsoak{i:02d}" for i in range(SESSIONS)]
SETTLE_S = 120.0
for _name in NAMES:
    register_secret(futures_key(_name)[1])  # the suite-wide log scan fails on any leak

ACCOUNT = """
[accounts.@N@]
permissions = ["read", "trade"]
futures = { key_env = "KEY_@N@", secret_env = "SECRET_@N@" }

[sessions.@N@]
account = "@N@"
token_env = "TOKEN_@N@"
"""


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=11, accounts=futures_accounts(NAMES)
    ) as server:
        yield server


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key the simulator refused a spend to (its `apiLimitExceeded`)."""
    refused: list[str] = []
    spend = KrakenFuturesBudget.spend

    def counting(self: KrakenFuturesBudget, api_key: str, cost: float, now: float) -> bool:
        ok = spend(self, api_key, cost, now)
        if not ok:
            refused.append(api_key)
        return ok

    monkeypatch.setattr(KrakenFuturesBudget, "spend", counting)
    return refused


async def _session(target: str, token: str, name: str, orders: int) -> list[ExecutionReport]:
    """`orders` market orders (alternating sides), then the stream until each is FILLED."""
    async with AsyncClient(target, token, timeout=SETTLE_S) as client:
        info = await client.logon()
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(i: int) -> None:
            async with gate:
                await client.submit_order(
                    PERP,
                    "buy" if i % 2 else "sell",
                    QTY,
                    order_type="MARKET",
                    client_order_id=f"{name}-{i}",
                    venue=FUT,
                )

        await asyncio.gather(*(one(i) for i in range(orders)))
        pending = {f"{name}-{i}" for i in range(orders)}
        seen: list[ExecutionReport] = []
        async with asyncio.timeout(SETTLE_S):
            async for report in client.stream_executions(info.last_sequence):
                seen.append(report)
                assert report.exec_type is not ExecType.REJECTED, report
                if report.ord_status is OrdStatus.FILLED:
                    pending.discard(report.client_order_id)
                if not pending:
                    return seen
        raise AssertionError(f"{name}: stream ended with {len(pending)} orders unfilled")


async def _soak(sim: SimulatorServer, tmp_path: Path, orders: int, refused: list[str]) -> None:
    tokens = {n: f"tok-{secrets.token_urlsafe(24)}" for n in NAMES}
    accounts_toml = ""
    env: dict[str, str] = {}
    for n in NAMES:
        accounts_toml += ACCOUNT.replace("@N@", n)
        env[f"KEY_{n}"], env[f"SECRET_{n}"] = futures_key(n)
        env[f"TOKEN_{n}"] = tokens[n]
    async with futures_gateway(sim, tmp_path, accounts_toml, env) as target:
        per_session = await asyncio.gather(*(_session(target, tokens[n], n, orders) for n in NAMES))
    assert refused == [], f"{len(refused)} apiLimitExceeded answers"
    engine = futures_venue(sim.ctx).engine
    accounts = {n: f"FF{i:012d}" for i, n in enumerate(NAMES)}  # as futures_accounts numbers them
    for name, reports in zip(NAMES, per_session, strict=True):
        trade_ids = [r.trade_id for r in reports if r.exec_type is ExecType.FILL]
        assert len(trade_ids) == len(set(trade_ids)), f"{name}: a fill was reported twice"
        # As many fills as the venue made for this key: none lost, none invented.
        assert len(trade_ids) == len(engine.fills(accounts[name], limit=None)), name
        filled = {r.client_order_id for r in reports if r.ord_status is OrdStatus.FILLED}
        assert filled == {f"{name}-{i}" for i in range(orders)}


@pytest.mark.slow
async def test_ten_futures_keys_never_hit_kraken_rate_limits_and_fill_once(
    sim: SimulatorServer, tmp_path: Path, refusals: list[str]
) -> None:
    orders = SHORT_ORDERS if os.environ.get("SOAK") == "short" else FULL_ORDERS
    await _soak(sim, tmp_path, orders, refusals)
