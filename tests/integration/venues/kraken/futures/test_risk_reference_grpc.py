"""Pre-trade risk of a Kraken Futures account against the market, through the real gateway
(gRPC) and the simulator's Futures WS v1 ticker: the price band is measured from the perpetual's
mark price; an order field Kraken Futures has no place for (GTD expiry) is refused
INVALID_ARGUMENT before the order exists."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.venues.factory import GatewayVenues
from krakengw import AsyncClient, KrakenGwError, OrdStatus
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.futures.conftest import TRADER, WAIT_S, futures_key

FUT = "krakenfutures"
PERP = "BTC/USD:USD"

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken]
dead_man_switch = false

[kraken.futures]
rest_url = "@REST@"
ws_url = "@WS_FUTURES@"

[accounts.fonly]
permissions = ["read", "trade"]
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[accounts.fonly.risk]
price_band_pct = "10"

[sessions.fonly]
account = "fonly"
token_env = "TOKEN"
"""


async def test_futures_band_uses_the_mark_price_and_gtd_is_refused_up_front(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    token = f"tok-{secrets.token_urlsafe(24)}"
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url).replace("@WS_FUTURES@", sim.futures_ws_url)
    )
    key, secret = futures_key(TRADER)
    config = load_config(path, environ={"FUT_KEY": key, "FUT_SECRET": secret, "TOKEN": token})
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    try:
        async with AsyncClient(f"127.0.0.1:{port}", token, timeout=WAIT_S) as client:
            await client.logon()
            ticker = await client.get_ticker(PERP, venue=FUT)
            assert ticker.mark_price is not None
            with pytest.raises(KrakenGwError) as err:
                await client.submit_order(
                    PERP,
                    "buy",
                    Decimal(1),
                    price=(ticker.mark_price / 2).quantize(Decimal(1)),
                    venue=FUT,
                )
            assert err.value.reason == "RISK_PRICE_BAND"
            reference = Decimal(err.value.metadata["reference_price"])
            assert abs(reference - ticker.mark_price) / ticker.mark_price < Decimal("0.01")
            inside = (reference * Decimal("0.95")).quantize(Decimal(1))
            order = await client.submit_order(PERP, "buy", Decimal(1), price=inside, venue=FUT)
            assert order.ord_status is OrdStatus.NEW
            with pytest.raises(KrakenGwError) as err:
                await client.submit_order(
                    PERP,
                    "buy",
                    Decimal(1),
                    price=inside,
                    venue=FUT,
                    time_in_force="GTD",
                    expire_time=datetime.now(UTC) + timedelta(hours=1),
                )
            assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
            assert err.value.reason == "INVALID_FIELD"
            assert err.value.metadata["field"] in ("expire_time", "time_in_force")
            assert [o.client_order_id for o in await client.list_open_orders()] == [
                order.client_order_id
            ]
    finally:
        await app.stop()
