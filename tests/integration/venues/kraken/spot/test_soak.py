"""20 sessions on 20 keys trading concurrently through one core: no nonce error, no rate-limit
error from the simulator (the governor paces), every fill reported exactly once.

The full run (500 orders per key) is `@pytest.mark.slow`; the short run always runs, and
`SOAK=short` (CI) shrinks the full one to the short size too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.errors import ErrorReason
from gateway.core.model import (
    CancelRequest,
    ExecType,
    OrderRequest,
    OrderType,
    OrdStatus,
    Permission,
    SessionContext,
    Side,
)
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.spot.factory import KrakenSpotVenueBundle, build_kraken_spot_venue
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import accounts, credentials

KEYS = 20
SHORT_ORDERS = 20
FULL_ORDERS = 500
IN_FLIGHT = 4  # orders one session keeps outstanding
# Small market orders on several pairs (fills), every 5th a resting limit canceled later.
PAIRS = (("BTC/USD", "0.001"), ("ETH/USD", "0.01"), ("DOGE/USD", "50"), ("ETH/BTC", "0.01"))
NAMES = [f"soak{i:02d}" for i in range(KEYS)]


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(host="127.0.0.1", port=0, seed=21, accounts=accounts(NAMES)) as s:
        yield s


async def _session(
    service: TradingService, bundle: KrakenSpotVenueBundle, name: str, orders: int
) -> list[str]:
    ctx = SessionContext(
        session_id=f"sess-{name}",
        account=name,
        permissions=frozenset({Permission.READ, Permission.TRADE}),
    )
    ids: list[str] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    far = {s: (await bundle.market_data.ticker(s)).bid for s, _ in PAIRS}

    async def one(i: int) -> None:
        symbol, qty = PAIRS[i % len(PAIRS)]
        cid = f"{name}-{i}"
        ids.append(cid)
        async with gate:
            if i % 5 == 4:
                bid = far[symbol]
                assert bid is not None
                inst = service.instrument(symbol, "kraken")
                price = (bid * Decimal("0.7")).quantize(inst.tick_size)
                request = OrderRequest(
                    client_order_id=cid,
                    symbol=symbol,
                    side=Side.BUY,
                    order_type=OrderType.LIMIT,
                    qty=Decimal(qty),
                    price=price,
                )
                await service.submit(ctx, request)
                await service.cancel(ctx, CancelRequest(client_order_id=cid))
                return
            request = OrderRequest(
                client_order_id=cid,
                symbol=symbol,
                side=Side.BUY if i % 2 else Side.SELL,
                order_type=OrderType.MARKET,
                qty=Decimal(qty),
            )
            await service.submit(ctx, request)

    await asyncio.gather(*(one(i) for i in range(orders)))
    return ids


async def _soak(sim: SimulatorServer, tmp_path: Path, orders: int) -> None:
    journal = await SqliteJournal.open(tmp_path / "gw")
    service = TradingService(journal, resolve_delays=(0.1, 0.5, 1.0))
    await service.start()
    bundles: dict[str, KrakenSpotVenueBundle] = {}
    try:
        for name in NAMES:
            bundle = await build_kraken_spot_venue(
                account=name,
                credentials=credentials(name),
                journal=journal,
                rest_url=sim.base_url,
                ws_public_url=sim.spot_ws_public_url,
                ws_private_url=sim.spot_ws_private_url,
                # Wait rather than refuse: the soak measures pacing, not refusals.
                governor=KrakenRateGovernor(KrakenTier.PRO, max_wait=60.0),
            )
            bundles[name] = bundle
            service.add_instruments(await bundle.venue.instruments())
            service.attach_venue(name, bundle.venue)
        await asyncio.gather(*(b.venue.wait_ready() for b in bundles.values()))
        per_session = await asyncio.gather(
            *(_session(service, bundles[n], n, orders) for n in NAMES)
        )
        for name, ids in zip(NAMES, per_session, strict=True):
            ctx = SessionContext(
                session_id=f"sess-{name}", account=name, permissions=frozenset({Permission.READ})
            )
            await _settled(service, ctx, ids)
            reports = await journal.reports(ctx.session_id, 0, 1_000_000)
            fills = [r for r in reports if r.trade_id is not None]
            trade_ids = [r.trade_id for r in fills]
            assert len(trade_ids) == len(set(trade_ids)), "a fill was reported twice"
            refused = [r for r in reports if r.exec_type is ExecType.REJECTED]
            assert refused == [], [(r.client_order_id, r.reject) for r in refused]
            for cid in ids:
                order = await service.get_order(ctx, cid)
                assert sum((f.qty for f in order.fills), Decimal(0)) == order.cum_qty
            # The venue's own record agrees: as many trades as fills reported, no more.
            history = await bundles[name].rest.read("TradesHistory")
            assert int(history["count"]) == len(fills)
    finally:
        await service.close()
        for bundle in bundles.values():
            await bundle.close()
        await journal.close()


async def _settled(service: TradingService, ctx: SessionContext, ids: list[str]) -> None:
    """Every order reached a final state (fills arrive after the acks)."""
    final = {OrdStatus.FILLED, OrdStatus.CANCELED, OrdStatus.REJECTED}
    for cid in ids:
        try:
            async with asyncio.timeout(30):
                while (await service.get_order(ctx, cid)).status not in final:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            order = await service.get_order(ctx, cid)
            raise AssertionError(
                f"{cid} stuck: {order.status} {order.cum_qty}/{order.qty}"
            ) from None


async def test_soak_short(
    sim: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await _soak(sim, tmp_path, SHORT_ORDERS)
    for needle in ("Invalid nonce", "Rate limit exceeded", ErrorReason.VENUE_RATE_LIMITED.name):
        assert needle not in caplog.text


@pytest.mark.slow
async def test_soak_full(
    sim: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    orders = SHORT_ORDERS if os.environ.get("SOAK") == "short" else FULL_ORDERS
    await _soak(sim, tmp_path, orders)
    for needle in ("Invalid nonce", "Rate limit exceeded", ErrorReason.VENUE_RATE_LIMITED.name):
        assert needle not in caplog.text
