"""Live fan-out of committed reports, and the replay-then-live subscription.

No gap, no duplicate: a subscription registers with the hub first and learns the high-water
mark H (the last sequence already committed and published). Everything <= H is in the store, so
it is read from there; everything > H will be pushed live after registration. Reports are
filtered by cursor (> last delivered), so an overlap can never deliver twice. A consumer too
slow for its live buffer is dropped back to reading the store, then re-registers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable

from gateway.core.model import ExecutionReport

log = logging.getLogger(__name__)

# fetch(by_account, key, after, upto, limit, resend_upto) -> the reports with
# after < cursor <= upto, ascending, poss_resend set on those with cursor <= resend_upto
Fetch = Callable[[bool, str, int, int, int, int], Awaitable[list[ExecutionReport]]]


class ReportHub:
    """Committed high-water marks per session and per account, and the live subscribers."""

    def __init__(self) -> None:
        self._session_hw: defaultdict[str, int] = defaultdict(int)
        self._account_hw: defaultdict[str, int] = defaultdict(int)
        self._session_subs: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._account_subs: defaultdict[str, set[Subscription]] = defaultdict(set)

    def load_high_water(self, sessions: dict[str, int], accounts: dict[str, int]) -> None:
        self._session_hw.update(sessions)
        self._account_hw.update(accounts)

    def high_water(self, by_account: bool, key: str) -> int:
        return (self._account_hw if by_account else self._session_hw).get(key, 0)

    def publish(self, report: ExecutionReport) -> None:
        """Called in commit order, on the event loop, after the report is durable."""
        self._session_hw[report.session_id] = report.sequence
        self._account_hw[report.account] = report.account_sequence
        for sub in self._session_subs.get(report.session_id, ()):
            sub.push(report)
        for sub in self._account_subs.get(report.account, ()):
            sub.push(report)

    def register(self, sub: Subscription, by_account: bool, key: str) -> int:
        (self._account_subs if by_account else self._session_subs)[key].add(sub)
        return self.high_water(by_account, key)

    def unregister(self, sub: Subscription, by_account: bool, key: str) -> None:
        subs = (self._account_subs if by_account else self._session_subs).get(key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del (self._account_subs if by_account else self._session_subs)[key]

    def close_all(self) -> None:
        for table in (self._session_subs, self._account_subs):
            for subs in list(table.values()):
                for sub in list(subs):
                    sub.close()


class Subscription:
    """Reports with cursor > from_sequence: stored ones (poss_resend=True), then live ones.

    The cursor is `sequence` for a session subscription, `account_sequence` for drop copy.
    After `close()`, `next()` raises StopAsyncIteration.
    """

    def __init__(
        self,
        hub: ReportHub,
        fetch: Fetch,
        *,
        by_account: bool,
        key: str,
        from_sequence: int,
        max_buffer: int = 10_000,
        page_size: int = 512,
    ) -> None:
        self._hub = hub
        self._fetch = fetch
        self._by_account = by_account
        self._key = key
        self._last = from_sequence
        self._max_buffer = max_buffer
        self._page_size = page_size
        self._resend_upto: int | None = None
        self._registered = False
        self._target = 0
        self._ready: deque[ExecutionReport] = deque()
        self._live: deque[ExecutionReport] = deque()
        self._overflow = False
        self._closed = False
        self._wakeup = asyncio.Event()

    @property
    def last_sequence(self) -> int:
        """Cursor of the last report delivered (or from_sequence)."""
        return self._last

    def _cursor(self, report: ExecutionReport) -> int:
        return report.account_sequence if self._by_account else report.sequence

    def push(self, report: ExecutionReport) -> None:
        if self._overflow:
            return
        if len(self._live) >= self._max_buffer:
            self._overflow = True  # re-read from the store instead of growing without bound
            self._live.clear()
        else:
            self._live.append(report)
        self._wakeup.set()

    async def next(self, heartbeat_after: float | None = None) -> ExecutionReport | None:
        """The next report, or None after `heartbeat_after` idle seconds. Cancel-safe."""
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._ready:
                report = self._ready.popleft()
                cursor = self._cursor(report)
                if cursor <= self._last:
                    continue
                self._last = cursor
                return report
            if not self._registered:
                self._target = self._hub.register(self, self._by_account, self._key)
                self._registered = True
                if self._resend_upto is None:
                    self._resend_upto = self._target
                continue
            if self._last < self._target:
                rows = await self._fetch(
                    self._by_account,
                    self._key,
                    self._last,
                    self._target,
                    self._page_size,
                    self._resend_upto or 0,
                )
                if not rows:
                    log.error("journal has no reports in (%d, %d]", self._last, self._target)
                    self._last = self._target
                self._ready.extend(rows)
                continue
            if self._overflow:
                self._hub.unregister(self, self._by_account, self._key)
                self._registered = False
                self._overflow = False
                continue
            if self._live:
                self._ready.extend(self._live)
                self._live.clear()
                continue
            self._wakeup.clear()
            if heartbeat_after is None:
                await self._wakeup.wait()
                continue
            try:
                async with asyncio.timeout(heartbeat_after):
                    await self._wakeup.wait()
            except TimeoutError:
                return None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._registered:
            self._hub.unregister(self, self._by_account, self._key)
            self._registered = False
        self._wakeup.set()

    def __aiter__(self) -> AsyncIterator[ExecutionReport]:
        return self

    async def __anext__(self) -> ExecutionReport:
        report = await self.next()
        if report is None:  # cannot happen without a heartbeat interval
            raise StopAsyncIteration
        return report
