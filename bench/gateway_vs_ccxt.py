"""Order -> ack through the gateway next to ccxt straight to the same simulator.

The simulator runs in a subprocess (`python -m simulator`, rate counters off, one key for the
gateway and one for ccxt so their nonces never meet). In this process, one event loop:

* gateway: the real GatewayApp (SQLite journal, core, sessions, grpc.aio) with the Kraken Spot
  venue (WS v2 add_order fast path), driven by the Python client's bidirectional OrderEntry
  stream; a sample is one resting limit order from client call to typed ack.
* ccxt: `ccxt.async_support.kraken.create_order` (REST AddOrder) to the simulator.

Variants alternate per round; open orders are canceled between rounds, untimed. Also measured
in the gateway: the added latency from the OrderEntry request entering the servicer to the
venue request leaving (the WS send), and the L2 book: messages per second through
`KrakenL2Book` with checksum verification vs without, replaying the book messages recorded
from the simulator during the run.

    .venv/bin/python -m bench.gateway_vs_ccxt [--orders 200] [--rounds 6] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async

from bench.common import (
    format_ratio,
    format_seconds,
    interleaved_async,
    start_simulator,
    summarize,
)
from gateway.api.servicers.orders import OrderServicer
from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.ports import AccountVenues, JournalPort, VenuePorts
from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.l2_book import KrakenL2Book
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.spot.factory import KrakenSpotVenueBundle, build_kraken_spot_venue
from gateway.venues.kraken.spot.parse import ws_book_levels
from gateway.venues.kraken.spot.ws import KrakenSpotWsConnection, drain
from krakengw import AsyncClient

QTY = Decimal("0.01")
BOOK_SECONDS = 3.0
# (price, qty) decimals of the recorded symbols, as AssetPairs gives them.
BOOK_PRECISION = {"BTC/USD": (1, 8), "ETH/USD": (2, 8)}

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 300
heartbeat_timeout_s = 900
shutdown_grace_s = 1

[accounts.bench]
permissions = ["read", "trade"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }

[sessions.bench]
account = "bench"
token_env = "BENCH_TOKEN"
"""


def _secret(name: str) -> str:
    return base64.b64encode(f"bench-{name}-secret".encode().ljust(64, b".")).decode()


def write_accounts(path: Path) -> None:
    lines = []
    for i, name in enumerate(("gateway", "ccxt")):
        lines += [
            "[[accounts]]",
            f'id = "AABENCHGW{i:05d}"',
            'tier = "pro"',
            'balances = { ZUSD = "100000000", XXBT = "100000" }',
            "[[accounts.keys]]",
            f'key = "bench-{name}-key"',
            f'secret = "{_secret(name)}"',
            "",
        ]
    path.write_text("\n".join(lines))


class _UnpacedGovernor(KrakenRateGovernor):
    """Ignores the executions channel's `maxratecount` (the bench lifted the threshold)."""

    def set_max_ratecount(self, max_ratecount: float) -> None:
        pass


class AddedLatency:
    """Gateway-added latency per client order id: servicer entry -> venue request out."""

    def __init__(self) -> None:
        self.entered: dict[str, float] = {}
        self.samples: list[float] = []
        self.venue_round_trip: list[float] = []

    def tap_servicer(self) -> Callable[[], None]:
        original = OrderServicer._entry

        async def entry(servicer: Any, req: Any, acks: Any) -> None:
            if req.WhichOneof("request") == "submit_order":
                self.entered[req.submit_order.order.client_order_id] = time.perf_counter()
            await original(servicer, req, acks)

        OrderServicer._entry = entry  # type: ignore[method-assign,assignment]

        def restore() -> None:
            OrderServicer._entry = original  # type: ignore[method-assign]

        return restore

    def tap_venue(self, venue: Any) -> None:
        original = venue.ws.trade

        async def trade(method: str, params: dict[str, Any]) -> Any:
            if method != "add_order":  # the untimed cancel-alls between rounds
                return await original(method, params)
            start = self.entered.pop(str(params.get("cl_ord_id", "")), None)
            sent = time.perf_counter()
            if start is not None:
                self.samples.append(sent - start)
            try:
                return await original(method, params)
            finally:
                self.venue_round_trip.append(time.perf_counter() - sent)

        venue.ws.trade = trade


async def start_gateway(directory: Path, urls: dict[str, str]) -> tuple[GatewayApp, Any, str]:
    token = f"bench-{secrets.token_urlsafe(24)}"
    path = directory / "gateway.toml"
    path.write_text(CONFIG)
    env = {"SPOT_KEY": "bench-gateway-key", "SPOT_SECRET": _secret("gateway"), "BENCH_TOKEN": token}
    config = load_config(path, environ=env)

    journal: list[JournalPort] = []
    bundles: list[KrakenSpotVenueBundle] = []

    async def open_journal(data_dir: Path) -> JournalPort:
        journal.append(await SqliteJournal.open(data_dir))
        return journal[0]

    async def venues(account: AccountConfig) -> AccountVenues:
        # The simulator's counters are off; an unpaced governor keeps pacing out of the figures.
        governor = _UnpacedGovernor(KrakenTier.PRO)
        governor.trading.set_threshold(1e12)
        bundle = await build_kraken_spot_venue(
            account=account.name,
            credentials=KrakenCredentials("bench-gateway-key", _secret("gateway")),
            journal=journal[0],
            rest_url=urls["spot_rest"],
            ws_public_url=urls["spot_ws_public"],
            ws_private_url=urls["spot_ws_private"],
            governor=governor,
        )
        bundles.append(bundle)
        spot = VenuePorts(
            order_entry=bundle.venue,
            account=bundle.venue,
            instruments=bundle.venue,
            market_data=bundle.market_data,
        )
        return AccountVenues.of(spot, closers=[bundle.close])

    app = await GatewayApp.build(config, venues=venues, journal_factory=open_journal, metrics=False)
    port = await app.start()
    return app, bundles[0].venue, f"127.0.0.1:{port}:{token}"


async def record_book(url: str, seconds: float) -> list[tuple[bool, Any]]:
    """Raw book messages (snapshot flag, data) of two symbols for `seconds`."""
    conn = KrakenSpotWsConnection(url)
    await conn.open()
    messages: list[tuple[bool, Any]] = []
    try:
        await conn.request(
            "subscribe",
            {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 10},
            timeout_s=10,
        )
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            try:
                msg = await asyncio.wait_for(drain(conn), deadline - time.perf_counter())
            except TimeoutError:
                break
            if msg is None:
                break
            if msg.get("channel") == "book":
                for data in msg.get("data", ()):
                    messages.append((msg.get("type") == "snapshot", data))
    finally:
        await conn.close()
    return messages


def replay_book(messages: list[tuple[bool, Any]], *, verify: bool, repeat: int) -> float:
    """Messages per second through KrakenL2Book (parsing the levels included)."""
    start = time.perf_counter()
    for _ in range(repeat):
        books = {s: KrakenL2Book(s, 10, p, q) for s, (p, q) in BOOK_PRECISION.items()}
        for snapshot, data in messages:
            book = books[data["symbol"]]
            checksum = int(data["checksum"]) if verify and "checksum" in data else None
            book.apply(
                ws_book_levels(data, "asks"),
                ws_book_levels(data, "bids"),
                snapshot=snapshot,
                checksum=checksum,
            )
    return repeat * len(messages) / (time.perf_counter() - start)


async def run(orders: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-gw-ccxt-") as tmp:
        accounts = Path(tmp) / "accounts.toml"
        write_accounts(accounts)
        proc, urls = await start_simulator(
            accounts, wanted=("spot_rest", "spot_ws_public", "spot_ws_private")
        )
        latency = AddedLatency()
        restore = latency.tap_servicer()
        app, venue, where = await start_gateway(Path(tmp), urls)
        target, _, token = where.rpartition(":")
        latency.tap_venue(venue)
        exchange = ccxt_async.kraken(
            {"apiKey": "bench-ccxt-key", "secret": _secret("ccxt"), "enableRateLimit": False}
        )
        exchange.urls["api"]["public"] = urls["spot_rest"]
        exchange.urls["api"]["private"] = urls["spot_rest"]
        client = AsyncClient(target, token)
        try:
            await exchange.load_markets()
            await client.logon()
            ticker = await client.get_ticker("BTC/USD")
            assert ticker.bid is not None
            price = (ticker.bid * Decimal("0.7")).quantize(Decimal("0.1"))
            ids = itertools.count()
            async with client.order_entry() as entry:

                async def gateway_round() -> list[float]:
                    samples = []
                    for _ in range(orders):
                        cid = f"gw{next(ids)}"
                        start = time.perf_counter()
                        order = await entry.submit_order(
                            "BTC/USD", "buy", QTY, price=price, client_order_id=cid
                        )
                        samples.append(time.perf_counter() - start)
                        if order.reject is not None:
                            raise RuntimeError(f"the gateway refused a bench order: {order.reject}")
                    await client.cancel_all_orders()
                    return samples

                async def ccxt_round() -> list[float]:
                    samples = []
                    for _ in range(orders):
                        start = time.perf_counter()
                        await exchange.create_order("BTC/USD", "limit", "buy", float(QTY), price)
                        samples.append(time.perf_counter() - start)
                    await exchange.cancel_all_orders()
                    return samples

                variants: dict[str, Callable[[], Awaitable[list[float]]]] = {
                    "gateway": gateway_round,
                    "ccxt": ccxt_round,
                }
                results = await interleaved_async(rounds, variants)
            book = await record_book(urls["spot_ws_public"], BOOK_SECONDS)
        finally:
            restore()
            await client.close()
            await exchange.close()
            await app.stop()
            proc.terminate()
            await proc.wait()
    report(results, latency, book, orders, rounds)


def report(
    results: dict[str, list[list[float]]],
    latency: AddedLatency,
    book: list[tuple[bool, Any]],
    orders: int,
    rounds: int,
) -> None:
    gw = summarize([s for r in results["gateway"] for s in r])
    cx = summarize([s for r in results["ccxt"] for s in r])
    print(f"order -> ack, {orders} orders x {rounds} rounds each, one in flight")
    for label, summary in (("gateway OrderEntry stream", gw), ("ccxt create_order (REST)", cx)):
        print(
            f"  {label:26} p50 {format_seconds(summary.median):>10}"
            f"  p99 {format_seconds(summary.p99):>10}"
        )
    print(
        f"  ratio gateway/ccxt         p50 {format_ratio(gw.median, cx.median):>10}"
        f"  p99 {format_ratio(gw.p99, cx.p99):>10}   (goal p50 <= x0.80)"
    )
    if latency.samples:
        a = summarize(latency.samples)
        v = summarize(latency.venue_round_trip)
        print(
            f"gateway-added latency (OrderEntry request in -> WS add_order out), n={a.count}\n"
            f"  p50 {format_seconds(a.median)}  p99 {format_seconds(a.p99)}  "
            f"(goal <= 150 us / 500 us)\n"
            f"venue round trip (WS add_order out -> ack in)\n"
            f"  p50 {format_seconds(v.median)}  p99 {format_seconds(v.p99)}"
            f"   (alone x{v.median / cx.median:.2f} of ccxt's whole call at p50)"
        )
    if book:
        repeat = max(1, 20_000 // len(book))
        plain = replay_book(book, verify=False, repeat=repeat)
        checked = replay_book(book, verify=True, repeat=repeat)
        print(f"L2 book replay, {len(book)} recorded messages x {repeat}")
        print(
            f"  with checksum {checked:,.0f} msg/s   without {plain:,.0f} msg/s   "
            f"ratio {format_ratio(checked, plain)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="50 orders x 2 rounds")
    args = parser.parse_args(argv)
    orders, rounds = (50, 2) if args.quick else (args.orders, args.rounds)
    asyncio.run(run(orders, rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
