"""The real gateway (GatewayApp: gRPC server, sessions, SQLite journal) trading the simulator
through the Kraken Spot venue, driven by the Python client."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.venues.factory import GatewayVenues
from gateway.venues.kraken.spot.adapter import KrakenSpotVenue
from krakengw import AsyncClient, ExecType, OrdStatus
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import TRADER, key_of

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken.spot]
rest_url = "@REST@"
ws_public_url = "@WS_PUBLIC@"
ws_private_url = "@WS_PRIVATE@"
tier = "pro"

[accounts.trader]
permissions = ["read", "trade"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
"""


@dataclass
class Running:
    app: GatewayApp
    target: str
    token: str

    @property
    def venue(self) -> KrakenSpotVenue:
        venue = self.app.service.venue_ports(TRADER, "kraken").order_entry
        assert isinstance(venue, KrakenSpotVenue)
        return venue


async def start_gateway(sim: SimulatorServer, tmp_path: Path) -> Running:
    token = f"tok-{secrets.token_urlsafe(24)}"
    key, secret = key_of(TRADER)
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
    )
    config = load_config(path, environ={"SPOT_KEY": key, "SPOT_SECRET": secret, "TOKEN_S1": token})
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    return Running(app, f"127.0.0.1:{port}", token)


@pytest.fixture
async def gateway(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(sim, tmp_path)
    try:
        yield running
    finally:
        await running.app.stop()


async def test_order_entry_stream_and_executions(gateway: Running) -> None:
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None
        # Kraken Spot's REST ticker carries the last trade's size, not a 24-hour open.
        assert ticker.last_qty is not None and ticker.open_24h is None
        far = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.1"))
        async with client.order_entry() as entry:
            resting = await entry.submit_order(
                "BTC/USD", "buy", Decimal("0.1"), price=far, client_order_id="rest-1"
            )
            taken = await entry.submit_order(
                "BTC/USD", "buy", Decimal("0.01"), order_type="MARKET", client_order_id="mkt-1"
            )
        assert resting.ord_status is OrdStatus.NEW and resting.venue_order_id
        assert taken.ord_status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED, OrdStatus.FILLED)
        canceled = await client.cancel_order("rest-1")
        assert canceled.ord_status is OrdStatus.CANCELED
        seen: list[tuple[str, ExecType | None]] = []
        stream = client.stream_executions(0)
        async with asyncio.timeout(15):
            async for report in stream:
                seen.append((report.client_order_id, report.exec_type))
                if report.client_order_id == "mkt-1" and report.exec_type is ExecType.FILL:
                    fill = report
                if {("rest-1", ExecType.CANCELED), ("mkt-1", ExecType.FILL)} <= set(seen):
                    break
        assert fill.cum_qty == Decimal("0.01") and fill.leaves_qty == 0
        assert fill.fee is not None and fill.last_px
        balances = {b.asset: b for b in await client.list_balances()}
        assert balances["BTC"].total == Decimal("1000.01")
        instruments = {i.symbol for i in await client.list_instruments()}
        assert {"BTC/USD", "ETH/USD", "DOGE/USD"} <= instruments
        assert gateway.venue.dead_man.is_armed  # armed while the trading session is live


async def test_cancel_on_disconnect_cancels_at_kraken(gateway: Running) -> None:
    venue = gateway.venue
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon(cancel_on_disconnect=True)
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None
        far = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.1"))
        for i in range(3):
            await client.submit_order(
                "BTC/USD", "buy", Decimal("0.1"), price=far, client_order_id=f"cod-{i}"
            )
        assert len(await venue.open_orders()) == 3
        assert await client.logout() == 3
    assert await venue.open_orders() == []
