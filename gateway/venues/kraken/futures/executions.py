"""Kraken Futures executions -> core venue events: cliOrdId mapping, live-order tracking, and fills
de-duplicated by fill id whatever their source (WS feed, WS snapshot, REST catch-up).

`kraken_futures_order_ids` (the common `KrakenOrderIds` with the cliOrdId rule) keeps the
cliOrdId -> client id mapping (the journal holds the ones that had to become UUIDs, under venue
`krakenfutures`) and the orders this key has live by Kraken order id. `KrakenFuturesFeed` pushes
events in venue order into the core's sink, each fill once (the common `KrakenFills`), and
swallows the echoes of the gateway's own amends and replace-cancels (the core learns those from
the request's answer).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime

from gateway.core.events import OrderAmended, OrderCanceled, OrderFilled, VenueEvent
from gateway.core.ports import JournalPort
from gateway.venues.kraken.common.fills import KrakenFills
from gateway.venues.kraken.common.order_ids import KrakenOrderIds
from gateway.venues.kraken.futures.order_params import kraken_futures_cli_ord_id
from gateway.venues.kraken.futures.wire_values import VENUE

Emit = Callable[[VenueEvent], Awaitable[None]]


def _may_be_futures_mapping(cli_ord_id: str) -> bool:
    # Only UUIDs can be mappings: an id Kraken accepts as is was sent as is.
    return kraken_futures_cli_ord_id(cli_ord_id).mapped or len(cli_ord_id) == 36


def kraken_futures_order_ids(
    journal: JournalPort, account: str, *, clock: Callable[[], float] = time.monotonic
) -> KrakenOrderIds:
    """Client ids <-> cliOrdIds, and the live orders of one key by Kraken order id."""
    return KrakenOrderIds(
        journal, account, VENUE, kraken_futures_cli_ord_id, _may_be_futures_mapping, clock=clock
    )


class KrakenFuturesFeed:
    """Venue events (any source) -> id-mapped core events, each fill once, in order."""

    def __init__(self, ids: KrakenOrderIds, emit: Emit) -> None:
        self._ids = ids
        self._emit = emit
        self.fills = KrakenFills(self.normalise, emit)
        self.expect_amended: Counter[str] = Counter()
        self.replacing: set[str] = set()

    async def normalise(self, event: VenueEvent) -> VenueEvent:
        client = await self._ids.client_id(event.client_order_id)
        if client is None and event.venue_order_id:
            tracked = self._ids.live.get(event.venue_order_id)
            client = tracked.client_order_id if tracked else None
        if client != event.client_order_id:
            return replace(event, client_order_id=client)
        return event

    @property
    def last_fill_time(self) -> datetime | None:
        return self.fills.last_fill_time

    async def emit_fill(self, fill: OrderFilled) -> None:
        await self.fills.emit_one(fill)

    async def emit_fills(self, fills: Iterable[OrderFilled]) -> None:
        """Oldest first (stable: equal times keep the venue's order), each fill id once."""
        await self.fills.emit(fills)

    async def emit(self, event: VenueEvent) -> None:
        """An order event; the gateway's own amend / replace-cancel echoes are swallowed."""
        if isinstance(event, OrderFilled):
            await self.emit_fill(event)
            return
        venue_id = event.venue_order_id or ""
        if isinstance(event, OrderAmended) and self.expect_amended[venue_id] > 0:
            self.expect_amended[venue_id] -= 1
            return
        if isinstance(event, OrderCanceled) and venue_id in self.replacing:
            self.replacing.discard(venue_id)
            return
        await self._emit(await self.normalise(event))
