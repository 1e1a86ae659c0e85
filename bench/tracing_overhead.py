"""What OpenTelemetry tracing of the order path costs, off (the default) and on.

The real gateway (`GatewayApp`: SQLite journal, core, interceptors, servicers) with the paper
venue on 127.0.0.1 and the real Python client, one process, one event loop, one order in flight:
unary SubmitOrder round trips, rounds alternating between tracing off (every `span()` call site
returns the shared no-op) and on (the OpenTelemetry SDK recording every span, batch processor,
an exporter that drops them: the SDK's own cost, no I/O). Same gateway, same run, interleaved.

"Off" is the code path that ships; it differs from the code before tracing existed only by the
`span()` calls on the path (two per SubmitOrder on the paper venue: gRPC, core; three with the
Kraken adapter). Their cost is measured directly too (ns per call) and put against the order's
p50, since no same-run build without the hooks exists to time.

    .venv/bin/python -m bench.tracing_overhead [--orders 300] [--rounds 6] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from bench.common import format_ratio, format_seconds, interleaved_async, start_gateway, summarize
from gateway.core import tracing
from krakengw import AsyncClient

QTY = Decimal("0.01")
PRICE = Decimal("40000")
HOOKS_PER_ORDER = 2  # grpc + core on the paper venue


class _Drop(SpanExporter):
    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def _factory(provider: TracerProvider) -> tracing.SpanFactory:
    tracer = provider.get_tracer("bench")

    def factory(name: str, client_order_id: str) -> Any:
        attributes = {"krakengw.client_order_id": client_order_id} if client_order_id else None
        return tracer.start_as_current_span(name, attributes=attributes)

    return factory


def off_hook_ns(calls: int = 1_000_000) -> float:
    """Nanoseconds per `with span(...)` while tracing is off."""
    span = tracing.span
    start = time.perf_counter()
    for _ in range(calls):
        with span("core.submit", "x"):
            pass
    return (time.perf_counter() - start) / calls * 1e9


async def run(orders: int, rounds: int) -> tuple[dict[str, list[float]], int]:
    exporter = _Drop()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    on = _factory(provider)
    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp:
        gw = await start_gateway(Path(tmp))
        client = AsyncClient(gw.target, gw.token)
        ids = itertools.count()
        try:
            await client.logon()

            async def timed(factory: tracing.SpanFactory | None) -> list[float]:
                tracing.install_span_factory(factory)
                samples = []
                try:
                    for _ in range(orders):
                        start = time.perf_counter()
                        await client.submit_order(
                            "BTC/USD", "buy", QTY, price=PRICE, client_order_id=f"t-{next(ids)}"
                        )
                        samples.append(time.perf_counter() - start)
                finally:
                    tracing.install_span_factory(None)
                await client.cancel_all_orders()  # untimed: same book for every round
                return samples

            async def off_round() -> list[float]:
                return await timed(None)

            async def on_round() -> list[float]:
                return await timed(on)

            await off_round()  # warm-up, untimed
            await on_round()
            results = await interleaved_async(rounds, {"off": off_round, "on": on_round})
        finally:
            await client.close()
            await gw.app.stop()
    provider.shutdown()
    flat = {name: [s for batch in r for s in batch] for name, r in results.items()}
    return flat, exporter.spans


def report(results: dict[str, list[float]], spans: int, hook_ns: float, orders: int) -> None:
    off, on = summarize(results["off"]), summarize(results["on"])
    rounds = off.count // max(1, orders)
    print(
        f"SubmitOrder round trip, real client -> gateway (journal on) -> paper venue, 127.0.0.1: "
        f"{orders} orders x {rounds} rounds per variant, interleaved"
    )
    for name, s in (("off", off), ("on", on)):
        print(
            f"tracing {name:3} p50 {format_seconds(s.median):>10}   p99 {format_seconds(s.p99):>10}"
            f"   ({s.count} samples)"
        )
    print(
        f"ratio on/off: p50 {format_ratio(on.median, off.median)}, "
        f"p99 {format_ratio(on.p99, off.p99)} ({spans} spans recorded while on)"
    )
    share = HOOKS_PER_ORDER * hook_ns / (off.median * 1e9) * 100
    print(
        f"tracing off: {hook_ns:.0f} ns per span() call x {HOOKS_PER_ORDER} per order = "
        f"{share:.3f}% of the off p50 (the whole difference from the code without hooks)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tracing_overhead", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--orders", type=int, default=300, help="orders per round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per variant")
    parser.add_argument("--quick", action="store_true", help="100 orders x 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.rounds = 100, 3
    results, spans = asyncio.run(run(args.orders, args.rounds))
    report(results, spans, off_hook_ns(), args.orders)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
