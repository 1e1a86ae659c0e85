"""Kraken Futures order -> ack: through the gateway, ccxt krakenfutures straight to the
simulator, and the Futures adapter's own venue round trip, in the same run.

The simulator runs in a subprocess (`python -m simulator`, rate counters off, one futures key
for the gateway and one for ccxt so their nonces never meet). In this process, one event loop:

* gateway: the real GatewayApp (SQLite journal, core, sessions, grpc.aio) with the Kraken
  Futures venue (REST sendorder; executions from the WS v1 feeds), driven by the Python
  client's bidirectional OrderEntry stream; a sample is one resting perpetual limit order
  (BTC/USD:USD) from client call to typed ack.
* ccxt: `ccxt.async_support.krakenfutures.create_order` (REST sendorder) to the simulator.
* venue round trip: inside the gateway, the adapter's sendorder from request out to answer in
  (the part of the gateway's figure that is the venue's), and the gateway-added latency before
  it: the OrderEntry request entering the servicer -> the sendorder leaving.

Variants alternate per round; open orders are canceled between rounds, untimed.

    .venv/bin/python -m bench.futures_order_entry [--orders 200] [--rounds 6] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async

from bench.common import format_ratio, format_seconds, interleaved_async, start_simulator, summarize
from gateway.api.servicers.orders import OrderServicer
from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.ports import AccountVenues, JournalPort, VenuePorts
from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.futures.factory import (
    KrakenFuturesVenueBundle,
    build_kraken_futures_venue,
)
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from krakengw import AsyncClient

SYMBOL = "BTC/USD:USD"
VENUE = "krakenfutures"
QTY = Decimal("0.01")

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 300
heartbeat_timeout_s = 900
shutdown_grace_s = 1

[kraken]
dead_man_switch = false

[accounts.bench]
permissions = ["read", "trade"]
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[sessions.bench]
account = "bench"
token_env = "BENCH_TOKEN"
"""


def _secret(name: str) -> str:
    return base64.b64encode(f"bench-futures-{name}-secret".encode().ljust(64, b".")).decode()


def write_accounts(path: Path) -> None:
    lines = []
    for i, name in enumerate(("gateway", "ccxt")):
        lines += [
            "[[accounts]]",
            f'id = "AABENCHFU{i:05d}"',
            'tier = "pro"',
            'futures_balances = { USD = "100000000", XBT = "1000" }',
            "[[accounts.keys]]",
            f'key = "bench-futures-{name}-key"',
            f'secret = "{_secret(name)}"',
            'venue = "futures"',
            "",
        ]
    path.write_text("\n".join(lines))


class VenueRoundTrip:
    """The adapter's sendorder round trips (REST request out -> answer in), and the time from
    the OrderEntry request entering the servicer to that sendorder (gateway-added)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.added: list[float] = []
        self.entered: dict[str, float] = {}

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

    def tap(self, venue: Any) -> None:
        rest = venue._rest
        original = rest.write

        async def write(endpoint: str, params: Any, **kw: Any) -> Any:
            if endpoint != "sendorder":
                return await original(endpoint, params, **kw)
            start = time.perf_counter()
            entered = self.entered.pop(str(params.get("cliOrdId", "")), None)
            if entered is not None:
                self.added.append(start - entered)
            try:
                return await original(endpoint, params, **kw)
            finally:
                self.samples.append(time.perf_counter() - start)

        rest.write = write


async def start_gateway(directory: Path, urls: dict[str, str]) -> tuple[GatewayApp, Any, str]:
    token = f"bench-{secrets.token_urlsafe(24)}"
    path = directory / "gateway.toml"
    path.write_text(CONFIG)
    env = {
        "FUT_KEY": "bench-futures-gateway-key",
        "FUT_SECRET": _secret("gateway"),
        "BENCH_TOKEN": token,
    }
    config = load_config(path, environ=env)
    journal: list[JournalPort] = []
    bundles: list[KrakenFuturesVenueBundle] = []

    async def open_journal(data_dir: Path) -> JournalPort:
        journal.append(await SqliteJournal.open(data_dir))
        return journal[0]

    async def venues(account: AccountConfig) -> AccountVenues:
        # The simulator's budgets are off; a huge modelled budget keeps pacing out of the figures.
        bundle = await build_kraken_futures_venue(
            account=account.name,
            credentials=KrakenCredentials("bench-futures-gateway-key", _secret("gateway")),
            journal=journal[0],
            rest_url=urls["spot_rest"],
            ws_url=urls["futures_ws"],
            governor=KrakenFuturesRateGovernor(derivatives_budget=1e12),
        )
        bundles.append(bundle)
        ports = VenuePorts(
            order_entry=bundle.venue,
            account=bundle.venue,
            instruments=bundle.venue,
            market_data=bundle.market_data,
        )
        return AccountVenues.of(ports, closers=[bundle.close])

    app = await GatewayApp.build(config, venues=venues, journal_factory=open_journal, metrics=False)
    port = await app.start()
    return app, bundles[0].venue, f"127.0.0.1:{port}:{token}"


def _ccxt(base: str) -> Any:
    exchange = ccxt_async.krakenfutures(
        {
            "apiKey": "bench-futures-ccxt-key",
            "secret": _secret("ccxt"),
            "enableRateLimit": False,
        }
    )
    exchange.urls["api"] = {
        "public": base + "/derivatives/api/",
        "private": base + "/derivatives/api/",
        "charts": base + "/api/charts/",
        "history": base + "/api/history/",
        "feeschedules": base + "/api/feeschedules/",
    }
    return exchange


async def run(orders: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-futures-") as tmp:
        accounts = Path(tmp) / "accounts.toml"
        write_accounts(accounts)
        proc, urls = await start_simulator(accounts, wanted=("spot_rest", "futures_ws"))
        trips = VenueRoundTrip()
        restore = trips.tap_servicer()
        app, venue, where = await start_gateway(Path(tmp), urls)
        trips.tap(venue)
        target, _, token = where.rpartition(":")
        exchange = _ccxt(urls["spot_rest"])
        client = AsyncClient(target, token)
        try:
            await exchange.load_markets()
            await client.logon()
            ticker = await client.get_ticker(SYMBOL, venue=VENUE)
            assert ticker.bid is not None
            price = (ticker.bid * Decimal("0.7")).quantize(Decimal(1))
            ids = itertools.count()
            async with client.order_entry() as entry:

                async def gateway_round() -> list[float]:
                    samples = []
                    for _ in range(orders):
                        cid = f"gw{next(ids)}"
                        start = time.perf_counter()
                        order = await entry.submit_order(
                            SYMBOL, "buy", QTY, price=price, client_order_id=cid, venue=VENUE
                        )
                        samples.append(time.perf_counter() - start)
                        if order.reject is not None:
                            raise RuntimeError(f"the gateway refused a bench order: {order.reject}")
                    await client.cancel_all_orders(SYMBOL, venue=VENUE)
                    return samples

                async def ccxt_round() -> list[float]:
                    samples = []
                    for _ in range(orders):
                        start = time.perf_counter()
                        await exchange.create_order(SYMBOL, "limit", "buy", float(QTY), price)
                        samples.append(time.perf_counter() - start)
                    await exchange.cancel_all_orders(SYMBOL)
                    return samples

                variants: dict[str, Callable[[], Awaitable[list[float]]]] = {
                    "gateway": gateway_round,
                    "ccxt": ccxt_round,
                }
                results = await interleaved_async(rounds, variants)
        finally:
            restore()
            await client.close()
            await exchange.close()
            await app.stop()
            proc.terminate()
            await proc.wait()
    report(results, trips.samples, trips.added, orders, rounds)


def report(
    results: dict[str, list[list[float]]],
    venue: list[float],
    added: list[float],
    orders: int,
    rounds: int,
) -> None:
    gw = summarize([s for r in results["gateway"] for s in r])
    cx = summarize([s for r in results["ccxt"] for s in r])
    vt = summarize(venue)
    print(f"Kraken Futures order -> ack, {orders} orders x {rounds} rounds each, one in flight")
    for label, summary in (
        ("gateway OrderEntry stream", gw),
        ("ccxt krakenfutures (REST)", cx),
        ("adapter venue round trip", vt),
    ):
        print(
            f"  {label:26} p50 {format_seconds(summary.median):>10}"
            f"  p99 {format_seconds(summary.p99):>10}   n={summary.count}"
        )
    print(
        f"  ratio gateway/ccxt         p50 {format_ratio(gw.median, cx.median):>10}"
        f"  p99 {format_ratio(gw.p99, cx.p99):>10}"
    )
    print(
        f"  ratio venue trip/ccxt      p50 {format_ratio(vt.median, cx.median):>10}"
        f"  p99 {format_ratio(vt.p99, cx.p99):>10}"
    )
    if added:
        a = summarize(added)
        print(
            f"gateway-added latency (OrderEntry request in -> sendorder out), n={a.count}\n"
            f"  p50 {format_seconds(a.median)}  p99 {format_seconds(a.p99)}"
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
    raise SystemExit(main())
