"""kill -9 between the venue's accept and the journal commit of the outcome, over and over: after
each restart, every order live at the venue is tracked by the gateway and owned by its session.

A real `kraken-gateway serve` runs with the test-only crash point
`KRAKENGW_TEST_CRASH_AT=after-venue-accept` against a simulator the test runs (so the venue
outlives the gateway). Each cycle starts the gateway on the same data_dir, checks the order the
previous process died on (its session lists it, live, with its client order id and venue id;
its stream replays a report of it; the session can cancel it), checks that every open order of
the key at the simulator is one of the session's open orders, then places the next order, which
kills the process once Kraken has accepted it. Cycles alternate Kraken Spot and Futures.

SOAK=short: 5 cycles. Full: 200.
"""

from __future__ import annotations

import asyncio
import secrets
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from gateway.core.crash_points import CRASH_AT_ENV
from krakengw import AsyncClient, KrakenGwError, OrdStatus
from simulator.app import SimulatorServer
from tests.e2e.chaos_support import SOAK_SHORT
from tests.e2e.conftest import GatewayProcess
from tests.integration.venues.kraken.futures.conftest import (
    futures_accounts,
    futures_key,
    spot_key,
)

TRADER = "ftrader"
CYCLES = 5 if SOAK_SHORT else 200
WAIT_S = 30.0
PENDING = {OrdStatus.PENDING_NEW, OrdStatus.PENDING_CANCEL, OrdStatus.PENDING_REPLACE}
# (venue, symbol, quantity, tick): resting buys 5% under the bid, one tick apart per cycle.
MARKETS = (
    ("kraken", "BTC/USD", Decimal("0.001"), Decimal("0.1")),
    ("krakenfutures", "BTC/USD:USD", Decimal("0.001"), Decimal("1")),
)


def _write_config(workdir: Path, sim: SimulatorServer, token: str) -> None:
    files = {
        "spot.key": spot_key(TRADER)[0],
        "spot.secret": spot_key(TRADER)[1],
        "futures.key": futures_key(TRADER)[0],
        "futures.secret": futures_key(TRADER)[1],
        "trader.token": token,
    }
    for name, value in files.items():
        (workdir / name).write_text(value)
        (workdir / name).chmod(0o600)
    (workdir / "gateway.toml").write_text(
        f"""
[server]
data_dir = "data"
heartbeat_interval_s = 1
heartbeat_timeout_s = 30
shutdown_grace_s = 2

[kraken]
dead_man_switch = false

[kraken.spot]
rest_url = "{sim.base_url}"
ws_public_url = "{sim.spot_ws_public_url}"
ws_private_url = "{sim.spot_ws_private_url}"
tier = "pro"

[kraken.futures]
rest_url = "{sim.base_url}"
ws_url = "{sim.futures_ws_url}"

[accounts.main]
permissions = ["read", "trade", "cancel_only"]
spot = {{ key_file = "spot.key", secret_file = "spot.secret" }}
futures = {{ key_file = "futures.key", secret_file = "futures.secret" }}

[sessions.trader]
account = "main"
token_file = "trader.token"
"""
    )


def _live_at_venue(sim: SimulatorServer) -> dict[str, str]:
    """Venue order id -> venue of every open order of the trader's keys at the simulator."""
    found = sim.ctx.accounts.by_name_or_id(TRADER)
    assert found is not None
    account = found.account_id
    live = {o.txid: "kraken" for o in sim.ctx.spot().open_orders(account)}
    futures = sim.ctx.futures_engine
    assert futures is not None
    live.update({o.order_id: "krakenfutures" for o in futures.open_orders(account)})
    return live


async def _replayed(client: AsyncClient, client_order_id: str) -> bool:
    """Whether the session's stream, replayed from the start, reports `client_order_id` in a
    settled (not pending) state."""
    async with asyncio.timeout(WAIT_S):
        async for report in client.stream_executions(0):
            if report.client_order_id == client_order_id and report.ord_status not in PENDING:
                return True
    return False


async def _check_and_cancel(client: AsyncClient, sim: SimulatorServer, crashed: str) -> None:
    mine = {o.client_order_id: o for o in await client.list_orders()}
    order = mine.get(crashed)
    assert order is not None, f"{crashed} lost: the session does not list it"
    assert order.session_id == "trader"
    assert order.ord_status is OrdStatus.NEW, order  # resting far from the market
    live = _live_at_venue(sim)
    assert order.venue_order_id in live
    assert await _replayed(client, crashed)
    # Every order live at the venue is one of this session's open orders.
    tracked = {o.venue_order_id: o for o in await client.list_open_orders(venue="")}
    untracked = set(live) - set(tracked)
    assert not untracked, f"live at the venue, unknown to the gateway: {untracked}"
    canceled = await client.cancel_order(crashed)
    assert canceled.ord_status is OrdStatus.CANCELED  # owned: its session can cancel it


@pytest.mark.slow
@pytest.mark.timeout(120 + CYCLES * 20)  # a cycle is a gateway start (a few seconds)
async def test_kill_9_after_venue_accept_loses_no_live_order(tmp_path: Path) -> None:
    cycles = CYCLES
    token = f"e2e-{secrets.token_urlsafe(24)}"
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=7, accounts=futures_accounts([TRADER])
    ) as sim:
        _write_config(tmp_path, sim, token)
        gw = GatewayProcess(workdir=tmp_path, token=token, env={CRASH_AT_ENV: "after-venue-accept"})
        crashed: str | None = None
        try:
            for cycle in range(cycles + 1):
                last = cycle == cycles
                if last:
                    gw.env = {}  # the final check runs on a gateway without the crash point
                await gw.start()
                client = AsyncClient(gw.target, token, timeout=WAIT_S)
                try:
                    await client.logon(takeover=True)
                    if crashed is not None:
                        await _check_and_cancel(client, sim, crashed)
                    if last:
                        break
                    venue, symbol, qty, tick = MARKETS[cycle % len(MARKETS)]
                    bid = (await client.get_ticker(symbol, venue=venue)).bid
                    assert bid is not None
                    price = (bid * Decimal("0.95")).quantize(tick, ROUND_DOWN) - tick * cycle
                    crashed = f"crash-{cycle}"
                    with pytest.raises(KrakenGwError):
                        await client.submit_order(
                            symbol,
                            "buy",
                            qty,
                            price=price,
                            client_order_id=crashed,
                            venue=venue,
                        )
                    assert gw.proc is not None
                    assert await asyncio.wait_for(gw.proc.wait(), WAIT_S) == -9
                finally:
                    await client.close()
            assert await gw.terminate() == 0
        finally:
            if gw.proc is not None and gw.proc.returncode is None:
                gw.proc.kill()
                await gw.proc.wait()
