"""Per-key Kraken nonces: strictly increasing under asyncio concurrency and across restarts.

Kraken rejects any nonce <= the last one it accepted for the key (wire 2.4), and a value once
used can never be lowered. The source hands out `max(clock_us, last + 1)` and only ever issues
values it has durably reserved in the journal: it reserves a block ahead (`block_us` above the
value being issued), so the hot path touches no disk, and after a crash the next process starts
above the persisted reservation, never below anything issued before.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

DEFAULT_BLOCK_US = 10_000_000  # 10 s of microsecond clock per journal write


class KrakenNonceStore(Protocol):
    """Durable per-key nonce high-water mark (`JournalPort.reserve_nonce` implements it).

    `reserve_nonce` durably stores and returns a new mark `m >= at_least` for `key_id`, above
    every mark returned before (the journal returns `max(at_least, last + 1)`). The source
    treats a returned mark as possibly issued already, so both "returns the old mark" and
    "returns a fresh value" stores are safe. Sync or async implementations are accepted.
    """

    def reserve_nonce(self, key_id: str, at_least: int) -> int | Awaitable[int]: ...


class KrakenNonceStoreError(RuntimeError):
    """The store returned a mark below the requested reservation."""


class InMemoryNonceStore:
    """A non-durable store for tests and the embedded simulator default."""

    def __init__(self) -> None:
        self.marks: dict[str, int] = {}
        self.calls = 0

    def reserve_nonce(self, key_id: str, at_least: int) -> int:
        # Same contract as the journal: max(at_least, last + 1), stored.
        self.calls += 1
        mark = max(at_least, self.marks.get(key_id, 0) + 1)
        self.marks[key_id] = mark
        return mark


def _clock_us() -> int:
    return time.time_ns() // 1000


class KrakenNonceSource:
    """Nonces for one API key. One instance per key per process (the key lease guarantees it)."""

    def __init__(
        self,
        key_id: str,
        store: KrakenNonceStore,
        *,
        clock_us: Callable[[], int] = _clock_us,
        block_us: int = DEFAULT_BLOCK_US,
    ) -> None:
        if block_us < 1:
            raise ValueError("block_us must be >= 1")
        self._key_id = key_id
        self._store = store
        self._clock_us = clock_us
        self._block = block_us
        self._last = 0
        self._ceiling = -1  # highest value durably reserved; nothing above it may be issued
        self._loaded = False
        self._lock = asyncio.Lock()

    @property
    def last_issued(self) -> int:
        return self._last

    async def next_nonce(self) -> int:
        while True:
            # No await between the read and the write of _last: atomic under asyncio.
            candidate = max(self._clock_us(), self._last + 1)
            if candidate <= self._ceiling:
                self._last = candidate
                return candidate
            async with self._lock:
                candidate = max(self._clock_us(), self._last + 1)
                if candidate > self._ceiling:
                    await self._reserve_above(candidate)

    async def _call_store(self, at_least: int) -> int:
        result = self._store.reserve_nonce(self._key_id, at_least)
        if inspect.isawaitable(result):
            return await result
        return result

    async def _reserve_above(self, candidate: int) -> None:
        if not self._loaded:
            # Everything up to the persisted mark may have been issued by a previous process;
            # reserving with at_least=0 returns (a value above) that mark.
            self._last = max(self._last, await self._call_store(0))
            self._loaded = True
        while True:
            start = max(candidate, self._last + 1)
            target = start + self._block
            mark = await self._call_store(target)
            if mark == target:
                # Issuing resumes at >= start > last; start..target is ours.
                self._ceiling = target
                return
            if mark < target:
                raise KrakenNonceStoreError(f"nonce store for {self._key_id} did not reserve")
            # Someone else reserved further (should not happen under the key lease): jump past.
            self._last = mark
