"""The real gateway (GatewayApp: gRPC server, sessions, SQLite journal) with Kraken Futures
wired in, against the simulator, driven by the Python client: an account with a spot key and
a futures key trades BTC/USD and BTC/USD:USD on one execution stream; an account with only a
futures key trades futures (and one with only a spot key spot): an order for a venue the account
has no key for is refused FAILED_PRECONDITION / VENUE_NOT_CONFIGURED; every order type, amend,
cancel, batch, cancel-all, the reduce-only refusal and positions after fills, all through gRPC."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.venues.factory import GatewayVenues
from krakengw import AsyncClient, ExecType, ExecutionReport, KrakenGwError, OrdStatus, order_spec
from simulator.app import SimulatorServer
from simulator.futures.venue import futures_venue
from tests.integration.venues.kraken.futures.conftest import (
    MAKER,
    TRADER,
    WAIT_S,
    futures_key,
    spot_key,
)

FUT = "krakenfutures"
PERP = "BTC/USD:USD"
QTY = Decimal("0.01")

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken]
dead_man_switch = false

[kraken.spot]
rest_url = "@REST@"
ws_public_url = "@WS_PUBLIC@"
ws_private_url = "@WS_PRIVATE@"
tier = "pro"

[kraken.futures]
rest_url = "@REST@"
ws_url = "@WS_FUTURES@"

[accounts.both]
permissions = ["read", "trade"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[accounts.fonly]
permissions = ["read", "trade"]
futures = { key_env = "FUT2_KEY", secret_env = "FUT2_SECRET" }

[accounts.sonly]
permissions = ["read", "trade"]
spot = { key_env = "SPOT2_KEY", secret_env = "SPOT2_SECRET" }

[sessions.both]
account = "both"
token_env = "TOKEN_BOTH"

[sessions.fonly]
account = "fonly"
token_env = "TOKEN_FONLY"

[sessions.sonly]
account = "sonly"
token_env = "TOKEN_SONLY"
"""
SIM_ACCOUNTS = ("FF000000000000", "FF000000000001")  # TRADER's and MAKER's ids at the simulator


@dataclass
class Running:
    app: GatewayApp
    target: str
    tokens: dict[str, str]
    sim: SimulatorServer

    def client(self, session: str) -> AsyncClient:
        return AsyncClient(self.target, self.tokens[session], timeout=WAIT_S)


@pytest.fixture
async def gateway(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[Running]:
    tokens = {s: f"tok-{secrets.token_urlsafe(24)}" for s in ("both", "fonly", "sonly")}
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
        .replace("@WS_FUTURES@", sim.futures_ws_url)
    )
    env = {
        "SPOT_KEY": spot_key(TRADER)[0],
        "SPOT_SECRET": spot_key(TRADER)[1],
        "FUT_KEY": futures_key(TRADER)[0],
        "FUT_SECRET": futures_key(TRADER)[1],
        "FUT2_KEY": futures_key(MAKER)[0],
        "FUT2_SECRET": futures_key(MAKER)[1],
        "SPOT2_KEY": spot_key(MAKER)[0],
        "SPOT2_SECRET": spot_key(MAKER)[1],
        "TOKEN_BOTH": tokens["both"],
        "TOKEN_FONLY": tokens["fonly"],
        "TOKEN_SONLY": tokens["sonly"],
    }
    config = load_config(path, environ=env)
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    try:
        yield Running(app, f"127.0.0.1:{port}", tokens, sim)
    finally:
        await app.stop()


async def _reports(
    client: AsyncClient, after: int, until: set[tuple[str, ExecType]]
) -> list[ExecutionReport]:
    """Stream from `after` until every (client order id, exec type) in `until` was seen."""
    seen: list[ExecutionReport] = []
    async for report in client.stream_executions(after):
        seen.append(report)
        if until <= {(r.client_order_id, r.exec_type) for r in seen}:
            return seen
    raise AssertionError("stream ended early")


async def test_spot_and_futures_on_one_execution_stream(gateway: Running) -> None:
    async with gateway.client("both") as client:
        info = await client.logon()
        venues = {(i.venue, i.symbol) for i in await client.list_instruments()}
        assert {("kraken", "BTC/USD"), (FUT, PERP), (FUT, "BTC/USD:BTC")} <= venues
        spot = await client.submit_order(
            "BTC/USD", "buy", QTY, order_type="MARKET", client_order_id="spot-1"
        )
        perp = await client.submit_order(
            PERP, "buy", QTY, order_type="MARKET", client_order_id="perp-1", venue=FUT
        )
        assert spot.venue == "kraken" and perp.venue == FUT
        reports = await _reports(
            client, info.last_sequence, {("spot-1", ExecType.FILL), ("perp-1", ExecType.FILL)}
        )
        sequences = [r.sequence for r in reports]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        assert {r.symbol for r in reports if r.exec_type is ExecType.FILL} == {"BTC/USD", PERP}
        (position,) = await client.list_positions(PERP, venue=FUT)
        assert position.qty == QTY
        balances = await client.list_balances()
        wallets = {b.wallet for b in balances}
        assert "spot" in wallets and "futures:flex" in wallets
        limits = await client.get_limits()
        names = {b.name for b in limits.rate_budgets}
        assert {"spot_rest", "futures_derivatives", "futures_history"} <= names


async def test_futures_only_account(gateway: Running) -> None:
    async with gateway.client("fonly") as client:
        await client.logon()
        # The catalog is the gateway's (the other account lists Spot); this account trades
        # only what it has keys for.
        assert (FUT, PERP) in {(i.venue, i.symbol) for i in await client.list_instruments()}
        ticker = await client.get_ticker(PERP, venue=FUT)
        assert ticker.mark_price is not None and ticker.index_price is not None
        assert ticker.open_24h is not None
        before = orders_at_simulator(gateway.sim)
        with pytest.raises(KrakenGwError) as err:
            await client.submit_order("BTC/USD", "buy", QTY, order_type="MARKET")
        # No spot key: the account has no Kraken Spot venue. Not an outage: the caller's
        # precondition, named precisely, and nothing reached either venue.
        assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.reason == "VENUE_NOT_CONFIGURED"
        assert err.value.metadata.items() >= {"venue": "kraken", "account": "fonly"}.items()
        assert orders_at_simulator(gateway.sim) == before
        order = await client.submit_order(PERP, "buy", QTY, order_type="MARKET", venue=FUT)
        assert order.ord_status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED, OrdStatus.FILLED)


async def test_spot_only_account_ordering_a_future_is_told_the_venue_is_not_configured(
    gateway: Running,
) -> None:
    async with gateway.client("sonly") as client:
        await client.logon()
        before = orders_at_simulator(gateway.sim)
        with pytest.raises(KrakenGwError) as err:
            await client.submit_order(PERP, "buy", QTY, price=Decimal(1000), venue=FUT)
        assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.reason == "VENUE_NOT_CONFIGURED"
        assert err.value.metadata.items() >= {"venue": FUT, "account": "sonly"}.items()
        assert "krakenfutures" in str(err.value)
        assert orders_at_simulator(gateway.sim) == before
        with pytest.raises(KrakenGwError) as err:
            await client.get_ticker(PERP, venue=FUT)  # its market data: the account's venues
        assert err.value.reason == "VENUE_NOT_CONFIGURED"
        order = await client.submit_order("BTC/USD", "buy", QTY, price=Decimal(1000))
        assert order.ord_status is OrdStatus.NEW
        assert orders_at_simulator(gateway.sim) == before + 1


def orders_at_simulator(sim: SimulatorServer) -> int:
    """Every order the simulator's Spot and Futures engines ever received (open and closed)."""
    spot, futures = sim.ctx.engine, sim.ctx.futures_engine
    assert spot is not None and futures is not None
    return sum(
        len(spot.open_orders(a)) + len(spot.closed_orders(a).items) + len(futures.all_orders(a))
        for a in SIM_ACCOUNTS
    )


@pytest.mark.parametrize(
    ("order_type", "kw"),
    [
        ("LIMIT", {"price": 0.9}),
        ("LIMIT", {"price": 0.9, "post_only": True}),
        ("STOP_LOSS", {"stop_price": 1.2, "trigger_reference": "MARK"}),
        ("STOP_LOSS_LIMIT", {"stop_price": 1.2, "price": 1.25, "trigger_reference": "INDEX"}),
        ("TAKE_PROFIT", {"stop_price": 0.8}),
        ("TAKE_PROFIT_LIMIT", {"stop_price": 0.8, "price": 0.85}),
        ("TRAILING_STOP", {"trailing_offset": "5", "trailing_offset_unit": "PERCENT"}),
        ("TRAILING_STOP_LIMIT", {"trailing_offset": "5000", "limit_offset": "100"}),
    ],
)
async def test_each_resting_order_type_round_trips(
    gateway: Running, order_type: str, kw: dict[str, object]
) -> None:
    async with gateway.client("fonly") as client:
        info = await client.logon()
        ticker = await client.get_ticker(PERP, venue=FUT)
        assert ticker.bid is not None
        for field in ("price", "stop_price"):
            if isinstance(kw.get(field), float):
                kw[field] = (ticker.bid * Decimal(str(kw[field]))).quantize(Decimal(1))
        cid = f"t-{order_type.lower()}-{len(kw)}"
        order = await client.submit_order(
            PERP,
            "buy",
            QTY,
            order_type=order_type,
            client_order_id=cid,
            venue=FUT,
            **kw,  # type: ignore[arg-type]
        )
        assert order.ord_status is OrdStatus.NEW, order.reject
        fetched = await client.get_order(cid)
        assert fetched.venue_order_id == order.venue_order_id
        await client.cancel_order(cid)
        await _reports(client, info.last_sequence, {(cid, ExecType.CANCELED)})


async def test_amend_batch_cancel_all_and_reduce_only(gateway: Running) -> None:
    async with gateway.client("fonly") as client:
        info = await client.logon()
        ticker = await client.get_ticker(PERP, venue=FUT)
        assert ticker.bid is not None
        price = (ticker.bid * Decimal("0.9")).quantize(Decimal(1))
        await client.submit_order(PERP, "buy", QTY, price=price, client_order_id="a1", venue=FUT)
        amended = await client.amend_order("a1", qty=QTY * 2, price=price - 5)
        assert amended.order_qty == QTY * 2 and amended.price == price - 5
        specs = [
            order_spec(PERP, "buy", QTY, price=price - i, client_order_id=f"b{i}", venue=FUT)
            for i in range(3)
        ]
        results = await client.submit_order_batch(specs)
        assert not [r for r in results if isinstance(r, KrakenGwError)]
        canceled = await client.cancel_order_batch(["b0", "b1"])
        assert not [r for r in canceled if isinstance(r, KrakenGwError)]
        assert await client.cancel_all_orders(PERP, venue=FUT) == 2  # a1 and b2
        await _reports(
            client,
            info.last_sequence,
            {(c, ExecType.CANCELED) for c in ("a1", "b0", "b1", "b2")},
        )
        rejected = await client.submit_order(
            PERP, "sell", QTY, order_type="MARKET", reduce_only=True, venue=FUT
        )
        assert rejected.ord_status is OrdStatus.REJECTED and rejected.reject is not None
        assert rejected.reject.reason == "REDUCE_ONLY_VIOLATION"
        assert rejected.reject.venue_text == "wouldNotReducePosition"


async def test_positions_after_two_fills_and_a_reduce_only_sell(gateway: Running) -> None:
    async with gateway.client("fonly") as client:
        info = await client.logon()
        prices: list[Decimal] = []
        for n in (1, 2):
            cid = f"buy-{n}"
            await client.submit_order(
                PERP, "buy", "1", order_type="MARKET", client_order_id=cid, venue=FUT
            )
            reports = await _reports(client, info.last_sequence, {(cid, ExecType.FILL)})
            prices.append(
                next(
                    r.avg_px
                    for r in reports
                    if r.client_order_id == cid and r.exec_type is ExecType.FILL
                )
            )
            (position,) = await client.list_positions(PERP, venue=FUT)
            assert position.qty == Decimal(n)
            assert position.entry_price == sum(prices) / n
        await client.submit_order(
            PERP,
            "sell",
            "1",
            order_type="MARKET",
            reduce_only=True,
            client_order_id="close",
            venue=FUT,
        )
        await _reports(client, info.last_sequence, {("close", ExecType.FILL)})
        (position,) = await client.list_positions(PERP, venue=FUT)
        assert position.qty == Decimal(1) and position.entry_price == sum(prices) / 2


async def test_stream_positions_and_book_through_grpc(gateway: Running) -> None:
    async with gateway.client("fonly") as client:
        await client.logon()
        positions = client.stream_positions()
        snapshot, rows = await anext(positions)
        assert snapshot and all(p.qty == 0 or p.venue == FUT for p in rows)
        await client.submit_order(PERP, "buy", QTY, order_type="MARKET", venue=FUT)
        async with asyncio.timeout(WAIT_S):
            async for _, update in positions:
                if any(p.symbol == PERP and p.qty == QTY for p in update):
                    break
        await positions.aclose()
        book = client.stream_book(PERP, depth=5, venue=FUT)
        first = await anext(book)
        assert first.bids and first.asks and first.bids[0].price < first.asks[0].price
        await book.aclose()


async def test_leverage_sets_the_symbols_isolated_margin(
    gateway: Running, sim: SimulatorServer
) -> None:
    """An order naming leverage sets maxLeverage on its symbol (Kraken: isolated margin at that
    leverage) before it is sent; an invalid leverage is refused before reaching Kraken."""
    prefs = futures_venue(sim.ctx).leverage
    account = "FF000000000001"  # fmaker, the futures-only account's key
    async with gateway.client("fonly") as client:
        await client.logon()
        ticker = await client.get_ticker(PERP, venue=FUT)
        assert ticker.bid is not None
        price = (ticker.bid * Decimal("0.9")).quantize(Decimal(1))
        assert (account, "PF_XBTUSD") not in prefs  # cross margin until an order names one
        for cid, leverage in (("lev-1", "5"), ("lev-2", "5"), ("lev-3", "10")):
            order = await client.submit_order(
                PERP, "buy", QTY, price=price, leverage=leverage, client_order_id=cid, venue=FUT
            )
            assert order.ord_status is OrdStatus.NEW
            assert prefs[(account, "PF_XBTUSD")] == Decimal(leverage)
        with pytest.raises(KrakenGwError) as err:
            await client.submit_order(PERP, "buy", QTY, price=price, leverage="-1", venue=FUT)
        assert err.value.code.name == "INVALID_ARGUMENT"
        assert prefs[(account, "PF_XBTUSD")] == Decimal(10)
        await client.cancel_all_orders(venue=FUT)


async def test_book_depth_the_venue_does_not_serve_is_refused_not_hung(gateway: Running) -> None:
    """Kraken Spot serves depths 10/25/100/500/1000: depth 5 is INVALID_ARGUMENT at once (it
    used to wait forever for a snapshot). Futures trims its full book, so depth 3 is served."""
    async with gateway.client("both") as client, asyncio.timeout(WAIT_S):
        await client.logon()
        with pytest.raises(KrakenGwError) as err:
            await anext(client.stream_book("BTC/USD", depth=5))
        assert err.value.code.name == "INVALID_ARGUMENT" and err.value.reason == "INVALID_FIELD"
        assert "10, 25, 100, 500, 1000" in str(err.value)
        spot = client.stream_book("BTC/USD", depth=25)
        assert (await anext(spot)).snapshot
        await spot.aclose()
        futures = client.stream_book(PERP, depth=3, venue=FUT)
        first = await anext(futures)
        assert first.snapshot and 0 < len(first.bids) <= 3 and 0 < len(first.asks) <= 3
        await futures.aclose()
