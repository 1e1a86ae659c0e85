"""Subscription.next_batch: the reports available now, up to a limit, from the ring or the
store, exactly those next() would give one by one (same order, same poss_resend)."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from gateway.core.model import ExecutionReport
from gateway.core.ports import ReportSubscription
from tests.integration.journal.conftest import (
    Journal,
    OpenJournal,
    report,
    take,
)

TOTAL = 1000


async def take_batches(
    sub: ReportSubscription, count: int, limit: int
) -> tuple[list[ExecutionReport], list[int]]:
    """`count` reports read with next_batch(limit), and the size of every batch."""
    got: list[ExecutionReport] = []
    sizes: list[int] = []
    async with asyncio.timeout(30):  # fail, never hang
        while len(got) < count:
            batch = await sub.next_batch(limit)
            assert batch, "without a heartbeat interval a batch is never empty"
            sizes.append(len(batch))
            got.extend(batch)
    return got, sizes


@pytest.mark.parametrize("from_ring", [False, True])
async def test_every_from_sequence_replays_the_rest_in_batches(
    journal: Journal, from_ring: bool
) -> None:
    # A live subscriber from the start keeps every report in the ring, so the replays read
    # the ring; without one, each replay reads the file page by page.
    keeper = journal.subscribe("s1", 0) if from_ring else None
    for start in range(0, TOTAL, 100):
        await journal.append([report(n) for n in range(start + 1, start + 101)])
    for n in [*range(0, 40), *range(40, TOTAL + 1, 37), TOTAL - 1]:
        sub = journal.subscribe("s1", n)
        got, sizes = await take_batches(sub, TOTAL - n, 64)
        assert [r.sequence for r in got] == list(range(n + 1, TOTAL + 1))
        assert all(r.poss_resend for r in got)
        assert all(r.client_order_id == f"c{r.sequence}" for r in got)
        assert all(1 <= size <= 64 for size in sizes)
        if TOTAL - n > 64:
            assert max(sizes) == 64  # coalesced, not one at a time
        assert await sub.next_batch(64, heartbeat_after=0) == []
        sub.close()
    if keeper is not None:
        keeper.close()


async def test_ring_slice_marks_resends_up_to_the_subscription_start(
    journal: Journal,
) -> None:
    keeper = journal.subscribe("s1", 0)  # keeps the ring filled from the first report on
    await journal.append([report(n) for n in range(1, 11)])
    sub = journal.subscribe("s1", 0)
    await journal.append([report(n) for n in range(11, 16)])
    (batch,) = [await sub.next_batch(100)]
    assert [r.sequence for r in batch] == list(range(1, 16))
    assert [r.poss_resend for r in batch] == [True] * 10 + [False] * 5
    # The ring's own copies are not touched: the keeper, live from 0, sees no resend.
    kept = await keeper.next_batch(100)
    assert [r.sequence for r in kept] == list(range(1, 16))
    assert not any(r.poss_resend for r in kept)
    # Same cut through next() one by one.
    one_by_one = journal.subscribe("s1", 8)
    assert [(r.sequence, r.poss_resend) for r in await take(one_by_one, 7)] == [
        (n, True) for n in range(9, 16)
    ]
    for s in (keeper, sub, one_by_one):
        s.close()


@pytest.mark.parametrize("limit", [1, 7, 100, 5000])
async def test_middle_of_the_ring_and_limits(journal: Journal, limit: int) -> None:
    keeper = journal.subscribe("s1", 0)
    await journal.append([report(n) for n in range(1, 301)])
    for start in (0, 1, 150, 290, 299):
        sub = journal.subscribe("s1", start)
        got, sizes = await take_batches(sub, 300 - start, limit)
        assert [r.sequence for r in got] == list(range(start + 1, 301))
        assert max(sizes) <= limit
        sub.close()
    keeper.close()


async def test_store_fallback_when_behind_the_ring(open_journal: OpenJournal) -> None:
    journal = await open_journal(ring_size=4)
    try:
        keeper = journal.subscribe("s1", 0)
        await journal.append([report(n) for n in range(1, 201)])
        sub = journal.subscribe("s1", 0)  # 196 reports only in the file, 4 in the ring
        await journal.append([report(n) for n in range(201, 204)])  # live, in the ring
        got, sizes = await take_batches(sub, 203, 50)
        assert [r.sequence for r in got] == list(range(1, 204))
        assert [r.poss_resend for r in got] == [True] * 200 + [False] * 3
        assert max(sizes) == 50
        keeper.close()
        sub.close()
    finally:
        await journal.close()


async def test_drop_copy_batches_follow_the_account_sequence(journal: Journal) -> None:
    drop = journal.subscribe_account("a1", 0)
    await journal.append([report(1, "s1"), report(1, "s2"), report(2, "s1"), report(1, "x", "a2")])
    got, _ = await take_batches(drop, 3, 10)
    assert [(r.session_id, r.account_sequence) for r in got] == [("s1", 1), ("s2", 2), ("s1", 3)]
    assert await drop.next_batch(10, heartbeat_after=0) == []
    drop.close()


async def test_a_cancelled_next_batch_loses_nothing(open_journal: OpenJournal) -> None:
    journal = await open_journal(ring_size=8)
    try:
        await journal.append([report(n) for n in range(1, 101)])
        # Cancelled at varying points: while waiting for the store page, or for live reports.
        for turns in range(6):
            total = 100 + turns  # each turn appends one live report at its end
            sub = journal.subscribe("s1", 0)
            got: list[int] = []
            while len(got) < total:
                task = asyncio.create_task(sub.next_batch(30))
                for _ in range(turns):
                    await asyncio.sleep(0)  # vary the cancel point (not a synchronisation)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    got.extend(r.sequence for r in await task)
                if len(got) < total:
                    got.extend(r.sequence for r in await sub.next_batch(30))
            assert got == list(range(1, total + 1))
            waiting = asyncio.create_task(sub.next_batch(30))
            await asyncio.sleep(0)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await journal.append([report(total + 1)])
            assert [r.sequence for r in await sub.next_batch(30)] == [total + 1]
            sub.close()
    finally:
        await journal.close()


@pytest.mark.parametrize("ring_size", [4, 16_384])
async def test_batches_under_concurrent_appends(open_journal: OpenJournal, ring_size: int) -> None:
    journal = await open_journal(ring_size=ring_size)
    try:
        rng = random.Random(11)
        total = 3000
        produced = 0
        consumers: list[tuple[int, asyncio.Task[list[int]]]] = []

        async def consume(from_sequence: int, limit: int) -> list[int]:
            sub = journal.subscribe("s1", from_sequence)
            got, _ = await take_batches(sub, total - from_sequence, limit)
            assert await sub.next_batch(limit, heartbeat_after=0) == []
            sub.close()
            return [r.sequence for r in got]

        pending = None
        while produced < total:
            size = min(rng.randint(1, 40), total - produced)
            pending = journal.append([report(n) for n in range(produced + 1, produced + size + 1)])
            produced += size
            if rng.random() < 0.3:
                start = rng.randint(0, produced)
                task = asyncio.create_task(consume(start, rng.choice([2, 16, 512])))
                consumers.append((start, task))
            if rng.random() < 0.5:
                await pending
            await asyncio.sleep(0)  # let consumers interleave with the producer (not a wait)
        assert pending is not None
        await pending
        assert len(consumers) > 10
        for start, task in consumers:
            assert await task == list(range(start + 1, total + 1))
    finally:
        await journal.close()


async def test_close_ends_a_waiting_next_batch_and_limit_is_at_least_one(
    journal: Journal,
) -> None:
    await journal.append([report(1), report(2)])
    sub = journal.subscribe("s1", 0)
    assert [r.sequence for r in await sub.next_batch(0)] == [1]
    assert [r.sequence for r in await sub.next_batch(5)] == [2]
    waiter = asyncio.create_task(sub.next_batch(5))
    await asyncio.sleep(0)
    sub.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiter, 10)
