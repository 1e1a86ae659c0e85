"""Pre-trade risk against the market, through the real gateway (gRPC server, SQLite journal) and
the simulator over HTTP/WS: the price band and the notional of market orders are measured
against the simulator's BTC/USD ticker (near 100,000), never against the account's own fills;
without a ticker (none ever, or none confirmed lately) the order is refused
RISK_NO_REFERENCE_PRICE unless the account allows it.
Kraken Spot's GTD expiry bounds are checked before anything reaches the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
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
from tests.integration.venues.kraken.spot.conftest import TRADER, key_of, set_faults

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

[accounts.trader.risk]
price_band_pct = "10"
max_notional = "250000"
reference_wait_s = 1
@RISK@

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
"""

TRADER_ID = "AA000000000000"  # the simulator's id of the first named account
BTC = "BTC/USD"


@contextlib.asynccontextmanager
async def trading(
    sim: SimulatorServer, tmp_path: Path, risk: str = "", apps: list[GatewayApp] | None = None
) -> AsyncIterator[AsyncClient]:
    """The gateway on `sim` with the band/notional config (+ `risk` lines), a logged-on client;
    the app is appended to `apps` if given."""
    token = f"tok-{secrets.token_urlsafe(24)}"
    key, secret = key_of(TRADER)
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
        .replace("@RISK@", risk)
    )
    config = load_config(path, environ={"SPOT_KEY": key, "SPOT_SECRET": secret, "TOKEN_S1": token})
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    if apps is not None:
        apps.append(app)
    try:
        async with AsyncClient(f"127.0.0.1:{port}", token) as client:
            await client.logon()
            yield client
    finally:
        await app.stop()


def orders_at_simulator(sim: SimulatorServer) -> int:
    """Every order of the trader the simulator ever received (open and closed)."""
    engine = sim.ctx.engine
    assert engine is not None
    return len(engine.open_orders(TRADER_ID)) + len(engine.closed_orders(TRADER_ID).items)


async def refused(client: AsyncClient, *args: object, **options: object) -> KrakenGwError:
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order(*args, **options)  # type: ignore[arg-type]
    return err.value


async def test_band_and_market_notional_use_the_simulators_ticker(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async with trading(sim, tmp_path) as client:
        assert not (await client.get_limits()).risk_limits.allow_no_reference_price
        # The account has no fills at all: only the market can say where BTC trades.
        err = await refused(client, BTC, "buy", Decimal("0.01"), price=Decimal(50000))
        assert err.code is grpc.StatusCode.FAILED_PRECONDITION
        assert err.reason == "RISK_PRICE_BAND" and err.metadata["field"] == "price"
        reference = Decimal(err.metadata["reference_price"])
        assert abs(reference - 100000) < 5000  # the simulator's BTC/USD, mid of its quotes
        inside = (reference * Decimal("0.95")).quantize(Decimal("0.1"))
        resting = await client.submit_order(BTC, "buy", Decimal("0.01"), price=inside)
        assert resting.ord_status is OrdStatus.NEW
        err = await refused(client, BTC, "sell", Decimal(3), order_type="MARKET")
        assert err.reason == "RISK_MAX_NOTIONAL"
        assert Decimal(err.metadata["notional"]) > 250000 and "reference_price" in err.metadata
        err = await refused(
            client,
            BTC,
            "sell",
            Decimal("0.01"),
            order_type="STOP_LOSS",
            stop_price=(reference / 2).quantize(Decimal("0.1")),
        )
        assert err.reason == "RISK_PRICE_BAND" and err.metadata["field"] == "stop_price"
        assert orders_at_simulator(sim) == 1  # only the order inside the band got there


async def test_no_ticker_means_no_reference_and_the_order_is_refused(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    await set_faults(sim, {"rules": [{"match": "ws:ticker", "action": "drop"}]})
    async with trading(sim, tmp_path) as client:
        for price in (Decimal(50000), Decimal(100000)):
            err = await refused(client, BTC, "buy", Decimal("0.01"), price=price)
            assert err.code is grpc.StatusCode.FAILED_PRECONDITION
            assert err.reason == "RISK_NO_REFERENCE_PRICE"
            assert err.metadata["symbol"] == BTC and err.metadata["venue"] == "kraken"
        err = await refused(client, BTC, "buy", Decimal("0.01"), order_type="MARKET")
        assert err.reason == "RISK_NO_REFERENCE_PRICE"
    assert orders_at_simulator(sim) == 0


async def test_a_feed_that_goes_away_leaves_a_stale_reference_and_orders_are_refused(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    apps: list[GatewayApp] = []
    async with trading(sim, tmp_path, "reference_max_age_s = 1", apps) as client:
        err = await refused(client, BTC, "buy", Decimal("0.01"), price=Decimal(50000))
        assert err.reason == "RISK_PRICE_BAND"  # the feed is live
        references = apps[0].service.risk.references
        # The next ticker frame drops the public connection; on the new one no ticker gets
        # through, while its heartbeats keep coming: they vouch for no ticker of theirs.
        rules = [
            {"match": "ws:ticker", "action": "disconnect", "times": 1},
            {"match": "ws:ticker", "action": "drop"},
        ]
        await set_faults(sim, {"rules": rules})
        async with asyncio.timeout(15):
            while references.get("kraken", BTC, 1.0) is not None:
                await asyncio.sleep(0.05)  # polling a condition, with the timeout above
        err = await refused(client, BTC, "buy", Decimal("0.01"), price=Decimal(50000))
        assert err.reason == "RISK_NO_REFERENCE_PRICE"
        await set_faults(sim, {"rules": []})  # the feed comes back: so does the reference
        assert await references.wait("kraken", BTC, 1.0, timeout_s=15) is not None
        err = await refused(client, BTC, "buy", Decimal("0.01"), price=Decimal(50000))
        assert err.reason == "RISK_PRICE_BAND"


async def test_an_account_may_allow_trading_without_a_reference(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    await set_faults(sim, {"rules": [{"match": "ws:ticker", "action": "drop"}]})
    async with trading(sim, tmp_path, "allow_no_reference_price = true") as client:
        assert (await client.get_limits()).risk_limits.allow_no_reference_price
        order = await client.submit_order(BTC, "buy", Decimal("0.01"), price=Decimal(50000))
        assert order.ord_status is OrdStatus.NEW
        # A limit order's notional is its own price: that check still holds without a ticker.
        err = await refused(client, BTC, "buy", Decimal(3), price=Decimal(90000))
        assert err.reason == "RISK_MAX_NOTIONAL"
    assert orders_at_simulator(sim) == 1


async def test_gtd_expiry_outside_krakens_bounds_never_reaches_the_simulator(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async with trading(sim, tmp_path, "allow_no_reference_price = true") as client:
        now = datetime.now(UTC)
        for expire in (now + timedelta(seconds=2), now + timedelta(days=40)):
            err = await refused(
                client,
                BTC,
                "buy",
                Decimal("0.01"),
                price=Decimal(95000),
                time_in_force="GTD",
                expire_time=expire,
            )
            assert err.code is grpc.StatusCode.INVALID_ARGUMENT
            assert err.reason == "INVALID_FIELD" and err.metadata["field"] == "expire_time"
        assert orders_at_simulator(sim) == 0
        order = await client.submit_order(
            BTC,
            "buy",
            Decimal("0.01"),
            price=Decimal(95000),
            time_in_force="GTD",
            expire_time=now + timedelta(hours=1),
        )
        assert order.ord_status is OrdStatus.NEW
    assert orders_at_simulator(sim) == 1
