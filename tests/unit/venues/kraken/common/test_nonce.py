"""Nonce source: strictly increasing under concurrency and across restarts, block reservations."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.nonce import (
    InMemoryNonceStore,
    KrakenNonceSource,
    KrakenNonceStoreError,
)


class FakeClock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


class AsyncStore(InMemoryNonceStore):
    """Yields to the loop inside every reservation, so concurrent callers interleave there."""

    async def reserve_nonce(self, key_id: str, at_least: int) -> int:  # type: ignore[override]
        await asyncio.sleep(0)
        return super().reserve_nonce(key_id, at_least)


async def test_concurrent_callers_get_unique_increasing_nonces() -> None:
    store = AsyncStore()
    source = KrakenNonceSource("k", store, clock_us=FakeClock(1_000), block_us=7)
    results = await asyncio.gather(*(source.next_nonce() for _ in range(500)))
    assert len(set(results)) == 500
    assert max(results) <= store.marks["k"]
    # The clock is frozen, so issue order is call order: gather returns in call order.
    assert results == sorted(results)


async def test_blocks_limit_store_calls() -> None:
    store = InMemoryNonceStore()
    source = KrakenNonceSource("k", store, clock_us=FakeClock(10), block_us=1000)
    for _ in range(900):
        await source.next_nonce()
    assert store.calls == 2  # the initial read + one block


async def test_restart_continues_above_everything_issued() -> None:
    store = InMemoryNonceStore()
    clock = FakeClock(5_000)
    first = KrakenNonceSource("k", store, clock_us=clock, block_us=100)
    issued = [await first.next_nonce() for _ in range(250)]
    # "Crash": a new source on the same store with a clock that went backwards.
    clock.now = 1
    second = KrakenNonceSource("k", store, clock_us=clock)
    assert await second.next_nonce() > max(issued)


async def test_follows_the_clock_when_it_is_ahead() -> None:
    clock = FakeClock(1_000_000)
    source = KrakenNonceSource("k", InMemoryNonceStore(), clock_us=clock, block_us=10)
    assert await source.next_nonce() == 1_000_000
    clock.now = 2_000_000
    assert await source.next_nonce() == 2_000_000


async def test_keys_are_independent() -> None:
    store = InMemoryNonceStore()
    a = KrakenNonceSource("a", store, clock_us=FakeClock(5), block_us=10)
    b = KrakenNonceSource("b", store, clock_us=FakeClock(5), block_us=10)
    assert await a.next_nonce() == 5
    assert await b.next_nonce() == 5
    assert set(store.marks) == {"a", "b"}


async def test_store_that_does_not_reserve_fails_loudly() -> None:
    class Broken(InMemoryNonceStore):
        def reserve_nonce(self, key_id: str, at_least: int) -> int:
            return 0

    with pytest.raises(KrakenNonceStoreError):
        await KrakenNonceSource("k", Broken(), clock_us=FakeClock(5)).next_nonce()


async def test_store_ahead_of_us_is_skipped() -> None:
    class Racing(InMemoryNonceStore):
        def reserve_nonce(self, key_id: str, at_least: int) -> int:
            if at_least and self.calls == 1:  # another writer jumped ahead once
                self.marks[key_id] = at_least + 1000
            return super().reserve_nonce(key_id, at_least)

    store = Racing()
    source = KrakenNonceSource("k", store, clock_us=FakeClock(5), block_us=10)
    assert await source.next_nonce() > 1015


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(-50, 200), st.integers(1, 20), st.booleans()), min_size=1, max_size=30
    ),
    block=st.integers(1, 50),
)
def test_property_monotonic_across_clock_jumps_and_restarts(
    steps: list[tuple[int, int, bool]], block: int
) -> None:
    async def run() -> None:
        store = AsyncStore()
        clock = FakeClock(100)
        source = KrakenNonceSource("k", store, clock_us=clock, block_us=block)
        issued: list[int] = []
        for jump, burst, restart in steps:
            clock.now = max(0, clock.now + jump)
            if restart:
                source = KrakenNonceSource("k", store, clock_us=clock, block_us=block)
            batch = await asyncio.gather(*(source.next_nonce() for _ in range(burst)))
            issued.extend(batch)
            assert max(issued) <= store.marks["k"]  # durable before use
        assert all(b > a for a, b in itertools.pairwise(issued))

    asyncio.run(run())


async def test_store_returning_the_old_mark_is_also_safe() -> None:
    class MaxStore(InMemoryNonceStore):
        def reserve_nonce(self, key_id: str, at_least: int) -> int:
            self.marks[key_id] = max(self.marks.get(key_id, 0), at_least)
            return self.marks[key_id]

    store = MaxStore()
    clock = FakeClock(50)
    first = KrakenNonceSource("k", store, clock_us=clock, block_us=5)
    issued = [await first.next_nonce() for _ in range(12)]
    clock.now = 0
    second = KrakenNonceSource("k", store, clock_us=clock, block_us=5)
    assert await second.next_nonce() > max(issued)


async def test_with_the_sqlite_journal_across_a_restart(tmp_path: Path) -> None:
    """The real journal as the store: concurrent issue, close, reopen, never backwards."""
    clock = FakeClock(1_000)
    journal = await SqliteJournal.open(tmp_path)
    try:
        source = KrakenNonceSource("key-a", journal, clock_us=clock, block_us=50)
        first = await asyncio.gather(*(source.next_nonce() for _ in range(200)))
    finally:
        await journal.close()
    assert len(set(first)) == 200
    clock.now = 0  # the clock went backwards across the restart
    journal = await SqliteJournal.open(tmp_path)
    try:
        source = KrakenNonceSource("key-a", journal, clock_us=clock, block_us=50)
        assert await source.next_nonce() > max(first)
    finally:
        await journal.close()
