"""Kraken executions -> core venue events: id mapping, live-order tracking, fill de-duplication.

Kraken names an order by its `order_id` and our `cl_ord_id`; the core wants the client's own
order id. `KrakenSpotOrderIds` keeps the cl_ord_id -> client id mapping (the journal holds the ones
that had to become UUIDs) and the orders this key has live at Kraken, with the time of their
last change (the rate governor's order-age penalties need it).

`KrakenSpotExecutionsFeed` turns parsed executions into core events and pushes them, in venue order,
into the core's sink. Every fill passes through `emit_fill`, whatever its source (WS update, WS
snapshot, REST reconciliation): the shared `KrakenFills` (kraken.common.fills) lets a trade id
reach the core once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
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
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor
from gateway.venues.kraken.spot.parse import KrakenSpotExecutionsBatch, kraken_cl_ord_id
from gateway.venues.kraken.spot.wire_values import VENUE

log = logging.getLogger(__name__)

_CLOSED_STATUSES = frozenset({OrdStatus.FILLED, OrdStatus.CANCELED, OrdStatus.EXPIRED})

Emit = Callable[[VenueEvent], Awaitable[None]]


@dataclass(slots=True)
class KrakenSpotTrackedOrder:
    client_order_id: str
    symbol: str
    touched: float  # monotonic time of creation or last amend


class KrakenSpotOrderIds:
    """Client ids <-> Kraken cl_ord_ids, and the live orders of one key by Kraken order id."""

    def __init__(
        self,
        journal: JournalPort,
        account: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._journal = journal
        self._account = account
        self._clock = clock
        self._to_client: dict[str, str] = {}
        self.live: dict[str, KrakenSpotTrackedOrder] = {}

    async def cl_ord_id_for(self, client_order_id: str) -> str:
        """Kraken's cl_ord_id for a client id, journaling the mapping when it had to change."""
        cl = kraken_cl_ord_id(client_order_id)
        if cl.mapped and cl.value not in self._to_client:
            await self._journal.save_client_id_mapping(
                self._account, VENUE, client_order_id, cl.value
            )
        self._to_client[cl.value] = client_order_id
        return cl.value

    async def client_id(self, cl_ord_id: str | None) -> str | None:
        if cl_ord_id is None:
            return None
        known = self._to_client.get(cl_ord_id)
        if known is not None:
            return known
        if kraken_cl_ord_id(cl_ord_id).value != cl_ord_id or "-" not in cl_ord_id:
            return cl_ord_id  # only dashed UUIDs can be mappings
        found = await self._journal.client_order_id_for(self._account, VENUE, cl_ord_id)
        client = found or cl_ord_id
        self._to_client[cl_ord_id] = client
        return client

    def track(self, venue_order_id: str, client_order_id: str, symbol: str) -> None:
        self.live[venue_order_id] = KrakenSpotTrackedOrder(client_order_id, symbol, self._clock())

    def touch(self, venue_order_id: str) -> None:
        tracked = self.live.get(venue_order_id)
        if tracked is not None:
            tracked.touched = self._clock()

    def untrack(self, venue_order_id: str | None) -> None:
        if venue_order_id is not None:
            self.live.pop(venue_order_id, None)

    def age(self, venue_order_id: str | None) -> float:
        """Seconds since the order's last change; 0 (the worst penalty) when unknown."""
        tracked = self.live.get(venue_order_id or "")
        return 0.0 if tracked is None else max(0.0, self._clock() - tracked.touched)


class KrakenSpotExecutionsFeed:
    """Executions (any source) -> de-duplicated, id-mapped core events, pushed in order."""

    def __init__(self, ids: KrakenSpotOrderIds, governor: KrakenRateGovernor, emit: Emit) -> None:
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
