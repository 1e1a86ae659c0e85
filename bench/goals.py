"""The performance goals of the gateway, each measured against a floor taken in the same run.

    .venv/bin/python -m bench.goals            # quick (the default): under 3 minutes
    .venv/bin/python -m bench.goals --full     # bigger samples, stage breakdown, more steps

Prints one line per goal, `GOAL <name> <measured> <op> <target> MET|MISSED`, after the figures
it is computed from; exits 0 either way (the machine may be too loaded to meet a goal). Ratios
are medians (or p99) of variants interleaved round by round, never absolute times:

* order_ack_vs_floor_p50 / _p99: one resting limit order in flight, from the Python client's
  OrderEntry stream call to its typed ack, through the real gateway (SQLite journal) to the
  Kraken simulator (its own process, rate limits off), Spot (WS v2 add_order) and Futures (REST
  sendorder). Floor = (a) a bare grpc.aio bidi echo of the same request bytes, client and server
  in this process like the gateway's, plus (b) the venue alone: a minimal `websockets` client
  sending add_order to the same simulator (Spot), a minimal aiohttp sendorder (Futures). The
  ratio is gateway / (a + b), per venue; the goal line shows the worse venue.
* cpu_per_order_vs_grpc: server CPU seconds (from /proc) per order at a sustained 400 orders/s
  over 20 streams, the gateway (paper venue, own process) against the bare echo server (own
  process) under the same load generator (its own process); median of interleaved rounds.
* orders_per_s_p99_10ms: one gateway process, paper venue, 100 sessions, load generator in
  another process: the highest rate step it answered in full with p99 <= 10 ms.
* journal_stream_vs_plain, replay_reports_per_s: bench.journal_stream's like-for-like ratio
  (journaled single-message stream / plain grpc.aio stream) and its batched replay from
  sequence 0 into the Python client.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from bench import journal_stream
from bench.common import (
    format_seconds,
    interleaved_async,
    start_simulator,
    summarize,
)
from bench.gateway_vs_ccxt import _secret, _UnpacedGovernor
from bench.load import ECHO_METHOD, order_request, start_echo
from gateway.api.servicers.orders import OrderServicer
from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.ports import AccountVenues, JournalPort, VenuePorts
from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import KrakenNonceSource
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.futures.auth import KrakenFuturesSigner
from gateway.venues.kraken.futures.factory import build_kraken_futures_venue
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.wire_values import VENUE as FUTURES_VENUE
from gateway.venues.kraken.spot.factory import build_kraken_spot_venue
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient
from krakengw import AsyncClient

QTY = Decimal("0.01")
SPOT_SYMBOL = "BTC/USD"
FUTURES_SYMBOL = "BTC/USD:USD"
FUTURES_WIRE_SYMBOL = "PF_XBTUSD"
SENDORDER_PATH = "/derivatives/api/v3/sendorder"
CPU_RATE = 400.0
CPU_STREAMS = 20
CAPACITY_SESSIONS = 100
CAPACITY_P99 = 0.010

GATEWAY_CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 300
heartbeat_timeout_s = 900
shutdown_grace_s = 1

[accounts.bench]
permissions = ["read", "trade"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[sessions.bench]
account = "bench"
token_env = "BENCH_TOKEN"
"""


@dataclass(frozen=True)
class Sizes:
    orders: int  # order -> ack: orders per round and variant
    rounds: int
    cpu_seconds: float  # per CPU round and side
    cpu_rounds: int
    capacity_rates: tuple[float, ...]
    capacity_seconds: float
    reports: int  # journal stream: reports per round
    stream_rounds: int
    replay: int  # reports replayed from sequence 0
    breakdown: bool
    warmup: float = 1.0  # seconds of untimed load before each load step


QUICK = Sizes(60, 3, 3.0, 2, (100, 200, 400, 800, 1200, 1500, 2000), 3.0, 1000, 3, 10_000, False)
FULL = Sizes(
    200,
    6,
    6.0,
    4,
    (100, 200, 400, 600, 800, 1000, 1200, 1500, 1800, 2200),
    6.0,
    5000,
    7,
    50_000,
    True,
)


@dataclass(frozen=True)
class Goal:
    name: str
    measured: float
    op: str  # "<=" or ">="
    target: float

    @property
    def met(self) -> bool:
        return self.measured <= self.target if self.op == "<=" else self.measured >= self.target

    def line(self) -> str:
        value = f"{self.measured:.0f}" if self.target >= 100 else f"{self.measured:.2f}"
        target = f"{self.target:.0f}" if self.target >= 100 else f"{self.target:.2f}"
        verdict = "MET" if self.met else "MISSED"
        return f"GOAL {self.name} {value} {self.op} {target} {verdict}"


# -- goal 1: order -> ack against the floor ------------------------------------------------


def write_accounts(path: Path) -> None:
    """Two simulator accounts (gateway, floor), each with a Spot and a Futures key, so the
    gateway's nonces and the floor's never meet."""
    lines = []
    for i, name in enumerate(("gateway", "floor")):
        lines += [
            "[[accounts]]",
            f'id = "AABENCHGL{i:05d}"',
            'tier = "pro"',
            'balances = { ZUSD = "100000000", XXBT = "100000" }',
            'futures_balances = { USD = "100000000" }',
            "[[accounts.keys]]",
            f'key = "bench-{name}-key"',
            f'secret = "{_secret(name)}"',
            "[[accounts.keys]]",
            f'key = "bench-{name}-fkey"',
            f'secret = "{_secret(name + "-f")}"',
            'venue = "futures"',
            "",
        ]
    path.write_text("\n".join(lines))


@dataclass
class Stages:
    """Stage timestamps of the one order in flight (perf_counter), filled by taps."""

    marks: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, float]] = field(default_factory=list)
    on: bool = False

    def mark(self, name: str) -> None:
        if self.on:
            self.marks[name] = time.perf_counter()

    def close(self, start: float, end: float) -> None:
        if self.on and len(self.marks) == 4:
            m = self.marks
            self.rows.append(
                {
                    "client -> servicer": m["entry"] - start,
                    "servicer -> venue request out": m["sent"] - m["entry"],
                    "venue round trip": m["answer"] - m["sent"],
                    "venue answer -> ack queued": m["acked"] - m["answer"],
                    "ack queued -> client": end - m["acked"],
                }
            )
        self.marks = {}


def tap_servicer(stages: Stages) -> Callable[[], None]:
    original = OrderServicer._entry

    async def entry(servicer: Any, req: Any, acks: Any) -> None:
        stages.mark("entry")
        await original(servicer, req, acks)
        stages.mark("acked")

    OrderServicer._entry = entry  # type: ignore[method-assign]

    def restore() -> None:
        OrderServicer._entry = original  # type: ignore[method-assign]

    return restore


def tap_venue_call(holder: Any, attr: str, stages: Stages, wanted: str) -> None:
    """Mark request out / answer in around `holder.attr(method, ...)` for `wanted` only."""
    original = getattr(holder, attr)

    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        if method != wanted:
            return await original(method, *args, **kwargs)
        stages.mark("sent")
        try:
            return await original(method, *args, **kwargs)
        finally:
            stages.mark("answer")

    setattr(holder, attr, call)


async def start_kraken_gateway(
    directory: Path, urls: dict[str, str], journal_holder: list[JournalPort]
) -> tuple[GatewayApp, Any, Any, str, str]:
    token = "bench-goals-token-0123456789abcdef"
    path = directory / "gateway.toml"
    path.write_text(GATEWAY_CONFIG)
    env = {
        "SPOT_KEY": "bench-gateway-key",
        "SPOT_SECRET": _secret("gateway"),
        "FUT_KEY": "bench-gateway-fkey",
        "FUT_SECRET": _secret("gateway-f"),
        "BENCH_TOKEN": token,
    }
    config = load_config(path, environ=env)
    venues: list[Any] = []

    async def open_journal(data_dir: Path) -> JournalPort:
        journal_holder.append(await SqliteJournal.open(data_dir))
        return journal_holder[0]

    async def build(account: AccountConfig) -> AccountVenues:
        governor = _UnpacedGovernor(KrakenTier.PRO)
        governor.trading.set_threshold(1e12)
        spot = await build_kraken_spot_venue(
            account=account.name,
            credentials=KrakenCredentials("bench-gateway-key", _secret("gateway")),
            journal=journal_holder[0],
            rest_url=urls["spot_rest"],
            ws_public_url=urls["spot_ws_public"],
            ws_private_url=urls["spot_ws_private"],
            governor=governor,
        )
        futures = await build_kraken_futures_venue(
            account=account.name,
            credentials=KrakenCredentials("bench-gateway-fkey", _secret("gateway-f")),
            journal=journal_holder[0],
            rest_url=urls["spot_rest"],
            ws_url=urls["futures_ws"],
            governor=KrakenFuturesRateGovernor(derivatives_budget=1e12),
        )
        venues.extend([spot.venue, futures.venue])

        async def close() -> None:
            await spot.close()
            await futures.close()

        return AccountVenues.of(
            VenuePorts(
                order_entry=spot.venue,
                account=spot.venue,
                instruments=spot.venue,
                market_data=spot.market_data,
            ),
            VenuePorts(
                order_entry=futures.venue,
                account=futures.venue,
                instruments=futures.venue,
                market_data=futures.market_data,
            ),
            closers=[close],
        )

    app = await GatewayApp.build(config, venues=build, journal_factory=open_journal, metrics=False)
    port = await app.start()
    return app, venues[0], venues[1], f"127.0.0.1:{port}", token


class SpotFloor:
    """Floor (b), Spot: a minimal websockets client sending add_order on the private WS v2 and
    waiting for the answer with its req_id."""

    def __init__(self, url: str, token: str, price: Decimal) -> None:
        self.url = url
        self.token = token
        self.price = price
        self.ids = itertools.count(1)
        self.ws: Any = None

    async def open(self) -> None:
        self.ws = await websockets.connect(self.url, compression=None)

    async def order(self) -> None:
        req_id = next(self.ids)
        params = {
            "order_type": "limit",
            "side": "buy",
            "order_qty": float(QTY),
            "limit_price": float(self.price),
            "symbol": SPOT_SYMBOL,
            "token": self.token,
        }
        await self.ws.send(json.dumps({"method": "add_order", "params": params, "req_id": req_id}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("req_id") == req_id:
                if not msg.get("success"):
                    raise RuntimeError(f"floor add_order refused: {msg.get('error')}")
                return

    async def cancel_all(self) -> None:
        req_id = next(self.ids)
        message = {"method": "cancel_all", "params": {"token": self.token}, "req_id": req_id}
        await self.ws.send(json.dumps(message))
        while json.loads(await self.ws.recv()).get("req_id") != req_id:
            pass

    async def close(self) -> None:
        await self.ws.close()


class FuturesFloor:
    """Floor (b), Futures: a minimal aiohttp sendorder, signed, keep-alive connection."""

    def __init__(self, base: str, price: Decimal) -> None:
        self.url = base.rstrip("/") + SENDORDER_PATH
        self.price = price
        self.signer = KrakenFuturesSigner(KrakenCredentials("bench-floor-fkey", _secret("floor-f")))
        self.nonce = time.time_ns() // 1000
        self.http = aiohttp.ClientSession()

    async def order(self) -> None:
        self.nonce += 1
        body = (
            f"orderType=lmt&symbol={FUTURES_WIRE_SYMBOL}&side=buy&size={QTY}"
            f"&limitPrice={self.price}"
        )
        headers = self.signer.headers(SENDORDER_PATH, body, self.nonce)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            payload = await response.json(content_type=None)
        if payload.get("result") != "success":
            raise RuntimeError(f"floor sendorder refused: {payload}")

    async def cancel_all(self) -> None:
        self.nonce += 1
        path = "/derivatives/api/v3/cancelallorders"
        headers = self.signer.headers(path, "", self.nonce)
        url = self.url.removesuffix(SENDORDER_PATH) + path
        async with self.http.post(url, data=b"", headers=headers) as response:
            await response.read()

    async def close(self) -> None:
        await self.http.close()


class EchoFloor:
    """Floor (a): a bare grpc.aio bidi echo of an OrderEntry request's bytes, server and
    client in this process (the gateway's layout)."""

    def __init__(self) -> None:
        self.ids = itertools.count()
        self.server: Any = None
        self.channel: Any = None
        self.call: Any = None

    async def open(self) -> None:
        import grpc

        self.server, target = await start_echo()
        self.channel = grpc.aio.insecure_channel(target)
        method = self.channel.stream_stream(
            ECHO_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        self.call = method()

    async def order(self) -> None:
        n = next(self.ids)
        await self.call.write(order_request(str(n), f"echo-{n}").SerializeToString())
        await self.call.read()

    async def close(self) -> None:
        self.call.cancel()
        await self.channel.close()
        await self.server.stop(0)


async def _timed(
    count: int, once: Callable[[], Awaitable[Any]], stages: Stages | None
) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await once()
        end = time.perf_counter()
        samples.append(end - start)
        if stages is not None:
            stages.close(start, end)
    return samples


async def order_ack(sizes: Sizes) -> dict[str, Any]:
    """Samples per variant (seconds) and the stage rows of the gateway variants."""
    with tempfile.TemporaryDirectory(prefix="bench-goals-ack-") as tmp:
        accounts = Path(tmp) / "accounts.toml"
        write_accounts(accounts)
        proc, urls = await start_simulator(
            accounts, wanted=("spot_rest", "spot_ws_private", "spot_ws_public", "futures_ws")
        )
        journal: list[JournalPort] = []
        stages = {"spot": Stages(), "futures": Stages()}
        restore = tap_servicer(_Either(stages))
        app, spot_venue, futures_venue, target, token = await start_kraken_gateway(
            Path(tmp), urls, journal
        )
        tap_venue_call(spot_venue.ws, "trade", stages["spot"], "add_order")
        tap_venue_call(futures_venue._rest, "write", stages["futures"], "sendorder")
        client = AsyncClient(target, token)
        echo = EchoFloor()
        spot_floor: SpotFloor | None = None
        futures_floor: FuturesFloor | None = None
        try:
            await client.logon()
            spot_ticker = await client.get_ticker(SPOT_SYMBOL)
            fut_ticker = await client.get_ticker(FUTURES_SYMBOL, venue=FUTURES_VENUE)
            assert spot_ticker.bid is not None and fut_ticker.bid is not None
            spot_price = (spot_ticker.bid * Decimal("0.7")).quantize(Decimal("0.1"))
            fut_price = (fut_ticker.bid * Decimal("0.7")).quantize(Decimal("1"))
            rest = KrakenSpotRestClient(
                urls["spot_rest"],
                KrakenCredentials("bench-floor-key", _secret("floor")),
                KrakenNonceSource("bench-floor-key", journal[0]),
                KrakenRateGovernor(KrakenTier.PRO),
            )
            ws_token = str((await rest.read("GetWebSocketsToken"))["token"])
            await rest.close()
            spot_floor = SpotFloor(urls["spot_ws_private"], ws_token, spot_price)
            await spot_floor.open()
            futures_floor = FuturesFloor(urls["spot_rest"], fut_price)
            await echo.open()
            ids = itertools.count()
            async with client.order_entry() as entry:

                def gateway(
                    symbol: str, venue: str, price: Decimal
                ) -> Callable[[], Awaitable[Any]]:
                    async def once() -> None:
                        order = await entry.submit_order(
                            symbol,
                            "buy",
                            QTY,
                            price=price,
                            venue=venue,
                            client_order_id=f"g{next(ids)}",
                        )
                        if order.reject is not None:
                            raise RuntimeError(f"the gateway refused a bench order: {order.reject}")

                    return once

                spot_once = gateway(SPOT_SYMBOL, "kraken", spot_price)
                fut_once = gateway(FUTURES_SYMBOL, FUTURES_VENUE, fut_price)

                def variant(
                    once: Callable[[], Awaitable[Any]],
                    after: Callable[[], Awaitable[Any]] | None,
                    stage: Stages | None = None,
                ) -> Callable[[], Awaitable[list[float]]]:
                    async def run() -> list[float]:
                        samples = await _timed(sizes.orders, once, stage)
                        if after is not None:
                            await after()  # untimed: the book stays small
                        return samples

                    return run

                async def cancel_gateway() -> None:
                    await client.cancel_all_orders()

                variants = {
                    "echo": variant(echo.order, None),
                    "spot_floor": variant(spot_floor.order, spot_floor.cancel_all),
                    "futures_floor": variant(futures_floor.order, futures_floor.cancel_all),
                    "spot_gateway": variant(spot_once, cancel_gateway),
                    "futures_gateway": variant(fut_once, cancel_gateway),
                }
                await interleaved_async(1, variants)  # warm-up, untimed
                results: dict[str, Any] = await interleaved_async(sizes.rounds, variants)
                if sizes.breakdown:
                    for name, once in (("spot", spot_once), ("futures", fut_once)):
                        stages[name].on = True
                        await _timed(sizes.orders, once, stages[name])
                        stages[name].on = False
                        await client.cancel_all_orders()
        finally:
            restore()
            await client.close()
            await echo.close()
            if spot_floor is not None:
                await spot_floor.close()
            if futures_floor is not None:
                await futures_floor.close()
            await app.stop()
            proc.terminate()
            await proc.wait()
    flat = {name: [s for r in rounds for s in r] for name, rounds in results.items()}
    return {"samples": flat, "stages": {k: v.rows for k, v in stages.items()}}


class _Either(Stages):
    """Servicer marks go to whichever venue's stage record is on (one at a time)."""

    def __init__(self, by_venue: dict[str, Stages]) -> None:
        super().__init__()
        self.by_venue = by_venue

    def mark(self, name: str) -> None:
        for stages in self.by_venue.values():
            stages.mark(name)


def report_order_ack(result: dict[str, Any]) -> list[Goal]:
    s = {name: summarize(v) for name, v in result["samples"].items()}
    print("order -> ack, one order in flight, interleaved rounds:")
    for name, x in s.items():
        print(
            f"  {name:16} p50 {format_seconds(x.median):>10}  p99 {format_seconds(x.p99):>10}"
            f"  ({x.count} samples)"
        )
    p50s, p99s = [], []
    for venue in ("spot", "futures"):
        gw, floor, echo = s[f"{venue}_gateway"], s[f"{venue}_floor"], s["echo"]
        r50 = gw.median / (echo.median + floor.median)
        r99 = gw.p99 / (echo.p99 + floor.p99)
        p50s.append(r50)
        p99s.append(r99)
        print(
            f"  {venue}: gateway / (echo + {venue} floor) p50 x{r50:.2f}, p99 x{r99:.2f} "
            f"(floor p50 {format_seconds(echo.median + floor.median)}, "
            f"p99 {format_seconds(echo.p99 + floor.p99)})"
        )
    for venue, rows in result["stages"].items():
        if not rows:
            continue
        print(f"  {venue} order time by stage (medians of {len(rows)} orders):")
        for stage in rows[0]:
            values = summarize([r[stage] for r in rows])
            print(
                f"    {stage:30} p50 {format_seconds(values.median):>10}"
                f"  p99 {format_seconds(values.p99):>10}"
            )
    return [
        Goal("order_ack_vs_floor_p50", max(p50s), "<=", 1.5),
        Goal("order_ack_vs_floor_p99", max(p99s), "<=", 2.0),
    ]


# -- goals 2 and 3: servers in their own processes -------------------------------------------


class Server:
    """`python -m bench.load serve-...` as a child; ends when its stdin closes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.load", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if line[:1] != ["READY"]:
            self.stop()
            raise RuntimeError(f"bench.load {args[0]} did not start")
        self.target = line[1]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _generator_args(
    server: Server,
    kind: str,
    streams: int,
    rates: list[float],
    seconds: float,
    warmup: float,
    tokens: Path | None,
    max_p99: float | None,
) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "bench.load",
        "generate",
        "--target",
        server.target,
        "--kind",
        kind,
        "--streams",
        str(streams),
        "--rates",
        ",".join(f"{r:g}" for r in rates),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        "--server-pid",
        str(server.proc.pid),
    ]
    if tokens is not None:
        args += ["--tokens", str(tokens)]
    if max_p99 is not None:
        args += ["--max-p99", str(max_p99)]
    return args


def _steps(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{err[-2000:]}")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def generate(
    server: Server,
    kind: str,
    streams: int,
    rates: list[float],
    seconds: float,
    warmup: float,
    tokens: Path | None = None,
    max_p99: float | None = None,
) -> list[dict[str, Any]]:
    """One generator process against `server`; its JSON line per rate step."""
    args = _generator_args(server, kind, streams, rates, seconds, warmup, tokens, max_p99)
    return _steps(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))


def cpu_per_order(sizes: Sizes) -> list[Goal]:
    with tempfile.TemporaryDirectory(prefix="bench-goals-cpu-") as tmp:
        gateway = Server("serve-gateway", "--dir", tmp, "--sessions", str(CPU_STREAMS))
        echo = Server("serve-echo")
        tokens = Path(tmp) / "tokens"
        try:
            per: dict[str, list[float]] = {"gateway": [], "echo": []}
            lat: dict[str, list[float]] = {"gateway": [], "echo": []}
            for i in range(sizes.cpu_rounds):
                order = ["gateway", "echo"] if i % 2 == 0 else ["echo", "gateway"]
                for name in order:
                    server, kind = (gateway, "gateway") if name == "gateway" else (echo, "echo")
                    (step,) = generate(
                        server,
                        kind,
                        CPU_STREAMS,
                        [CPU_RATE],
                        sizes.cpu_seconds,
                        sizes.warmup,
                        tokens if kind == "gateway" else None,
                    )
                    per[name].append(step["cpu"] / max(1, step["answered"]))
                    lat[name].append(step["p99"])
        finally:
            gateway.stop()
            echo.stop()
    gw, ec = summarize(per["gateway"]), summarize(per["echo"])
    print(
        f"CPU per order at {CPU_RATE:.0f}/s over {CPU_STREAMS} streams, {sizes.cpu_rounds} "
        f"interleaved rounds of {sizes.cpu_seconds:.0f} s (server process, /proc):\n"
        f"  gateway (paper venue) median {format_seconds(gw.median)}  "
        f"echo server median {format_seconds(ec.median)}  "
        f"(p99 latency gateway {format_seconds(summarize(lat['gateway']).median)}, "
        f"echo {format_seconds(summarize(lat['echo']).median)})"
    )
    return [Goal("cpu_per_order_vs_grpc", gw.median / ec.median, "<=", 1.5)]


def capacity_steps(sizes: Sizes, processes: int) -> list[dict[str, Any]]:
    """Paced steps against `processes` gateway processes, each with its share of the sessions
    and its own generator at its share of the rate, all at once. A step's figures: rates
    summed, p50 and p99 the worst process's (so a combined p99 is never understated)."""
    with tempfile.TemporaryDirectory(prefix="bench-goals-cap-") as tmp:
        sessions = CAPACITY_SESSIONS // processes
        servers: list[Server] = []
        try:
            for i in range(processes):
                directory = Path(tmp) / f"gw{i}"
                directory.mkdir()
                servers.append(
                    Server("serve-gateway", "--dir", str(directory), "--sessions", str(sessions))
                )
            rates = [r / processes for r in sizes.capacity_rates]
            procs = [
                subprocess.Popen(
                    _generator_args(
                        server,
                        "gateway",
                        sessions,
                        rates,
                        sizes.capacity_seconds,
                        sizes.warmup,
                        Path(tmp) / f"gw{i}" / "tokens",
                        CAPACITY_P99,
                    ),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i, server in enumerate(servers)
            ]
            per_process = [_steps(proc) for proc in procs]
        finally:
            for server in servers:
                server.stop()
    combined = []
    for parts in zip(*per_process, strict=False):  # the steps every process ran
        combined.append(
            {
                "rate": sum(p["rate"] for p in parts),
                "sent": sum(p["sent"] for p in parts),
                "answered": sum(p["answered"] for p in parts),
                "achieved": sum(p["achieved"] for p in parts),
                "p50": max(p["p50"] for p in parts),
                "p99": max(p["p99"] for p in parts),
            }
        )
    return combined


def capacity(sizes: Sizes, processes: tuple[int, ...] = (1,)) -> list[Goal]:
    goals = []
    for count in processes:
        steps = capacity_steps(sizes, count)
        print(
            f"{count} gateway process{'es' if count > 1 else ''}, paper venue, "
            f"{CAPACITY_SESSIONS} sessions in all, paced steps (load generator per process):"
        )
        best = 0.0
        for step in steps:
            ok = step["p99"] <= CAPACITY_P99 and step["answered"] >= 0.95 * step["sent"]
            if ok:
                best = max(best, step["achieved"])
            print(
                f"  {step['rate']:6.0f}/s asked  {step['achieved']:7.0f}/s answered  "
                f"p50 {format_seconds(step['p50']):>10}  p99 {format_seconds(step['p99']):>10}  "
                f"{'ok' if ok else 'over'}"
            )
        print(f"  highest rate with p99 <= 10 ms: {best:.0f} orders/s with {count} process(es)")
        if count == 1:
            goals.append(Goal("orders_per_s_p99_10ms", best, ">=", 1500))
    return goals


# -- goal 4: the journaled stream and replay ---------------------------------------------------


def journal(sizes: Sizes) -> list[Goal]:
    results = asyncio.run(
        journal_stream.run(sizes.reports, sizes.stream_rounds, 100, replay=sizes.replay)
    )
    journal_stream.report(results, sizes.reports, sizes.stream_rounds, 100, replay=sizes.replay)
    plain = summarize(results["plain"]).median
    journaled = summarize(results["journal"]).median
    batched = summarize(results["replay-batched"]).median
    return [
        Goal("journal_stream_vs_plain", plain / journaled, ">=", 0.9),
        Goal("replay_reports_per_s", sizes.replay / batched, ">=", 50_000),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.goals", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the default: under 3 minutes")
    parser.add_argument("--full", action="store_true", help="bigger samples, stage breakdown")
    parser.add_argument(
        "--only", default="", help="comma-separated: order_ack,cpu,capacity,journal"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply sample sizes (tests)")
    parser.add_argument(
        "--processes",
        default="",
        help="capacity with these gateway process counts too, e.g. 1,2 (default 1; --full 1,2)",
    )
    args = parser.parse_args(argv)
    sizes = FULL if args.full else QUICK
    if args.scale != 1.0:
        sizes = _scaled(sizes, args.scale)
    wanted = set(filter(None, args.only.split(","))) or {"order_ack", "cpu", "capacity", "journal"}
    goals: list[Goal] = []
    if "order_ack" in wanted:
        goals += report_order_ack(asyncio.run(order_ack(sizes)))
    if "cpu" in wanted:
        goals += cpu_per_order(sizes)
    if "capacity" in wanted:
        counts = args.processes or ("1,2" if args.full else "1")
        processes = tuple(sorted({1, *(int(c) for c in counts.split(","))}))
        goals += capacity(sizes, processes)
    if "journal" in wanted:
        goals += journal(sizes)
    for goal in goals:
        print(goal.line(), flush=True)
    return 0


def _scaled(sizes: Sizes, factor: float) -> Sizes:
    return Sizes(
        orders=max(2, int(sizes.orders * factor)),
        rounds=max(1, int(sizes.rounds * factor)),
        cpu_seconds=max(0.2, sizes.cpu_seconds * factor),
        cpu_rounds=max(1, int(sizes.cpu_rounds * factor)),
        capacity_rates=sizes.capacity_rates[: max(1, int(len(sizes.capacity_rates) * factor))],
        capacity_seconds=max(0.2, sizes.capacity_seconds * factor),
        reports=max(20, int(sizes.reports * factor)),
        stream_rounds=max(1, int(sizes.stream_rounds * factor)),
        replay=max(20, int(sizes.replay * factor)),
        breakdown=sizes.breakdown or factor < 1,
        warmup=max(0.1, sizes.warmup * factor),
    )


if __name__ == "__main__":
    raise SystemExit(main())
