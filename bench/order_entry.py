"""Order-entry round trip: unary SubmitOrder against the bidirectional OrderEntry stream.

The real gateway (`GatewayApp`: SQLite journal in a temp dir, core, sessions, interceptors,
servicers) on 127.0.0.1 with the shipped paper venue, which acks at once, and the real Python
client (`AsyncClient.submit_order` vs `AsyncClient.order_entry().submit_order`), in one process
and one event loop. One order in flight at a time: each sample is the client-side round trip of
one resting limit order, request built to typed `Order` back, including the core's journal
commit of the order's reports before the answer. Both variants send the same orders (buy
BTC/USD below the paper price, so they rest and produce no fill traffic); open orders are
canceled between rounds, untimed, so both see the same book. Variants alternate per round
(unary, stream, then stream, unary, ...); p50 and p99 are over every sample of a variant.

A third variant, `unary-concurrent`, is unary with the service's bench-only switch
`bench_send_before_write_ahead` on: the order is sent while its PENDING_NEW commits, as the
gateway did before it waited for that record (which could leave an order live at the venue that
the journal never saw). Its ratio to `unary` is the latency cost of the write-ahead wait. The
paper venue answers at once, so nothing overlaps the commit there; `--venue-latency-ms` makes
it answer after that long (a network round trip, which the old behaviour overlapped).

    .venv/bin/python -m bench.order_entry [--orders 300] [--rounds 8] [--quick]
        [--venue-latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

from bench.common import (
    format_ratio,
    format_seconds,
    interleaved_async,
    start_gateway,
    summarize,
)
from krakengw import AsyncClient, Order

QTY = Decimal("0.01")
PRICE = Decimal("40000")

Submit = Callable[[str], Awaitable[Order]]


async def timed_round(
    client: AsyncClient, submit: Submit, ids: itertools.count[int], count: int
) -> list[float]:
    samples = []
    for _ in range(count):
        client_order_id = f"oe-{next(ids)}"
        start = time.perf_counter()
        await submit(client_order_id)
        samples.append(time.perf_counter() - start)
    await client.cancel_all_orders()  # untimed: the next round starts from an empty book
    return samples


async def run(orders: int, rounds: int, venue_latency: float = 0.0) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-order-entry-") as tmp:
        gw = await start_gateway(Path(tmp))
        gw.venue.latency = venue_latency
        client = AsyncClient(gw.target, gw.token)
        try:
            await client.logon()
            ids = itertools.count()
            async with client.order_entry() as entry:

                async def unary(client_order_id: str) -> Order:
                    return await client.submit_order(
                        "BTC/USD", "buy", QTY, price=PRICE, client_order_id=client_order_id
                    )

                async def stream(client_order_id: str) -> Order:
                    return await entry.submit_order(
                        "BTC/USD", "buy", QTY, price=PRICE, client_order_id=client_order_id
                    )

                async def unary_round() -> list[float]:
                    return await timed_round(client, unary, ids, orders)

                async def concurrent_round() -> list[float]:
                    gw.app.service.bench_send_before_write_ahead = True
                    try:
                        return await timed_round(client, unary, ids, orders)
                    finally:
                        gw.app.service.bench_send_before_write_ahead = False

                async def stream_round() -> list[float]:
                    return await timed_round(client, stream, ids, orders)

                variants = {
                    "unary": unary_round,
                    "stream": stream_round,
                    "unary-concurrent": concurrent_round,
                }
                # Warm-up (untimed): channel, stream, every code path.
                for submit in (unary, stream):
                    await timed_round(client, submit, ids, min(orders, 50))
                results = await interleaved_async(rounds, variants)
        finally:
            await client.close()
            await gw.app.stop()
    return {name: [s for batch in rounds_ for s in batch] for name, rounds_ in results.items()}


def report(
    results: dict[str, list[float]], orders: int, rounds: int, venue_latency: float = 0.0
) -> None:
    print(
        f"order entry round trip, real client -> gateway (journal on) -> paper venue ack "
        f"(after {format_seconds(venue_latency)}), 127.0.0.1: {orders} orders x {rounds} rounds "
        f"per variant, one in flight, interleaved"
    )
    unary = summarize(results["unary"])
    stream = summarize(results["stream"])
    concurrent = summarize(results["unary-concurrent"])
    for name, s in (("unary", unary), ("stream", stream), ("unary-concurrent", concurrent)):
        print(
            f"{name:16} p50 {format_seconds(s.median):>10}   p99 {format_seconds(s.p99):>10}   "
            f"{1 / s.median:7.0f} orders/s at p50   ({s.count} samples)"
        )
    print(
        f"ratio stream/unary: p50 {format_ratio(stream.median, unary.median)}, "
        f"p99 {format_ratio(stream.p99, unary.p99)} (below 1: the stream is faster)"
    )
    print(
        f"write-ahead cost, unary/unary-concurrent (PENDING_NEW durable before the send vs "
        f"sent while it commits): p50 {format_ratio(unary.median, concurrent.median)}, "
        f"p99 {format_ratio(unary.p99, concurrent.p99)}; p50 "
        f"{format_seconds(unary.median - concurrent.median)} per order"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.order_entry", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--orders", type=int, default=300, help="orders per round")
    parser.add_argument("--rounds", type=int, default=8, help="rounds per variant")
    parser.add_argument("--quick", action="store_true", help="100 orders x 3 rounds")
    parser.add_argument(
        "--venue-latency-ms", type=float, default=0.0, help="the paper venue's answer delay"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.rounds = 100, 3
    latency = args.venue_latency_ms / 1000
    results = asyncio.run(run(args.orders, args.rounds, latency))
    report(results, args.orders, args.rounds, latency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
