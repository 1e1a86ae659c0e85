"""StreamExecutions through the real server: replay then live, heartbeats, drop copy."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest

from krakengw import ExecType, ExecutionReport, KrakenGwError, OrdStatus
from krakengw.v1 import executions_pb2, executions_pb2_grpc
from tests.integration.api.conftest import RunningGateway

LOW = Decimal("40000")
TIMEOUT = 10


async def _take(stream: object, n: int) -> list[ExecutionReport]:
    async def take() -> list[ExecutionReport]:
        got: list[ExecutionReport] = []
        async for report in stream:  # type: ignore[attr-defined]
            got.append(report)
            if len(got) == n:
                break
        return got

    return await asyncio.wait_for(take(), TIMEOUT)


async def test_replay_then_live_without_gap_or_duplicate(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    first = await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    # The answer waits for PENDING_NEW only; NEW commits right behind it. Once it is committed
    # both are history, replayed.
    await gateway.app.journal.flush()
    stream = client.stream_executions(0)
    replayed = await _take(stream, 2)
    assert [r.sequence for r in replayed] == [1, 2]
    assert [r.exec_type for r in replayed] == [ExecType.PENDING_NEW, ExecType.NEW]
    assert all(r.poss_resend for r in replayed)
    assert replayed[1].client_order_id == first.client_order_id
    # A marketable order fills on the paper venue: PENDING_NEW, NEW, FILL arrive live.
    filled = await client.submit_order("BTC/USD", "buy", Decimal("0.2"), price=Decimal("60000"))
    live = await _take(stream, 3)
    await stream.aclose()
    assert [r.sequence for r in live] == [3, 4, 5]
    assert [r.exec_type for r in live] == [ExecType.PENDING_NEW, ExecType.NEW, ExecType.FILL]
    assert not any(r.poss_resend for r in live)
    fill = live[2]
    assert fill.client_order_id == filled.client_order_id
    assert (fill.ord_status, fill.cum_qty, fill.leaves_qty) == (
        OrdStatus.FILLED,
        Decimal("0.2"),
        Decimal(0),
    )
    assert fill.last_px == Decimal("50000") and fill.last_qty == Decimal("0.2")
    assert fill.trade_id


async def test_resume_from_any_sequence(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    for _ in range(4):
        await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    for start in range(8):
        stream = client.stream_executions(start)
        got = await _take(stream, 8 - start)
        await stream.aclose()
        assert [r.sequence for r in got] == list(range(start + 1, 9))


async def test_heartbeats_flow_while_idle(gateway: RunningGateway) -> None:
    await gateway.client("a").logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = executions_pb2_grpc.ExecutionServiceStub(channel)
        call = stub.StreamExecutions(
            executions_pb2.StreamExecutionsRequest(from_sequence=0),
            metadata=gateway.metadata("a"),
        )
        beats = 0
        async for message in call:
            assert message.WhichOneof("event") == "heartbeat"
            assert message.heartbeat.last_sequence == 0
            beats += 1
            if beats == 2:
                break
        call.cancel()


async def test_drop_copy_sees_every_report_of_the_account(gateway: RunningGateway) -> None:
    trader, audit = gateway.client("a"), gateway.client("audit")
    await trader.logon()
    await audit.logon()
    order = await trader.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    stream = audit.stream_executions(0, drop_copy=True)
    got = await _take(stream, 2)
    await stream.aclose()
    assert [(r.session_id, r.client_order_id) for r in got] == [
        ("a", order.client_order_id),
        ("a", order.client_order_id),
    ]
    # Without drop copy the observer's own stream is empty, and a trader lacking the
    # permission is refused.
    own = audit.stream_executions(0)
    b = gateway.client("b")
    await b.logon()
    with pytest.raises(KrakenGwError) as err:
        await _take(b.stream_executions(0, drop_copy=True), 1)
    assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
    await own.aclose()


async def test_stream_ends_when_the_session_logs_out(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = executions_pb2_grpc.ExecutionServiceStub(channel)
        call = stub.StreamExecutions(
            executions_pb2.StreamExecutionsRequest(), metadata=gateway.metadata("a")
        )
        first = await asyncio.wait_for(call.read(), TIMEOUT)
        assert first.WhichOneof("event") == "heartbeat"
        await client.logout()

        # Heartbeats may still come; the stream then ends with OK (read() gives EOF).
        while await asyncio.wait_for(call.read(), TIMEOUT) is not grpc.aio.EOF:
            pass
        assert await call.code() is grpc.StatusCode.OK


async def test_resume_beyond_the_journal_is_refused(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    await gateway.app.journal.flush()  # the answer waits for PENDING_NEW only; NEW follows
    with pytest.raises(KrakenGwError) as err:
        await _take(client.stream_executions(3), 1)
    assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.metadata["last_sequence"] == "2"


async def test_logon_reports_the_sessions_own_last_sequence(gateway: RunningGateway) -> None:
    a = gateway.client("a")
    await a.logon()
    await a.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    await a.logout()
    a2 = gateway.client("a2")  # same account, so the account sequence runs ahead of a's
    await a2.logon()
    await a2.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    await a2.logout()
    # `a` holds drop copy too: Logon still gives its own stream's position, not the account's.
    assert (await gateway.client("a").logon()).last_sequence == 2
