"""kill -9 of the gateway process during a stream, restart on the same data dir: the client's
stream resumes from its last seen sequence and delivers every report exactly once. Also with
the journal in PostgreSQL (`[journal] url`), restarted on a fresh data dir: all it needs is in
the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from krakengw import AsyncClient, ExecType, ExecutionReport, KrakenGwError, ReconnectPolicy
from krakengw.resume import DEFAULT_MAX_BATCH
from tests.e2e.conftest import GatewayProcess
from tests.support.postgres import PostgresServer

TIMEOUT = 60
RESTING = Decimal("40000")
MARKETABLE = Decimal("60000")


async def _submit_some(client: AsyncClient, n: int) -> None:
    for i in range(n):
        price = MARKETABLE if i % 3 == 0 else RESTING  # some fill, some rest
        await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=price)


async def _logon_again(client: AsyncClient) -> None:
    try:
        await client.logon()
    except KrakenGwError as error:
        # The resuming stream logged on again first.
        assert error.reason == "SESSION_ALREADY_ACTIVE", error


async def _first(stream: AsyncIterator[ExecutionReport], n: int) -> AsyncIterator[ExecutionReport]:
    count = 0
    async for report in stream:
        yield report
        count += 1
        if count == n:
            return


@pytest.mark.parametrize(
    ("max_batch", "journal"),
    [(0, "sqlite"), (DEFAULT_MAX_BATCH, "sqlite"), (0, "postgres")],
    ids=["single", "batched", "single-postgres"],
)
async def test_kill_9_restart_resume_exactly_once(
    gateway_process: GatewayProcess, max_batch: int, journal: str, request: pytest.FixtureRequest
) -> None:
    config = gateway_process.workdir / "gateway.toml"
    if journal == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        config.write_text(
            config.read_text()
            + f'[journal]\nurl = "{server.create_database()}"\n'
            + f'password_file = "{server.password_file}"\n'
        )
    await gateway_process.start()
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.5, max_attempts=200)
    client = AsyncClient(gateway_process.target, gateway_process.token, reconnect=policy)
    try:
        await client.logon()
        await _submit_some(client, 12)  # 12 orders: 4 fill (3 reports), 8 rest (2 reports)
        before = 4 * 3 + 8 * 2
        # An answer waits only for the order's write-ahead record; its NEW and fills commit
        # behind it. All 28 must be journaled before the kill (else restart reconciliation
        # writes their successors, and the count below is not the pre-kill journal): a first
        # stream sees them all, committed.
        probe = client.stream_executions(0)
        async with asyncio.timeout(TIMEOUT):
            assert [r.sequence async for r in _first(probe, before)] == list(range(1, before + 1))
        await probe.aclose()
        stream = client.stream_executions(0, max_batch=max_batch)
        seen: list[ExecutionReport] = []

        async def read(n: int) -> None:
            async for report in stream:
                seen.append(report)
                if len(seen) == n:
                    return

        await asyncio.wait_for(read(10), TIMEOUT)
        await gateway_process.kill()  # mid-stream: 10 of the journaled reports handed out
        if journal == "postgres":  # the journal is all in the database: a fresh data dir
            config.write_text(config.read_text().replace('data_dir = "data"', 'data_dir = "d2"'))
        await gateway_process.start()  # same port, same data dir
        # Single messages: the stream reconnects on its own, logs on again and resumes after
        # sequence 10. Batched: the first message carried all 28 replayed reports, so the
        # client hands out 11..28 from it, then reconnects, logs on again and resumes after 28.
        await asyncio.wait_for(read(before), TIMEOUT)
        if max_batch:
            await _logon_again(client)  # the stream may not have reconnected yet
        await _submit_some(client, 3)  # live reports after the restart
        after = before + 3 + 2 + 2
        await asyncio.wait_for(read(after), TIMEOUT)
        await stream.aclose()
    finally:
        await client.close()

    sequences = [r.sequence for r in seen]
    assert sequences == list(range(1, after + 1))
    assert len({r.exec_id for r in seen}) == after
    assert stream.reconnects >= 1
    assert sum(r.exec_type is ExecType.FILL for r in seen) == 5
    # Reports 11..28 were journaled before the kill and arrive as replays.
    assert all(r.poss_resend for r in seen[10:before])
    if not max_batch:
        # (Batched, the stream may resubscribe only after the live orders were journaled, which
        # rightly makes them resends on that subscription.)
        assert not any(r.poss_resend for r in seen[before:])
