"""Fills from every source of a Kraken key (live feed, feed snapshot, REST catch-up) -> the
core, each trade id at most once, oldest first, normalised to the client's order id.

Spot and Futures both report a fill on their private feed and again in REST history after a
reconnect or restart; every fill goes through `KrakenFills.emit`, so a trade id reaches the core
once. Memory is bounded: the oldest trade ids are forgotten first (`max_seen`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from gateway.core.events import OrderFilled, VenueEvent

__all__ = ["SEEN_TRADES_MAX", "KrakenFills", "oldest_first"]

SEEN_TRADES_MAX = 200_000


def oldest_first(fills: Iterable[OrderFilled]) -> list[OrderFilled]:
    """Fills by venue time; stable, so fills of equal time keep the venue's order."""
    return sorted(fills, key=lambda f: f.venue_time.timestamp() if f.venue_time else 0.0)


class KrakenFills:
    """`normalise` maps a fill's ids to the client's (the venue's client id rules differ);
    `emit` hands the result to the core's sink."""

    def __init__(
        self,
        normalise: Callable[[OrderFilled], Awaitable[VenueEvent]],
        emit: Callable[[VenueEvent], Awaitable[None]],
        *,
        max_seen: int = SEEN_TRADES_MAX,
    ) -> None:
        self._normalise = normalise
        self._emit = emit
        self._max_seen = max_seen
        self._seen: OrderedDict[str, None] = OrderedDict()
        # The newest venue time of any fill passed on: where a REST catch-up can start.
        self.last_fill_time: datetime | None = None

    def seen(self, trade_id: str) -> bool:
        return trade_id in self._seen

    async def emit_one(self, fill: OrderFilled) -> None:
        """Pass `fill` on unless its trade id already was."""
        if fill.trade_id in self._seen:
            return
        self._seen[fill.trade_id] = None
        if len(self._seen) > self._max_seen:
            self._seen.popitem(last=False)
        if fill.venue_time is not None and (
            self.last_fill_time is None or fill.venue_time > self.last_fill_time
        ):
            self.last_fill_time = fill.venue_time
        await self._emit(await self._normalise(fill))

    async def emit(self, fills: Iterable[OrderFilled]) -> None:
        """Fills oldest first, each trade id at most once."""
        for fill in oldest_first(fills):
            await self.emit_one(fill)
