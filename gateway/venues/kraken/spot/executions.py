"""Kraken executions -> core venue events: id mapping, live-order tracking, fill de-duplication.

Kraken names an order by its `order_id` and our `cl_ord_id`; the core wants the client's own
order id. `kraken_spot_order_ids` (the common `KrakenOrderIds` with Spot's id rule) keeps the
cl_ord_id -> client id mapping (the journal holds the ones that had to become UUIDs) and the
orders this key has live at Kraken, with the time of their last change (the rate governor's
order-age penalties need it).

`KrakenSpotExecutionsFeed` turns parsed executions into core events and pushes them, in venue
order, into the core's sink. Every fill passes through `emit_fill`, whatever its source (WS
update, WS snapshot, REST reconciliation): the shared `KrakenFills` (kraken.common.fills) lets a
trade id reach the core once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime

from gateway.core.events import (
    OrderAmended,
    OrderCanceled,
    OrderFilled,
    VenueEvent,
    VenueOrderEvent,
)
from gateway.core.model import OrdStatus
from gateway.core.ports import JournalPort
from gateway.venues.kraken.common.fills import KrakenFills
from gateway.venues.kraken.common.order_ids import KrakenOrderIds
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor
from gateway.venues.kraken.spot.parse import KrakenSpotExecutionsBatch, kraken_cl_ord_id
from gateway.venues.kraken.spot.wire_values import VENUE

log = logging.getLogger(__name__)

_CLOSED_STATUSES = frozenset({OrdStatus.FILLED, OrdStatus.CANCELED, OrdStatus.EXPIRED})

Emit = Callable[[VenueEvent], Awaitable[None]]


def _may_be_spot_mapping(cl_ord_id: str) -> bool:
    # Only dashed UUIDs can be mappings: an id Kraken accepts as is was sent as is.
    return kraken_cl_ord_id(cl_ord_id).value == cl_ord_id and "-" in cl_ord_id


def kraken_spot_order_ids(
    journal: JournalPort, account: str, *, clock: Callable[[], float] = time.monotonic
) -> KrakenOrderIds:
    """Client ids <-> Kraken cl_ord_ids, and the live orders of one key by Kraken order id."""
    return KrakenOrderIds(
        journal, account, VENUE, kraken_cl_ord_id, _may_be_spot_mapping, clock=clock
    )


class KrakenSpotExecutionsFeed:
    """Executions (any source) -> de-duplicated, id-mapped core events, pushed in order."""

    def __init__(self, ids: KrakenOrderIds, governor: KrakenRateGovernor, emit: Emit) -> None:
        self._ids = ids
        self._governor = governor
        self._emit = emit
        self.fills = KrakenFills(self.normalise, emit)
        # Echoes of our own amends/replaces: the core learns those from the request's answer.
        self.expect_amended: Counter[str] = Counter()
        self.replacing: set[str] = set()
        self.last_sequence: int | None = None

    def seen(self, trade_id: str) -> bool:
        return self.fills.seen(trade_id)

    @property
    def last_fill_time(self) -> datetime | None:
        return self.fills.last_fill_time

    async def normalise(self, event: VenueEvent) -> VenueEvent:
        client = await self._ids.client_id(event.client_order_id)
        if client is None and event.venue_order_id:
            tracked = self._ids.live.get(event.venue_order_id)
            client = tracked.client_order_id if tracked else None
        if client != event.client_order_id:
            return replace(event, client_order_id=client)
        return event

    async def emit_fill(self, fill: OrderFilled) -> None:
        await self.fills.emit_one(fill)

    async def emit(self, event: VenueEvent) -> None:
        if isinstance(event, OrderFilled):
            await self.emit_fill(event)
        else:
            await self._emit(await self.normalise(event))

    async def emit_fills(self, fills: Iterable[OrderFilled]) -> None:
        """Fills oldest first (stable for equal times), each trade id at most once."""
        await self.fills.emit(fills)

    async def on_update(self, batch: KrakenSpotExecutionsBatch) -> None:
        """A live `executions` update message."""
        for x in batch.executions:
            if x.ratecount is not None and x.symbol:
                self._governor.observe_ratecounter(x.ratecount, x.symbol)
            event = x.event
            venue_id = x.venue_order_id
            if x.exec_type == "new" and venue_id and venue_id not in self._ids.live:
                client = await self._ids.client_id(x.cl_ord_id)
                if client is not None:
                    self._ids.track(venue_id, client, x.symbol or "")
            if x.order_status in _CLOSED_STATUSES or x.exec_type == "filled":
                self._ids.untrack(venue_id)
            if event is None or self._is_own_echo(event):
                continue
            await self.emit(event)
        if batch.ratecounter is not None and not batch.executions:
            self._governor.observe_ratecounter(batch.ratecounter)

    def _is_own_echo(self, event: VenueOrderEvent) -> bool:
        venue_id = event.venue_order_id or ""
        if isinstance(event, OrderAmended) and self.expect_amended[venue_id] > 0:
            self.expect_amended[venue_id] -= 1
            return True
        if isinstance(event, OrderCanceled) and venue_id in self.replacing:
            self.replacing.discard(venue_id)
            return True
        return False
