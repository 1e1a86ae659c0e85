"""Market reference prices for pre-trade risk, one per (venue, symbol), from the venue's public
ticker feed.

A symbol is followed from the first order that needs its reference (`follow`), for as long as
the gateway runs: one ticker subscription per symbol however many accounts trade it. The
reference of a ticker is its mark price (derivatives), else the mid of its best bid and ask,
else its last trade price. A reference counts only while it is fresh: confirmed by the feed
(a change, or the venue's heartbeat saying nothing changed) within the caller's max age, so a
dead feed cannot keep an old price alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from gateway.core.model import Ticker
from gateway.core.ports import TickerFeedPort

__all__ = ["ReferencePrice", "ReferencePrices", "reference_of"]

log = logging.getLogger(__name__)

_TWO = Decimal(2)
FEED_RETRY_S = 1.0  # pause before following a failed ticker feed again


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    price: Decimal
    source: str  # "mark", "mid" or "last": which ticker figure it is
    confirmed_at: float  # the clock's time when the feed last confirmed it


def reference_of(ticker: Ticker) -> tuple[Decimal, str] | None:
    """The ticker's reference price and its source, or None if it quotes no usable price."""
    if ticker.mark_price is not None and ticker.mark_price > 0:
        return ticker.mark_price, "mark"
    bid, ask = ticker.bid, ticker.ask
    if bid is not None and ask is not None and 0 < bid <= ask:
        return (bid + ask) / _TWO, "mid"
    if ticker.last is not None and ticker.last > 0:
        return ticker.last, "last"
    return None


@dataclass
class _Feed:
    port: TickerFeedPort
    task: asyncio.Task[None]


class ReferencePrices:
    """The latest reference of each followed (venue, symbol); `clock` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._latest: dict[tuple[str, str], ReferencePrice] = {}
        self._feeds: dict[tuple[str, str], _Feed] = {}
        self._changed: dict[tuple[str, str], asyncio.Event] = {}

    def update(self, venue: str, symbol: str, ticker: Ticker) -> None:
        """A ticker (or the feed confirming it) arrived: it is the reference from now on. A
        ticker without a usable price leaves the symbol without a reference."""
        key = (venue, symbol)
        found = reference_of(ticker)
        if found is None:
            self._latest.pop(key, None)
            return
        price, source = found
        self._latest[key] = ReferencePrice(price, source, self._clock())
        event = self._changed.pop(key, None)
        if event is not None:
            event.set()

    def get(self, venue: str, symbol: str, max_age_s: float) -> ReferencePrice | None:
        """The reference if the feed confirmed it within `max_age_s`, else None."""
        found = self._latest.get((venue, symbol))
        if found is None or self._clock() - found.confirmed_at > max_age_s:
            return None
        return found

    def follow(self, venue: str, symbol: str, port: TickerFeedPort, max_age_s: float) -> None:
        """Keep the symbol's reference current from `port`'s ticker feed (idempotent). A feed
        that ended, or is stale (nothing within `max_age_s`) while another port is offered (its
        account's venue was detached, say), is replaced by `port`'s."""
        key = (venue, symbol)
        feed = self._feeds.get(key)
        if feed is not None and not feed.task.done():
            if feed.port is port or self.get(venue, symbol, max_age_s) is not None:
                return
            feed.task.cancel()
        task = asyncio.get_running_loop().create_task(self._run(key, port))
        self._feeds[key] = _Feed(port, task)

    async def wait(
        self, venue: str, symbol: str, max_age_s: float, timeout_s: float
    ) -> ReferencePrice | None:
        """The fresh reference, waiting up to `timeout_s` for the feed to deliver one."""
        key = (venue, symbol)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while (found := self.get(venue, symbol, max_age_s)) is None:
                    await self._changed.setdefault(key, asyncio.Event()).wait()
                return found
        return None

    async def close(self) -> None:
        tasks = [feed.task for feed in self._feeds.values()]
        self._feeds.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, key: tuple[str, str], port: TickerFeedPort) -> None:
        venue, symbol = key
        while True:
            try:
                async for ticker in port.stream_ticker(symbol):
                    self.update(venue, symbol, ticker)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the feed's own failure: follow it again shortly
                log.warning("ticker feed %s %s failed (%s); following it again", venue, symbol, exc)
            else:
                log.warning("ticker feed %s %s ended; following it again", venue, symbol)
            await asyncio.sleep(FEED_RETRY_S)  # a retry backoff, not a synchronisation
