"""Coalesced execution streams (StreamExecutionsRequest.max_batch) through the real server and
the real Python client: replay in batches, live after replay, resume in the middle of a batch
(client close and cut connection), and single messages for clients that do not ask."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest

from gateway.api.servicers.executions import MAX_BATCH
from gateway.core.model import ExecType, ExecutionReport, OrderType, OrdStatus, Side, TimeInForce
from krakengw import AsyncClient, ReconnectPolicy
from krakengw import ExecutionReport as ClientReport
from krakengw.resume import DEFAULT_MAX_BATCH
from krakengw.v1 import executions_pb2, executions_pb2_grpc
from tests.integration.api.conftest import RunningGateway

TOTAL = 1000
TIMEOUT = 30
FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.1, max_attempts=50)


def core_report(n: int, session: str = "a", account: str = "acct-a") -> ExecutionReport:
    return ExecutionReport(
        session_id=session,
        account=account,
        exec_id=f"batch-{session}-{n}",
        exec_type=ExecType.NEW,
        ord_status=OrdStatus.NEW,
        client_order_id=f"c{n}",
        venue="paper",
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        order_qty=Decimal("1.5"),
        price=Decimal("100.1"),
        leaves_qty=Decimal("1.5"),
        gateway_time=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def journal_reports(gateway: RunningGateway, first: int, last: int) -> None:
    """Journal reports `first`..`last` of session `a` the way the core does (append)."""
    journal = gateway.app.journal
    for start in range(first, last + 1, 250):  # a few group commits
        await journal.append([core_report(n) for n in range(start, min(last, start + 249) + 1)])


async def take(stream: AsyncIterator[ClientReport], n: int) -> list[ClientReport]:
    async def run() -> list[ClientReport]:
        got: list[ClientReport] = []
        while len(got) < n:
            got.append(await anext(stream))
        return got

    return await asyncio.wait_for(run(), TIMEOUT)


async def raw_batches(
    gateway: RunningGateway, from_sequence: int, count: int, max_batch: int, drop_copy: bool = False
) -> list[list[executions_pb2.ExecutionReport]]:
    """The reports of each report-carrying message of a raw StreamExecutions call (heartbeats
    skipped) until `count` reports; a single `execution_report` counts as a list of one."""
    messages: list[list[executions_pb2.ExecutionReport]] = []
    session = "audit" if drop_copy else "a"
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = executions_pb2_grpc.ExecutionServiceStub(channel)
        call = stub.StreamExecutions(
            executions_pb2.StreamExecutionsRequest(
                from_sequence=from_sequence, max_batch=max_batch, drop_copy=drop_copy
            ),
            metadata=gateway.metadata(session),
        )

        async def read() -> None:
            seen = 0
            async for message in call:
                kind = message.WhichOneof("event")
                if kind == "heartbeat":
                    continue
                if kind == "execution_report":
                    messages.append([message.execution_report])
                else:
                    assert kind == "execution_reports"
                    messages.append(list(message.execution_reports.reports))
                seen += len(messages[-1])
                if seen >= count:
                    return

        try:
            await asyncio.wait_for(read(), TIMEOUT)
        finally:
            call.cancel()
    return messages


async def test_batched_replay_from_a_sample_of_starts(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    await journal_reports(gateway, 1, TOTAL)
    for start in [*range(0, 12), *range(12, TOTAL, 53), TOTAL - 2, TOTAL - 1]:
        stream = client.stream_executions(start)  # batched: the client's default
        got = await take(stream, TOTAL - start)
        await stream.aclose()
        assert [r.sequence for r in got] == list(range(start + 1, TOTAL + 1))
        assert all(r.poss_resend for r in got)
        assert [r.client_order_id for r in got] == [f"c{n}" for n in range(start + 1, TOTAL + 1)]
        assert stream.last_sequence == TOTAL


async def test_replay_travels_in_multi_report_messages_then_live(
    gateway: RunningGateway,
) -> None:
    await gateway.client("a").logon()
    await journal_reports(gateway, 1, TOTAL)
    messages = await raw_batches(gateway, 0, TOTAL, DEFAULT_MAX_BATCH)
    flat = [r for batch in messages for r in batch]
    assert [r.sequence for r in flat] == list(range(1, TOTAL + 1))
    assert all(r.poss_resend for r in flat)
    assert max(len(batch) for batch in messages) > 1  # coalesced on the wire
    assert len(messages) < TOTAL // 2
    assert all(1 <= len(batch) <= DEFAULT_MAX_BATCH for batch in messages)

    # Live after replay, through the real client: no gap, no duplicate, not resends.
    client = gateway.latest["a"]
    stream = client.stream_executions(TOTAL - 3)
    replayed = await take(stream, 3)
    await journal_reports(gateway, TOTAL + 1, TOTAL + 300)
    live = await take(stream, 300)
    await journal_reports(gateway, TOTAL + 301, TOTAL + 301)
    (last,) = await take(stream, 1)
    await stream.aclose()
    assert [r.sequence for r in replayed + live + [last]] == list(range(TOTAL - 2, TOTAL + 302))
    assert all(r.poss_resend for r in replayed)
    assert not any(r.poss_resend for r in [*live, last])


async def test_server_caps_the_batch_and_drop_copy_batches_by_account_sequence(
    gateway: RunningGateway,
) -> None:
    await gateway.client("a").logon()
    await gateway.client("audit").logon()
    await journal_reports(gateway, 1, TOTAL)
    messages = await raw_batches(gateway, 0, TOTAL, 2**32 - 1)
    assert max(len(batch) for batch in messages) <= MAX_BATCH
    assert [r.sequence for batch in messages for r in batch] == list(range(1, TOTAL + 1))
    dropped = await raw_batches(gateway, 500, TOTAL - 500, 64, drop_copy=True)
    flat = [r for batch in dropped for r in batch]
    assert [r.account_sequence for r in flat] == list(range(501, TOTAL + 1))
    assert max(len(batch) for batch in dropped) == 64


@pytest.mark.parametrize("max_batch", [0, 1])
async def test_old_clients_get_one_report_per_message(
    gateway: RunningGateway, max_batch: int
) -> None:
    await gateway.client("a").logon()
    await journal_reports(gateway, 1, 300)
    messages = await raw_batches(gateway, 0, 300, max_batch)
    assert [len(batch) for batch in messages] == [1] * 300
    assert [batch[0].sequence for batch in messages] == list(range(1, 301))
    # And the typed client can still ask for single messages.
    client = gateway.latest["a"]
    stream = client.stream_executions(100, max_batch=max_batch)
    assert [r.sequence for r in await take(stream, 200)] == list(range(101, 301))
    await stream.aclose()


async def test_closing_in_the_middle_of_a_batch_resumes_after_the_last_report_taken(
    gateway: RunningGateway,
) -> None:
    client = gateway.client("a")
    await client.logon()
    await journal_reports(gateway, 1, TOTAL)
    seen: list[int] = []
    position = 0
    for taken in (3, 1, 250, 2, 500):  # each stops inside a batch of the replay
        stream = client.stream_executions(position)
        seen += [r.sequence for r in await take(stream, taken)]
        await stream.aclose()
        position = stream.last_sequence
        assert position == seen[-1]
    stream = client.stream_executions(position)
    seen += [r.sequence for r in await take(stream, TOTAL - len(seen))]
    await journal_reports(gateway, TOTAL + 1, TOTAL + 2)
    seen += [r.sequence for r in await take(stream, 2)]
    await stream.aclose()
    assert seen == list(range(1, TOTAL + 3))


class CuttableProxy:
    """A TCP forwarder on 127.0.0.1 in front of the gateway whose connections can be cut."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_a_connection_cut_in_the_middle_of_a_batch_loses_and_repeats_nothing(
    gateway: RunningGateway,
) -> None:
    proxy = CuttableProxy(gateway.target)
    client = AsyncClient(await proxy.start(), gateway.tokens["a"], reconnect=FAST)
    await client.logon()
    await journal_reports(gateway, 1, TOTAL)
    try:
        stream = client.stream_executions(0)
        got = await take(stream, 10)  # the first message carried more than these
        proxy.cut()
        got += await take(stream, TOTAL - 10)  # the rest of that batch, then the resumed stream
        await journal_reports(gateway, TOTAL + 1, TOTAL + 5)
        got += await take(stream, 5)
        await stream.aclose()
    finally:
        await client.close()
        await proxy.stop()
    assert [r.sequence for r in got] == list(range(1, TOTAL + 6))
    assert len({r.exec_id for r in got}) == TOTAL + 5
    assert stream.reconnects >= 1 and proxy.connections >= 2
