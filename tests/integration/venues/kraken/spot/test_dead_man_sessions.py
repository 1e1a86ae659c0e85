"""Kraken's dead man's switch follows the trading session: the real gateway (gRPC server,
sessions, journal) on the simulator, driven by the Python client.

Logon of the key's trading session arms it (the simulator holds a CancelAllOrdersAfter
deadline), Logout switches it off (timeout 0, orders stay), a lost session (heartbeat timeout)
stops refreshing so the simulator cancels the orders when the countdown runs out, and
read-only or drop-copy observers arm nothing. The simulator's deadline is read from its state.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.app import GatewayApp
from gateway.cli import running_gateway
from gateway.config import load_config, parse_config
from gateway.core.venue_ids import scoped_client_order_id
from gateway.venues.factory import GatewayVenues
from gateway.venues.kraken.common.dead_man import KrakenDeadManSwitch
from gateway.venues.kraken.spot.adapter import KrakenSpotVenue
from krakengw import AsyncClient, ExecType, OrdStatus
from simulator.accounts import DEMO_ACCOUNT_ID
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import TRADER, WAIT_S, key_of

TRADER_ID = "AA000000000000"  # conftest.accounts: the first account

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 0.2

[kraken]
dead_man_timeout_s = @TIMEOUT@
dead_man_refresh_s = 0.5

[kraken.spot]
rest_url = "@REST@"
ws_public_url = "@WS_PUBLIC@"
ws_private_url = "@WS_PRIVATE@"
tier = "pro"

[accounts.trader]
permissions = ["read", "trade", "drop_copy"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
permissions = ["read", "trade"]

[sessions.audit]
account = "trader"
token_env = "TOKEN_AUDIT"
permissions = ["read", "drop_copy"]

[sessions.viewer]
account = "trader"
token_env = "TOKEN_VIEWER"
permissions = ["read"]
"""


@dataclass
class Running:
    app: GatewayApp
    sim: SimulatorServer
    target: str
    tokens: dict[str, str]

    @property
    def venue(self) -> KrakenSpotVenue:
        venue = self.app.service.venue_ports(TRADER, "kraken").order_entry
        assert isinstance(venue, KrakenSpotVenue)
        return venue

    @property
    def switch(self) -> KrakenDeadManSwitch:
        return self.venue.dead_man

    def client(self, session: str) -> AsyncClient:
        return AsyncClient(self.target, self.tokens[session])

    def deadline(self) -> object:
        """The simulator's CancelAllOrdersAfter deadline of the trader (None: not armed)."""
        return self.sim.ctx.spot().account(TRADER_ID).cancel_after


async def start_gateway(sim: SimulatorServer, tmp_path: Path, timeout_s: int) -> Running:
    tokens = {s: f"tok-{secrets.token_urlsafe(24)}" for s in ("s1", "audit", "viewer")}
    key, secret = key_of(TRADER)
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
        .replace("@TIMEOUT@", str(timeout_s))
    )
    environ = {"SPOT_KEY": key, "SPOT_SECRET": secret}
    environ.update({f"TOKEN_{s.upper()}": token for s, token in tokens.items()})
    config = load_config(path, environ=environ)
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    return Running(app, sim, f"127.0.0.1:{port}", tokens)


@pytest.fixture
async def gateway(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[Running]:
    """A countdown far longer than any test: nothing fires while a session is live."""
    running = await start_gateway(sim, tmp_path, timeout_s=60)
    try:
        yield running
    finally:
        await running.app.stop()


async def far_price(client: AsyncClient) -> Decimal:
    ticker = await client.get_ticker("BTC/USD")
    assert ticker.bid is not None
    return (ticker.bid * Decimal("0.8")).quantize(Decimal("0.1"))


async def test_logon_arms_and_logout_disarms_leaving_orders_open(gateway: Running) -> None:
    switch = gateway.switch
    assert not switch.is_armed and gateway.deadline() is None  # nothing armed at start
    async with gateway.client("s1") as client:
        await client.logon()
        assert switch.is_armed
        async with asyncio.timeout(WAIT_S):
            await switch.armed.wait()
        assert gateway.deadline() is not None  # the simulator holds a countdown for the key
        await client.submit_order(
            "BTC/USD", "buy", Decimal("0.1"), price=await far_price(client), client_order_id="r1"
        )
        await client.logout()
    # Logout ran the session's end hooks: timeout 0 reached the simulator before it returned.
    assert not switch.is_armed and switch.disarms == 1
    assert gateway.deadline() is None
    sent = scoped_client_order_id(TRADER, "s1", "r1")
    assert [o.client_order_id for o in await gateway.venue.open_orders()] == [sent]


async def test_observers_arm_nothing(gateway: Running) -> None:
    switch = gateway.switch
    async with gateway.client("audit") as audit, gateway.client("viewer") as viewer:
        await audit.logon()
        await viewer.logon()
        assert not switch.is_armed  # logon hooks run before Logon answers
        assert gateway.deadline() is None
        await audit.logout()
        await viewer.logout()
    assert switch.refreshes == 0 and switch.disarms == 0
    assert gateway.deadline() is None


async def test_trading_logon_beside_an_observer_arms_and_observer_logout_keeps_it(
    gateway: Running,
) -> None:
    switch = gateway.switch
    async with gateway.client("s1") as client, gateway.client("audit") as audit:
        await client.logon()
        await audit.logon()
        async with asyncio.timeout(WAIT_S):
            await switch.armed.wait()
        await audit.logout()  # the observer's end touches no guard
        assert switch.is_armed and switch.disarms == 0
        assert gateway.deadline() is not None
        await client.logout()
    assert gateway.deadline() is None


async def test_lost_session_stops_refreshing_and_kraken_cancels(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    gateway = await start_gateway(sim, tmp_path, timeout_s=2)
    switch = gateway.switch
    try:
        async with gateway.client("audit") as audit:
            await audit.logon()
            watch = audit.stream_executions(0, drop_copy=True)
            # close() without Logout (leaving `async with` would log out): a lost client.
            client = gateway.client("s1")
            try:
                # Two missed 1 s heartbeats end the session once its stream is gone.
                await client.logon(heartbeat_interval=timedelta(seconds=1))
                lost = gateway.app.sessions.get("s1")
                assert lost is not None
                price = await far_price(client)
                async with client.order_entry() as entry:  # an open stream keeps it live
                    for cid in ("lost-1", "lost-2"):
                        order = await entry.submit_order(
                            "BTC/USD", "buy", Decimal("0.1"), price=price, client_order_id=cid
                        )
                        assert order.ord_status is OrdStatus.NEW
                    async with asyncio.timeout(WAIT_S):
                        await switch.armed.wait()
            finally:
                await client.close()
            # No Logout: the session times out and the switch is left to run out.
            async with asyncio.timeout(WAIT_S):
                await lost.ended.wait()
            canceled: set[str] = set()
            async with asyncio.timeout(WAIT_S):
                async for report in watch:
                    if report.exec_type is ExecType.CANCELED:
                        canceled.add(report.client_order_id)
                    if canceled == {"lost-1", "lost-2"}:
                        break
            watch.close()
            assert switch.disarms == 0 and not switch.is_armed  # no timeout 0 was sent
            assert await gateway.venue.open_orders() == []
            assert gateway.deadline() is None  # fired, and off until the next arm
            await audit.logout()
        # The next trading logon arms it again.
        async with gateway.client("s1") as client:
            await client.logon()
            async with asyncio.timeout(WAIT_S):
                await switch.armed.wait()
            assert gateway.deadline() is not None
            await client.logout()
        assert gateway.deadline() is None
    finally:
        await gateway.app.stop()


async def test_shutdown_disarms(sim: SimulatorServer, tmp_path: Path) -> None:
    gateway = await start_gateway(sim, tmp_path, timeout_s=60)
    async with gateway.client("s1") as client:
        await client.logon()
        async with asyncio.timeout(WAIT_S):
            await gateway.switch.armed.wait()
        await gateway.app.stop()  # the session is still logged on
    assert gateway.switch.disarms == 1 and gateway.deadline() is None


async def test_embedded_simulator_path_arms_per_session(tmp_path: Path) -> None:
    token = f"tok-{secrets.token_urlsafe(24)}"
    raw = {
        "server": {"listen": "127.0.0.1:0", "data_dir": "data"},
        "kraken": {"dead_man_timeout_s": 60, "dead_man_refresh_s": 0.5},
        "accounts": {"demo": {"venue": "simulator", "permissions": ["read", "trade"]}},
        "sessions": {"demo": {"account": "demo", "token_env": "TOKEN"}},
    }
    config = parse_config(raw, base_dir=tmp_path, environ={"TOKEN": token})
    async with running_gateway(config, None) as (app, sim):
        venue = app.service.venue_ports("demo", "kraken").order_entry
        assert isinstance(venue, KrakenSpotVenue)
        account = sim.server.ctx.spot().account(DEMO_ACCOUNT_ID)
        assert not venue.dead_man.is_armed and account.cancel_after is None
        async with AsyncClient(f"127.0.0.1:{app.port}", token) as client:
            await client.logon()
            async with asyncio.timeout(WAIT_S):
                await venue.dead_man.armed.wait()
            assert account.cancel_after is not None
            await client.logout()
        assert account.cancel_after is None
