"""The resuming execution stream: every report exactly once, in order, across disconnects."""

from __future__ import annotations

import grpc
import pytest

from krakengw import AsyncClient, Client, KrakenGwError, ReconnectPolicy
from krakengw.resume import DEFAULT_MAX_BATCH
from tests.unit.client.fake_gateway import TOKEN, FakeGateway, StreamPlan, error_status

FAST = ReconnectPolicy(initial_delay=0.001, max_delay=0.01, max_attempts=5)
DROP = error_status(grpc.StatusCode.UNAVAILABLE, "connection reset")
LOST = error_status(grpc.StatusCode.FAILED_PRECONDITION, "not logged on", "SESSION_NOT_FOUND")


def _take(stream: object, n: int) -> list[int]:
    sequences = []
    for report in stream:  # type: ignore[attr-defined]
        sequences.append(report.sequence)
        if len(sequences) == n:
            break
    return sequences


def test_resumes_after_drops_without_gap_or_duplicate(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 9
    gw.stream_plans = [
        StreamPlan(count=3, abort=DROP, heartbeat_first=True),
        # The server replays two already-seen reports: they must not reach the caller twice.
        StreamPlan(overlap=2, count=5, abort=DROP),
    ]
    with Client(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions(from_sequence=1)
        assert _take(stream, 8) == list(range(2, 10))
        stream.close()
    assert [r.from_sequence for r in gw.stream_requests] == [1, 4, 7]
    assert stream.last_sequence == 9
    assert stream.reconnects == 2
    assert set(gw.authorizations) == {f"Bearer {TOKEN}"}


def test_reconnects_when_a_report_is_missing(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.total_reports = 5
    gw.stream_plans = [StreamPlan(skip=3)]
    with Client(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions()
        assert _take(stream, 5) == [1, 2, 3, 4, 5]
        stream.close()
    assert [r.from_sequence for r in gw.stream_requests] == [0, 2]


def test_batches_are_flattened_with_overlap_and_gap_checks_per_report(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 12
    gw.stream_plans = [
        StreamPlan(count=5, batch=4, abort=DROP),  # [1-4] [5], then the connection drops
        # [4 5 6] [7 9 10]: 4 and 5 were seen already, 8 is missing inside the second batch.
        StreamPlan(overlap=2, skip=8, batch=3),
        StreamPlan(batch=2),
    ]
    with Client(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions()
        assert _take(stream, 12) == list(range(1, 13))
        stream.close()
    assert [r.from_sequence for r in gw.stream_requests] == [0, 5, 7]
    assert {r.max_batch for r in gw.stream_requests} == {DEFAULT_MAX_BATCH}


async def test_async_stream_flattens_batches_and_can_ask_for_single_messages(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 6
    gw.stream_plans = [StreamPlan(count=4, batch=3, abort=DROP), StreamPlan(overlap=3, batch=5)]
    async with AsyncClient(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions(max_batch=0)
        seen = []
        async for report in stream:
            seen.append(report.sequence)
            if len(seen) == 6:
                break
        await stream.aclose()
        with pytest.raises(ValueError):
            client.stream_executions(max_batch=-1)
    assert seen == [1, 2, 3, 4, 5, 6]
    assert [(r.from_sequence, r.max_batch) for r in gw.stream_requests] == [(0, 0), (4, 0)]


def test_closing_inside_a_batch_stops_at_the_last_report_taken(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 10
    gw.stream_plans = [StreamPlan(batch=10)]
    with Client(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions()
        assert _take(stream, 3) == [1, 2, 3]
        stream.close()
        assert list(stream) == []  # the rest of the batch is not handed out after close
    assert stream.last_sequence == 3


def test_non_retryable_error_ends_the_stream(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.stream_plans = [
        StreamPlan(
            abort=error_status(
                grpc.StatusCode.PERMISSION_DENIED, "no drop copy", "PERMISSION_DENIED_DROP_COPY"
            )
        )
    ]
    with Client(target, TOKEN, reconnect=FAST) as client, pytest.raises(KrakenGwError) as caught:
        next(iter(client.stream_executions(drop_copy=True)))
    assert caught.value.reason == "PERMISSION_DENIED_DROP_COPY"
    assert len(gw.stream_requests) == 1
    assert gw.stream_requests[0].drop_copy


def test_gives_up_after_the_bounded_attempts(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.stream_plans = [StreamPlan(abort=DROP) for _ in range(10)]
    with Client(target, TOKEN, reconnect=FAST) as client, pytest.raises(KrakenGwError) as caught:
        next(iter(client.stream_executions()))
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert len(gw.stream_requests) == FAST.max_attempts + 1


def test_logs_on_again_when_the_gateway_lost_the_session(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 4
    gw.stream_plans = [StreamPlan(count=2, abort=LOST)]
    with Client(target, TOKEN, reconnect=FAST) as client:
        client.logon()
        stream = client.stream_executions()
        assert _take(stream, 4) == [1, 2, 3, 4]
        stream.close()
    assert gw.logons == 2


def test_a_concurrent_logon_winning_the_race_counts_as_recovered(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 2
    gw.stream_plans = [StreamPlan(count=1, abort=LOST)]
    with Client(target, TOKEN, reconnect=FAST) as client:
        client.logon()
        gw.logon_errors = [
            error_status(grpc.StatusCode.ALREADY_EXISTS, "logged on", "SESSION_ALREADY_ACTIVE")
        ]
        stream = client.stream_executions()
        assert _take(stream, 2) == [1, 2]
        stream.close()
    assert gw.logons == 2


def test_without_logon_a_lost_session_is_raised(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.stream_plans = [StreamPlan(abort=LOST)]
    with Client(target, TOKEN, reconnect=FAST) as client, pytest.raises(KrakenGwError) as caught:
        next(iter(client.stream_executions()))
    assert caught.value.reason == "SESSION_NOT_FOUND"
    assert gw.logons == 0


async def test_async_stream_resumes_and_converts_decimals(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 6
    gw.stream_plans = [StreamPlan(count=2, abort=DROP), StreamPlan(overlap=1, count=2, abort=DROP)]
    async with AsyncClient(target, TOKEN, reconnect=FAST) as client:
        stream = client.stream_executions()
        seen = []
        async for report in stream:
            seen.append(report)
            if len(seen) == 6:
                break
        await stream.aclose()
    assert [r.sequence for r in seen] == [1, 2, 3, 4, 5, 6]
    assert len({r.exec_id for r in seen}) == 6
    assert str(seen[0].order_qty) == "1.50"
    assert [r.from_sequence for r in gw.stream_requests] == [0, 2, 3]


async def test_async_stream_logs_on_again(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.total_reports = 3
    gw.stream_plans = [StreamPlan(count=1, abort=LOST)]
    async with AsyncClient(target, TOKEN, reconnect=FAST) as client:
        await client.logon()
        stream = client.stream_executions()
        sequences = []
        async for report in stream:
            sequences.append(report.sequence)
            if len(sequences) == 3:
                break
        await stream.aclose()
    assert sequences == [1, 2, 3]
    assert gw.logons == 2


def test_logout_ends_the_stream_instead_of_reconnecting(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.total_reports = 2
    with Client(target, TOKEN, reconnect=FAST) as client:
        client.logon()
        stream = client.stream_executions()
        assert _take(stream, 2) == [1, 2]
        assert client.logout() == 2
        assert list(stream) == []
    assert len(gw.stream_requests) == 1


async def test_async_logout_ends_the_stream(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.total_reports = 1
    async with AsyncClient(target, TOKEN, reconnect=FAST) as client:
        await client.logon()
        stream = client.stream_executions()
        assert (await stream.__anext__()).sequence == 1
        await client.logout()
        assert [r async for r in stream] == []
    assert len(gw.stream_requests) == 1
