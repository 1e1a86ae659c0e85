"""Sequenced replay, replay -> live handover without gap or duplicate, drop copy, de-dup."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.integration.journal.conftest import (
    Journal,
    OpenJournal,
    nothing_more,
    report,
    take,
)

TOTAL = 1000


async def test_every_from_sequence_replays_exactly_the_rest(journal: Journal) -> None:
    for start in range(0, TOTAL, 100):  # committed in a few group commits
        results = await journal.append([report(n) for n in range(start + 1, start + 101)])
        assert [r.report.sequence for r in results] == list(range(start + 1, start + 101))
    assert await journal.last_sequence("s1") == TOTAL
    for n in range(TOTAL + 1):
        sub = journal.subscribe("s1", n)
        got = await take(sub, TOTAL - n)
        assert [r.sequence for r in got] == list(range(n + 1, TOTAL + 1))
        assert all(r.poss_resend for r in got)
        assert all(r.client_order_id == f"c{r.sequence}" for r in got)
        assert await nothing_more(sub)
        sub.close()


@pytest.mark.parametrize("ring_size", [4, 16_384])
async def test_replay_then_live_under_concurrent_appends(
    open_journal: OpenJournal, ring_size: int
) -> None:
    # A tiny ring makes most subscribers fall behind it and read the file mid-stream.
    journal = await open_journal(ring_size=ring_size)
    try:
        await _interleave(journal)
    finally:
        await journal.close()


async def _interleave(journal: Journal) -> None:
    rng = random.Random(7)
    total = 3000
    produced = 0
    subscribers: list[tuple[int, asyncio.Task[list[int]]]] = []

    async def consume(from_sequence: int) -> list[int]:
        sub = journal.subscribe("s1", from_sequence)
        got = [r.sequence for r in await take(sub, total - from_sequence)]
        assert await nothing_more(sub)
        sub.close()
        return got

    while produced < total:
        size = min(rng.randint(1, 40), total - produced)
        pending = journal.append([report(n) for n in range(produced + 1, produced + size + 1)])
        produced += size
        if rng.random() < 0.3:
            start = rng.randint(0, produced)
            subscribers.append((start, asyncio.create_task(consume(start))))
        if rng.random() < 0.5:
            await pending
        await asyncio.sleep(0)  # let consumers interleave with the producer (not a wait)
    await pending
    assert len(subscribers) > 10
    for start, task in subscribers:
        assert await task == list(range(start + 1, total + 1))


async def test_live_reports_are_not_marked_resend(journal: Journal) -> None:
    await journal.append([report(1), report(2)])
    sub = journal.subscribe("s1", 0)
    replayed = await take(sub, 2)
    await journal.append([report(3)])
    (live,) = await take(sub, 1)
    assert [r.poss_resend for r in replayed] == [True, True]
    assert live.sequence == 3 and not live.poss_resend


async def test_sessions_are_sequenced_separately_and_drop_copy_sees_the_account(
    journal: Journal,
) -> None:
    drop = journal.subscribe_account("a1", 0)
    await journal.append([report(1, "s1"), report(1, "s2"), report(2, "s1"), report(1, "x", "a2")])
    got = await take(drop, 3)
    assert [(r.session_id, r.sequence, r.account_sequence) for r in got] == [
        ("s1", 1, 1),
        ("s2", 1, 2),
        ("s1", 2, 3),
    ]
    assert await nothing_more(drop)
    resumed = journal.subscribe_account("a1", 2)
    assert [r.account_sequence for r in await take(resumed, 1)] == [3]
    assert await journal.last_account_sequence("a1") == 3
    assert await journal.last_sequence("s2") == 1


async def test_duplicate_exec_id_is_stored_once_without_a_gap(journal: Journal) -> None:
    (first,) = await journal.append([report(1, exec_id="E1")])
    again, nxt = await journal.append([report(99, exec_id="E1"), report(2)])
    assert first.is_new and not again.is_new
    assert again.report == first.report
    assert nxt.report.sequence == 2
    sub = journal.subscribe("s1", 0)
    assert [r.sequence for r in await take(sub, 2)] == [1, 2]
    assert await nothing_more(sub)


async def test_close_ends_subscriptions(journal: Journal) -> None:
    sub = journal.subscribe("s1", 0)
    waiter = asyncio.create_task(sub.next())
    await asyncio.sleep(0)
    sub.close()
    try:
        await asyncio.wait_for(waiter, 10)
    except StopAsyncIteration:
        pass
    else:
        raise AssertionError("a closed subscription must stop")
