"""Execution-stream throughput with journaling on, against a plain grpc.aio stream of the same
ExecutionReport messages without any journal.

Everything runs in one process and one event loop, the real Python client included, so each
figure is the whole cost of a report from producer to the client's typed ExecutionReport:

* plain (baseline): a bare `grpc.aio` server (no interceptor, no session, no journal) whose
  StreamExecutions yields pre-built `StreamExecutionsResponse` messages, converted in advance
  from the same kind of core reports (partial fills with fee, liquidity, trade id);
* convert: the same bare server, but converting each core report to protobuf as it sends it
  (what the real servicer must do in any case), to split conversion from journal cost;
* journal: the real gateway (`GatewayApp`: SQLite journal in WAL mode in a temp dir, core,
  sessions, the interceptors and servicers). Each report goes through `journal.append([r])`,
  the very call `TradingService._emit` makes for every report: the journal's writer thread
  commits it (group commit), the hub publishes it after the commit, and the session's
  StreamExecutions converts and sends it;
* gateway: the same server, fed one step earlier, the way a venue adapter's feed does: an
  `OrderFilled` event per report pushed into the core's `VenueEventSink` (as the paper venue
  does, one task per event). The core applies the fill to the order, saves the order and its new
  fill, appends the report, then the journal path above follows;
* journal-batched: the `journal` path, but streamed the way the real client asks by default
  (`max_batch` 512): the gateway coalesces the reports ready at each wake-up into one
  `execution_reports` message. Its own session, so the other streams do not carry its reports.

`plain`, `convert`, `journal` and `gateway` all stream one report per message (`max_batch` 0),
so they compare the same messages: the `journal` line against `plain` is the issue's
like-for-like ratio; against `convert` it is the journal's own share (append, commit, hub,
session checks); `gateway` adds the core's order bookkeeping. `journal-batched` against `plain`
is printed on its own line: it sends fewer, larger messages, so it is not like-for-like.
Producers hand the loop back every `--burst` reports, so commits, the stream and the client
overlap as they do live. Each round sends `--reports` reports and is timed from
the first produce call to the client's receipt of the last report; the stream is opened and
drained before the clock starts. Variants alternate per round (ABCDE, EDCBA, ...).

Replay: `--reports` reports journaled in a session nobody streams (so they are read back from
SQLite), replayed from sequence 0 by a new stream of the real client, single messages against
batches (`--rounds` interleaved rounds each, timed from opening the stream to the last report).

    .venv/bin/python -m bench.journal_stream [--reports 5000] [--rounds 7] [--burst 100] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc

from bench.common import (
    BenchGateway,
    format_ratio,
    format_seconds,
    interleaved_async,
    start_gateway,
    summarize,
)
from gateway.api import convert
from gateway.core.events import OrderFilled
from gateway.core.model import (
    ExecType,
    ExecutionReport,
    Fee,
    Liquidity,
    OrderType,
    OrdStatus,
    Side,
    TimeInForce,
)
from krakengw import AsyncClient
from krakengw.resume import DEFAULT_MAX_BATCH, AsyncExecutionStream
from krakengw.v1 import executions_pb2, executions_pb2_grpc

FILLS_PER_ORDER = 20
FILL_QTY = Decimal("0.001")
FILL_PX = Decimal("40000.0")
BATCHED_SESSION = "bench-batched"
REPLAY_SESSION = "bench-replay"


def fill_reports(session: str, account: str, tag: str, count: int) -> list[ExecutionReport]:
    """`count` partial-fill reports as the core makes them (sequences left to the journal)."""
    now = datetime.now(UTC)
    reports = []
    for i in range(count):
        order = i // FILLS_PER_ORDER
        nth = i % FILLS_PER_ORDER + 1
        cum = FILL_QTY * nth
        reports.append(
            ExecutionReport(
                session_id=session,
                account=account,
                exec_id=f"{tag}-{i}",
                exec_type=ExecType.PARTIAL_FILL,
                ord_status=OrdStatus.PARTIALLY_FILLED,
                client_order_id=f"{tag}-o{order}",
                venue_order_id=f"PAPER-{tag}-{order:08d}",
                venue="kraken",
                symbol="BTC/USD",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                order_qty=Decimal(1),
                price=FILL_PX,
                cum_qty=cum,
                leaves_qty=Decimal(1) - cum,
                avg_px=FILL_PX,
                last_qty=FILL_QTY,
                last_px=FILL_PX,
                trade_id=f"T{tag}-{i}",
                fee=Fee(asset="USD", amount=FILL_QTY * FILL_PX * Decimal("0.0016")),
                liquidity=Liquidity.MAKER,
                venue_time=now,
                gateway_time=now,
            )
        )
    return reports


class PlainExecutions(executions_pb2_grpc.ExecutionServiceServicer):
    """A bare StreamExecutions yielding whatever batches are queued. With `prebuilt`, the
    batches are finished protobuf messages; without, core reports converted as they are sent
    (the conversion the real servicer does, nothing else)."""

    def __init__(self, prebuilt: bool) -> None:
        self.prebuilt = prebuilt
        self.batches: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.sequence = 0

    def prepare(self, reports: Sequence[ExecutionReport]) -> list[Any]:
        """The reports numbered after the last batch; as protobuf messages when prebuilt."""
        for report in reports:
            self.sequence += 1
            object.__setattr__(report, "sequence", self.sequence)
            object.__setattr__(report, "account_sequence", self.sequence)
        if not self.prebuilt:
            return list(reports)
        return [_message(report) for report in reports]

    async def ListFills(
        self, request: executions_pb2.ListFillsRequest, context: grpc.aio.ServicerContext
    ) -> executions_pb2.ListFillsResponse:
        return executions_pb2.ListFillsResponse()

    async def StreamExecutions(
        self, request: executions_pb2.StreamExecutionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[executions_pb2.StreamExecutionsResponse]:
        if self.prebuilt:
            while True:
                for message in await self.batches.get():
                    yield message
        while True:
            for report in await self.batches.get():
                yield _message(report)


def _message(report: ExecutionReport) -> executions_pb2.StreamExecutionsResponse:
    return executions_pb2.StreamExecutionsResponse(
        execution_report=convert.execution_report(report)
    )


@dataclass
class PlainStream:
    """A bare grpc.aio server with one PlainExecutions, and the real client streaming from it."""

    servicer: PlainExecutions
    server: grpc.aio.Server
    client: AsyncClient
    stream: AsyncExecutionStream

    @classmethod
    async def start(cls, prebuilt: bool, token: str) -> PlainStream:
        servicer = PlainExecutions(prebuilt)
        server = grpc.aio.server()
        executions_pb2_grpc.add_ExecutionServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        client = AsyncClient(f"127.0.0.1:{port}", token)
        return cls(servicer, server, client, client.stream_executions(0, max_batch=0))

    async def round(self, reports: list[ExecutionReport]) -> float:
        batch = self.servicer.prepare(reports)
        start = time.perf_counter()
        self.servicer.batches.put_nowait(batch)
        await take(self.stream, len(reports))
        return time.perf_counter() - start

    async def stop(self) -> None:
        await self.stream.aclose()
        await self.client.close()
        await self.server.stop(0)


async def take(stream: AsyncExecutionStream, count: int) -> None:
    for _ in range(count):
        await anext(stream)


async def drain(stream: AsyncExecutionStream, upto: int) -> None:
    """Consume the stream up to sequence `upto` (reports produced by untimed setup)."""
    while stream.last_sequence < upto:
        await anext(stream)


class Bench:
    def __init__(
        self,
        gw: BenchGateway,
        client: AsyncClient,
        gw_stream: AsyncExecutionStream,
        batched_stream: AsyncExecutionStream,
        plain: PlainStream,
        converting: PlainStream,
        reports: int,
        burst: int,
    ) -> None:
        self.gw = gw
        self.client = client
        self.gw_stream = gw_stream
        self.batched_stream = batched_stream
        self.plain = plain
        self.converting = converting
        self.reports = reports
        self.burst = burst
        self.tags = itertools.count()

    def tag(self) -> str:
        return f"r{next(self.tags)}"

    async def sync_gateway_stream(self) -> None:
        upto = await self.gw.app.journal.last_sequence(self.gw.session)
        await drain(self.gw_stream, upto)

    async def plain_round(self) -> float:
        return await self.plain.round(fill_reports("s", "a", self.tag(), self.reports))

    async def convert_round(self) -> float:
        return await self.converting.round(fill_reports("s", "a", self.tag(), self.reports))

    async def journal_round(self) -> float:
        return await self._journal_round(self.gw.session, self.gw_stream)

    async def journal_batched_round(self) -> float:
        return await self._journal_round(BATCHED_SESSION, self.batched_stream)

    async def _journal_round(self, session: str, stream: AsyncExecutionStream) -> float:
        journal = self.gw.app.journal
        await drain(stream, await journal.last_sequence(session))
        reports = fill_reports(session, "bench", self.tag(), self.reports)

        async def produce() -> None:
            pending: list[Awaitable[Any]] = []
            for i, report in enumerate(reports, 1):
                pending.append(journal.append([report]))
                if i % self.burst == 0:
                    await asyncio.sleep(0)
            await asyncio.gather(*pending)

        return await self._timed(produce, stream)

    async def gateway_round(self) -> float:
        await self.sync_gateway_stream()
        # Untimed setup: resting orders at the venue, then fills for them.
        tag = self.tag()
        orders = [
            await self.client.submit_order(
                "BTC/USD", "buy", Decimal(1), price=FILL_PX, client_order_id=f"{tag}-o{n}"
            )
            for n in range((self.reports + FILLS_PER_ORDER - 1) // FILLS_PER_ORDER)
        ]
        now = datetime.now(UTC)
        events = [
            OrderFilled(
                client_order_id=orders[i // FILLS_PER_ORDER].client_order_id,
                venue_order_id=orders[i // FILLS_PER_ORDER].venue_order_id,
                trade_id=f"T{tag}-{i}",
                qty=FILL_QTY,
                price=FILL_PX,
                fee=Fee(asset="USD", amount=FILL_QTY * FILL_PX * Decimal("0.0016")),
                liquidity=Liquidity.MAKER,
                venue_time=now,
            )
            for i in range(self.reports)
        ]
        await self.sync_gateway_stream()
        sink = self.gw.venue.sink
        assert sink is not None

        async def produce() -> None:
            tasks = []
            for i, event in enumerate(events, 1):
                tasks.append(asyncio.create_task(sink.on_venue_event(event)))
                if i % self.burst == 0:
                    await asyncio.sleep(0)
            await asyncio.gather(*tasks)

        return await self._timed(produce, self.gw_stream)

    async def _timed(
        self, produce: Callable[[], Coroutine[Any, Any, None]], stream: AsyncExecutionStream
    ) -> float:
        start = time.perf_counter()
        producer = asyncio.create_task(produce())
        await take(stream, self.reports)
        elapsed = time.perf_counter() - start
        await producer
        return elapsed


async def replay_round(client: AsyncClient, count: int, max_batch: int) -> float:
    """Time for a new stream to replay `count` journaled reports from sequence 0."""
    start = time.perf_counter()
    stream = client.stream_executions(0, max_batch=max_batch)
    await take(stream, count)
    elapsed = time.perf_counter() - start
    await stream.aclose()
    return elapsed


async def run(
    reports: int, rounds: int, burst: int, *, replay: int | None = None
) -> dict[str, list[float]]:
    """Seconds per round of every variant; `replay` reports (default `reports`) are replayed."""
    replayed = reports if replay is None else replay
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        gw = await start_gateway(Path(tmp), extra_sessions=(BATCHED_SESSION, REPLAY_SESSION))
        client = AsyncClient(gw.target, gw.token)
        batched_client = AsyncClient(gw.target, gw.tokens[BATCHED_SESSION])
        replay_client = AsyncClient(gw.target, gw.tokens[REPLAY_SESSION])
        plain = await PlainStream.start(True, gw.token)
        converting = await PlainStream.start(False, gw.token)
        try:
            await client.logon()
            await batched_client.logon()
            await replay_client.logon()
            # Like-for-like with plain: one report per message.
            gw_stream = client.stream_executions(0, max_batch=0)
            batched_stream = batched_client.stream_executions(0, max_batch=DEFAULT_MAX_BATCH)
            bench = Bench(gw, client, gw_stream, batched_stream, plain, converting, reports, burst)
            variants = {
                "plain": bench.plain_round,
                "convert": bench.convert_round,
                "journal": bench.journal_round,
                "gateway": bench.gateway_round,
                "journal-batched": bench.journal_batched_round,
            }
            # Warm-up (untimed): opens and subscribes every stream, warms every code path.
            bench.reports = min(reports, 200)
            await interleaved_async(1, variants)
            bench.reports = reports
            results = await interleaved_async(rounds, variants)
            await gw_stream.aclose()
            await batched_stream.aclose()

            await gw.app.journal.append(fill_reports(REPLAY_SESSION, "bench", "replay", replayed))
            replays = {
                "replay-single": lambda: replay_round(replay_client, replayed, 0),
                "replay-batched": lambda: replay_round(replay_client, replayed, DEFAULT_MAX_BATCH),
            }
            await interleaved_async(1, replays)  # warm-up
            results.update(await interleaved_async(rounds, replays))
        finally:
            await client.close()
            await batched_client.close()
            await replay_client.close()
            await plain.stop()
            await converting.stop()
            await gw.app.stop()
    return results


def report(
    results: dict[str, list[float]],
    reports: int,
    rounds: int,
    burst: int,
    *,
    replay: int | None = None,
) -> None:
    replayed = reports if replay is None else replay
    print(
        f"execution stream to the Python client over 127.0.0.1: {reports} reports x {rounds} "
        f"rounds per variant, burst {burst}, interleaved"
    )
    base = summarize(results["plain"])
    for name, label in (
        ("plain", "plain grpc.aio stream of prebuilt messages, no journal (baseline)"),
        ("convert", "plain grpc.aio stream converting core reports, no journal"),
        ("journal", "journal on: SQLite append+commit -> hub -> gateway stream"),
        ("gateway", "journal on, fed as venue fills through the core"),
        (
            "journal-batched",
            f"journal on, coalesced stream (max_batch {DEFAULT_MAX_BATCH}, the client's default)",
        ),
    ):
        times = summarize(results[name])
        print(
            f"{name:15} median {reports / times.median:9.0f} reports/s   "
            f"p99 round {reports / times.p99:9.0f} reports/s   "
            f"{format_ratio(base.median, times.median)} vs plain   {label}"
        )
    # Throughput ratio = inverse time ratio: (n / t_subject) / (n / t_base) = t_base / t_subject.
    converting = summarize(results["convert"])
    journal = summarize(results["journal"])
    gateway = summarize(results["gateway"])
    print(
        f"ratio journal/plain throughput {format_ratio(base.median, journal.median)} "
        f"(goal >= 0.9); journal/convert {format_ratio(converting.median, journal.median)} "
        f"(the journal's share alone); gateway/plain {format_ratio(base.median, gateway.median)}"
    )
    batched = summarize(results["journal-batched"])
    print(
        f"ratio journal-batched/plain throughput {format_ratio(base.median, batched.median)} "
        f"(coalesced: fewer, larger messages than plain, so not the like-for-like ratio); "
        f"journal-batched/journal {format_ratio(journal.median, batched.median)}"
    )
    single = summarize(results["replay-single"])
    coalesced = summarize(results["replay-batched"])
    print(
        f"replay of {replayed} journaled reports from sequence 0 (SQLite, new stream): "
        f"single median {format_seconds(single.median)} "
        f"({replayed / single.median:.0f} reports/s), "
        f"batched median {format_seconds(coalesced.median)} "
        f"({replayed / coalesced.median:.0f} reports/s), "
        f"batched/single throughput {format_ratio(single.median, coalesced.median)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.journal_stream", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--reports", type=int, default=5000, help="reports per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per variant")
    parser.add_argument("--burst", type=int, default=100, help="reports produced per loop turn")
    parser.add_argument("--replay", type=int, default=None, help="reports replayed (--reports)")
    parser.add_argument("--quick", action="store_true", help="1000 reports x 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.reports, args.rounds = 1000, 3
    results = asyncio.run(run(args.reports, args.rounds, args.burst, replay=args.replay))
    report(results, args.reports, args.rounds, args.burst, replay=args.replay)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
