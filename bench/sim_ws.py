"""Simulator Spot WS v2 book feed: book update messages/s over a real WebSocket.

Measured in one process and one event loop, client included, for both sides of the ratio:

* simulator: each step changes the BTC/USD book through the engine (a resting bid added, then
  cancelled), and the `book` subscribers (depth 10) receive the checksummed update;
* baseline: a bare aiohttp WebSocket server pushes the very frames the simulator sent (same
  sizes, pre-encoded) to the same client code;
* engine: the same book changes with nobody subscribed, to show the engine's share.

Both sides keep at most `--window` messages in flight, parse every frame, and report p50/p99
latency (change -> client receive), messages/s per round (median over rounds) and the ratio.

    .venv/bin/python -m bench.sim_ws [--messages 4000] [--clients 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
from aiohttp import web

from simulator.app import SimulatorServer
from simulator.context import make_context
from simulator.engine.clock import ManualClock
from simulator.engine.model import OrderParams, OrderType, Side
from simulator.engine.spot import SpotEngine
from simulator.spot.limits import LimitsConfig

ACCOUNT = "AABENCHWS00001"
PAIR = "XXBTZUSD"


@dataclass
class Round:
    latencies: list[float]
    elapsed: float
    messages: int

    @property
    def rate(self) -> float:
        return self.messages / self.elapsed


@dataclass
class Series:
    name: str
    rounds: list[Round] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(x for r in self.rounds for x in r.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def median_rate(self) -> float:
        return statistics.median(r.rate for r in self.rounds)

    def line(self, clients: int) -> str:
        return (
            f"{self.name:9} p50={self.quantile(0.5) * 1e6:8.1f} us  "
            f"p99={self.quantile(0.99) * 1e6:8.1f} us  {self.median_rate:8.0f} updates/s "
            f"({self.median_rate * clients:8.0f} deliveries/s, median of rounds)"
        )


class Pacer:
    """Matches every client's i-th update to step i and lets the producer run `window` ahead."""

    def __init__(self, steps: int, clients: int, window: int) -> None:
        self.expected = steps * clients
        self.clients = clients
        self.window = window
        self.received = 0
        self.sent_at: list[float] = []
        self.latencies: list[float] = []
        self._progress = asyncio.Event()
        self.done = asyncio.Event()

    def on_message(self, step: int) -> None:
        self.latencies.append(time.perf_counter() - self.sent_at[step])
        self.received += 1
        self._progress.set()
        if self.received >= self.expected:
            self.done.set()

    async def produced(self, steps: int) -> None:
        """Record step `steps - 1` as sent and wait while too many messages are in flight."""
        while steps * self.clients - self.received > self.window * self.clients:
            self._progress.clear()
            await self._progress.wait()


async def _read_book_updates(
    ws: aiohttp.ClientWebSocketResponse, pacer: Pacer, steps: int, capture: list[str] | None
) -> None:
    step = 0
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        parsed = json.loads(message.data)
        if parsed.get("channel") != "book" or parsed.get("type") != "update":
            continue
        if capture is not None:
            capture.append(message.data)
        pacer.on_message(step)
        step += 1
        if step >= steps:
            return


def _engine_step(engine: SpotEngine, step: int, resting: list[str]) -> None:
    """Alternately add a new best bid and cancel it: one book update each."""
    if resting:
        engine.cancel_order(ACCOUNT, resting.pop())
        return
    price = Decimal("99951.0") + Decimal(step % 80) / 10
    added = engine.add_order(
        ACCOUNT,
        OrderParams(
            pair=PAIR, side=Side.BUY, ordertype=OrderType.LIMIT, volume="0.01", price=price
        ),
    )
    assert added.txid is not None
    resting.append(added.txid)


async def simulator_round(
    messages: int, clients: int, window: int, capture: list[str] | None
) -> Round:
    # A manual clock keeps the market maker still: the only book changes are the bench's.
    ctx = make_context(seed=1, clock=ManualClock(), limits=LimitsConfig(enforce=False))
    engine = ctx.spot()
    engine.create_account(ACCOUNT, {"ZUSD": "1000000000"})
    async with SimulatorServer(context=ctx) as sim, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(sim.spot_ws_public_url) for _ in range(clients)]
        for ws in sockets:
            await ws.send_str(
                json.dumps(
                    {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}}
                )
            )
            while json.loads((await ws.receive()).data).get("type") != "snapshot":
                pass
        pacer = Pacer(messages, clients, window)
        readers = [
            asyncio.create_task(
                _read_book_updates(ws, pacer, messages, capture if i == 0 else None)
            )
            for i, ws in enumerate(sockets)
        ]
        start = time.perf_counter()
        resting: list[str] = []
        for step in range(messages):
            _engine_step(engine, step, resting)
            pacer.sent_at.append(time.perf_counter())
            await asyncio.sleep(0)  # let the flush publish this change on its own
            await pacer.produced(step + 1)
        await pacer.done.wait()
        elapsed = time.perf_counter() - start
        await asyncio.gather(*readers)
        for ws in sockets:
            await ws.close()
    return Round(pacer.latencies, elapsed, messages)


async def baseline_round(frames: list[str], clients: int, window: int) -> Round:
    """The same frames pushed by a bare aiohttp WS server to the same client code."""
    messages = len(frames)
    pacer = Pacer(messages, clients, window)
    subscribers: list[web.WebSocketResponse] = []
    ready = asyncio.Event()
    finished = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        subscribers.append(ws)
        if len(subscribers) == clients:
            ready.set()
        await finished.wait()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(f"http://127.0.0.1:{port}/ws") for _ in range(clients)]
        await ready.wait()
        readers = [
            asyncio.create_task(_read_book_updates(ws, pacer, messages, None)) for ws in sockets
        ]
        start = time.perf_counter()
        for step, frame in enumerate(frames):
            pacer.sent_at.append(time.perf_counter())
            for subscriber in subscribers:
                await subscriber.send_str(frame)
            await asyncio.sleep(0)
            await pacer.produced(step + 1)
        await pacer.done.wait()
        elapsed = time.perf_counter() - start
        await asyncio.gather(*readers)
        finished.set()
        for ws in sockets:
            await ws.close()
    await runner.cleanup()
    return Round(pacer.latencies, elapsed, messages)


def engine_only_rate(messages: int) -> float:
    """The same book changes with no WS subscriber: the engine's share of a step."""
    ctx = make_context(seed=1, clock=ManualClock(), limits=LimitsConfig(enforce=False))
    engine = ctx.spot()
    engine.create_account(ACCOUNT, {"ZUSD": "1000000000"})
    resting: list[str] = []
    start = time.perf_counter()
    for step in range(messages):
        _engine_step(engine, step, resting)
    return messages / (time.perf_counter() - start)


async def measure(name: str, rounds: int, run: Callable[[], Awaitable[Round]]) -> Series:
    series = Series(name)
    for _ in range(rounds):
        series.rounds.append(await run())
    return series


async def main_async(messages: int, clients: int, rounds: int, window: int) -> None:
    frames: list[str] = []
    await simulator_round(min(messages, 200), clients, window, None)  # warm-up
    sim = Series("simulator")
    for index in range(rounds):
        capture = frames if index == 0 else None
        sim.rounds.append(await simulator_round(messages, clients, window, capture))
    base = await measure("baseline", rounds, lambda: baseline_round(frames, clients, window))
    mean_size = sum(len(f) for f in frames) / len(frames)
    print(
        f"book updates over WS: {messages} messages x {clients} client(s), window {window}, "
        f"{rounds} rounds, mean frame {mean_size:.0f} bytes"
    )
    print(sim.line(clients))
    print(base.line(clients))
    engine_rate = statistics.median(engine_only_rate(messages) for _ in range(rounds))
    print(f"engine    {engine_rate:8.0f} book changes/s with no subscriber (engine alone)")
    print(
        f"ratio simulator/baseline: throughput {sim.median_rate / base.median_rate:.2f}x, "
        f"p50 latency {sim.quantile(0.5) / base.quantile(0.5):.2f}x, "
        f"p99 latency {sim.quantile(0.99) / base.quantile(0.99):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(main_async(args.messages, args.clients, args.rounds, args.window))


if __name__ == "__main__":
    main()
