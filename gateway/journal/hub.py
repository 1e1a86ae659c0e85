"""Live fan-out of committed reports, and the replay-then-live subscription.

The hub keeps, per stream key (a session, or an account for drop copy), the high-water mark H
(last committed and published cursor) and, while someone subscribes, a bounded ring of the
most recent reports. A subscription is just a cursor: the next report is in the ring if it is
recent enough, else in the store. Both are updated in the same synchronous step on the event
loop, after the commit, so a subscriber can never see a gap or a duplicate, whenever it starts
and however slow it is; a slow one simply falls back to reading the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from gateway.core.model import ExecutionReport

log = logging.getLogger(__name__)

# fetch(by_account, key, after, upto, limit, resend_upto) -> the reports with
# after < cursor <= upto, ascending, poss_resend set on those with cursor <= resend_upto
Fetch = Callable[[bool, str, int, int, int, int], Awaitable[list[ExecutionReport]]]
StreamKey = tuple[bool, str]  # (by_account, session id or account)
# Called on the event loop with each newly committed report, in commit order.
ReportListener = Callable[[ExecutionReport], None]


@dataclass(slots=True)
class _Stream:
    high_water: int = 0
    ring: deque[ExecutionReport] | None = None  # only while subscribed
    subscribers: int = 0
    wakeup: asyncio.Event | None = None  # only while someone waits

    def ring_start(self) -> int:
        """Cursor of the oldest report in the ring (high_water + 1 when empty)."""
        return self.high_water + 1 - (len(self.ring) if self.ring is not None else 0)


@dataclass(slots=True)
class ReportHub:
    """High-water marks and recent reports per stream; publish() is called in commit order."""

    ring_size: int = 16_384
    _streams: dict[StreamKey, _Stream] = field(default_factory=dict)
    _subscriptions: set[Subscription] = field(default_factory=set)
    _listeners: list[ReportListener] = field(default_factory=list)

    def add_listener(self, listener: ReportListener) -> None:
        """`listener(report)` after each publish (e.g. the order-event log, the console)."""
        self._listeners.append(listener)

    def stream_lags(self) -> dict[str, int]:
        """Per session with an open (non drop-copy) subscription: how many committed reports
        its slowest subscriber has not taken yet."""
        lags: dict[str, int] = {}
        for sub in self._subscriptions:
            by_account, key = sub.key
            if by_account:
                continue
            lag = self.high_water(False, key) - sub.last_sequence
            lags[key] = max(lags.get(key, 0), lag)
        return lags

    def load_high_water(self, sessions: dict[str, int], accounts: dict[str, int]) -> None:
        for name, last in sessions.items():
            self._stream((False, name)).high_water = last
        for name, last in accounts.items():
            self._stream((True, name)).high_water = last

    def catch_up(self, by_account: bool, key: str, last: int) -> None:
        """Another writer of a shared store advanced this stream to `last`: move the mark
        there. The ring no longer continues at the mark, so it is emptied (subscribers read
        the store instead) and waiters are woken to do so."""
        stream = self._stream((by_account, key))
        if last <= stream.high_water:
            return
        stream.high_water = last
        if stream.ring is not None:
            stream.ring.clear()
        if stream.wakeup is not None:
            stream.wakeup.set()
            stream.wakeup = None

    def _stream(self, key: StreamKey) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        return stream

    def high_water(self, by_account: bool, key: str) -> int:
        stream = self._streams.get((by_account, key))
        return stream.high_water if stream is not None else 0

    def publish(self, report: ExecutionReport) -> None:
        """Called on the event loop, in commit order, once the report is durable."""
        self._advance(self._stream((False, report.session_id)), report, report.sequence)
        self._advance(self._stream((True, report.account)), report, report.account_sequence)
        for listener in self._listeners:
            try:
                listener(report)
            except Exception:  # an observer must never break the stream
                log.exception("report listener failed")

    @staticmethod
    def _advance(stream: _Stream, report: ExecutionReport, cursor: int) -> None:
        stream.high_water = cursor
        if stream.ring is not None:
            stream.ring.append(report)
        if stream.wakeup is not None:
            stream.wakeup.set()
            stream.wakeup = None

    def attach(self, sub: Subscription, key: StreamKey) -> _Stream:
        stream = self._stream(key)
        if stream.ring is None:
            stream.ring = deque(maxlen=self.ring_size)
        stream.subscribers += 1
        self._subscriptions.add(sub)
        return stream

    def detach(self, sub: Subscription, key: StreamKey) -> None:
        self._subscriptions.discard(sub)
        stream = self._streams.get(key)
        if stream is None:
            return
        stream.subscribers -= 1
        if stream.subscribers <= 0:
            stream.subscribers = 0
            stream.ring = None  # nobody reads it: do not keep reports in memory

    @staticmethod
    def wakeup(stream: _Stream) -> asyncio.Event:
        if stream.wakeup is None:
            stream.wakeup = asyncio.Event()
        return stream.wakeup

    def close_all(self) -> None:
        for sub in list(self._subscriptions):
            sub.close()


class Subscription:
    """Reports with cursor > from_sequence: those already committed when the subscription
    starts are marked poss_resend, then live ones follow. The cursor is `sequence` for a session
    stream, `account_sequence` for drop copy. After `close()`, `next()` raises
    StopAsyncIteration."""

    def __init__(
        self,
        hub: ReportHub,
        fetch: Fetch,
        *,
        by_account: bool,
        key: str,
        from_sequence: int,
        page_size: int = 512,
    ) -> None:
        self._hub = hub
        self._fetch = fetch
        self._key: StreamKey = (by_account, key)
        self._last = from_sequence
        self._page_size = page_size
        self._stream = hub.attach(self, self._key)
        self._resend_upto = self._stream.high_water
        self._page: deque[ExecutionReport] = deque()
        self._closed = False

    @property
    def last_sequence(self) -> int:
        """Cursor of the last report delivered (or from_sequence)."""
        return self._last

    @property
    def key(self) -> StreamKey:
        return self._key

    def _cursor(self, report: ExecutionReport) -> int:
        return report.account_sequence if self._key[0] else report.sequence

    async def next(self, heartbeat_after: float | None = None) -> ExecutionReport | None:
        """The next report, or None after `heartbeat_after` idle seconds. Cancel-safe."""
        stream = self._stream
        while True:
            if self._closed:
                raise StopAsyncIteration
            while self._page:
                report = self._page.popleft()
                if self._cursor(report) == self._last + 1:
                    self._last += 1
                    return report
            wanted = self._last + 1
            if wanted <= stream.high_water:
                start = stream.ring_start()
                if wanted >= start and stream.ring is not None:
                    report = stream.ring[wanted - start]
                    self._last = wanted
                    if wanted <= self._resend_upto:
                        return dataclasses.replace(report, poss_resend=True)
                    return report
                await self._read_store(min(stream.high_water, start - 1))
                continue
            if not await self._wait_for_more(heartbeat_after):
                return None

    async def next_batch(
        self, limit: int, heartbeat_after: float | None = None
    ) -> list[ExecutionReport]:
        """Every report available now, up to `limit` (at least 1), without an await per report:
        the rest of the current store page, else a slice of the ring. Waits only while nothing
        is available; [] after `heartbeat_after` idle seconds. Cancel-safe (the cursor moves
        only in the synchronous step that hands the reports out)."""
        limit = max(1, limit)
        stream = self._stream
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._page:
                got = self._take_page(limit)
                if got:
                    return got
            wanted = self._last + 1
            if wanted <= stream.high_water:
                start = stream.ring_start()
                if wanted >= start and stream.ring is not None:
                    return self._take_ring(stream.ring, wanted - start, limit)
                await self._read_store(min(stream.high_water, start - 1))
                continue
            if not await self._wait_for_more(heartbeat_after):
                return []

    async def _wait_for_more(self, heartbeat_after: float | None) -> bool:
        """Wait for the next publish on this stream; False if `heartbeat_after` seconds passed
        first. Moves no cursor, so cancelling it loses nothing."""
        wakeup = self._hub.wakeup(self._stream)
        if heartbeat_after is None:
            await wakeup.wait()
            return True
        try:
            async with asyncio.timeout(heartbeat_after):
                await wakeup.wait()
        except TimeoutError:
            return False
        return True

    def _take_page(self, limit: int) -> list[ExecutionReport]:
        """Up to `limit` reports from the store page that continue the cursor (like `next`,
        dropping any that do not)."""
        page = self._page
        cursor = self._cursor
        last = self._last
        got: list[ExecutionReport] = []
        while page and len(got) < limit:
            report = page.popleft()
            if cursor(report) == last + 1:
                last += 1
                got.append(report)
        self._last = last
        return got

    def _take_ring(
        self, ring: deque[ExecutionReport], offset: int, limit: int
    ) -> list[ExecutionReport]:
        """Up to `limit` reports from ring position `offset` on (the cursor's next one)."""
        size = len(ring)
        end = min(size, offset + limit)
        if offset == 0 and end == size:
            got = list(ring)
        elif size - offset < end:  # fewer steps from the newest end: walk from there
            got = list(itertools.islice(reversed(ring), size - end, size - offset))
            got.reverse()
        else:
            got = list(itertools.islice(ring, offset, end))
        first = self._last + 1
        self._last += len(got)
        # Reports committed before the subscription started are resends.
        resend = min(len(got), self._resend_upto - first + 1)
        for i in range(max(0, resend)):
            got[i] = dataclasses.replace(got[i], poss_resend=True)
        return got

    async def _read_store(self, upto: int) -> None:
        rows = await self._fetch(
            self._key[0], self._key[1], self._last, upto, self._page_size, self._resend_upto
        )
        if not rows:
            # Cannot happen with an intact store; skipping beats spinning forever.
            log.error("journal has no reports in (%d, %d]", self._last, upto)
            self._last = upto
        self._page.extend(rows)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.detach(self, self._key)
        self._page.clear()
        wakeup = self._stream.wakeup
        if wakeup is not None:
            wakeup.set()  # wake our own pending next(); other waiters just re-check
            self._stream.wakeup = None

    def __aiter__(self) -> AsyncIterator[ExecutionReport]:
        return self

    async def __anext__(self) -> ExecutionReport:
        report = await self.next()
        if report is None:  # cannot happen without a heartbeat interval
            raise StopAsyncIteration
        return report
