"""REST reconciliation: what Kraken knows about our orders and fills, as core objects.

Used to settle outcome-unknown requests (find an order by cl_ord_id or txid), to catch up after
a WebSocket reconnect (fills since the last one seen, orders that closed while we were away) and
on restart (fills since the journal's oldest open order). Every fill found here goes through the
executions feed, which de-duplicates by trade id, so a fill also seen on the WebSocket reaches
the core once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.core.errors import ErrorReason, VenueRejected
from gateway.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    VenueOrderState,
)
from gateway.core.model import OrdStatus
from gateway.venues.kraken.common.order_ids import KrakenOrderIds
from gateway.venues.kraken.common.symbols import KrakenSymbolMap
from gateway.venues.kraken.spot.executions import KrakenSpotExecutionsFeed
from gateway.venues.kraken.spot.parse import (
    KrakenSpotExecutionsBatch,
    parse_order_info,
    parse_trade_info,
)
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient

log = logging.getLogger(__name__)

QUERY_ORDERS_MAX = 50
QUERY_TRADES_MAX = 20
HISTORY_PAGE = 50
# `start` is exclusive and our clock may lag Kraken's: look back generously; fills de-dup.
CATCH_UP_OVERLAP = timedelta(seconds=30)
_CLOSE_EVENTS: dict[OrdStatus, type[OrderCanceled] | type[OrderExpired]] = {
    OrdStatus.CANCELED: OrderCanceled,
    OrdStatus.EXPIRED: OrderExpired,
}
UNKNOWN_TEXT = (
    "Kraken does not know this order (not open, not among its closed orders): its state at "
    "the venue was lost"
)
_OPEN = frozenset({OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED, OrdStatus.PENDING_NEW})


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _venue_order(trade: Mapping[str, Any]) -> tuple[Decimal, int]:
    return Decimal(str(trade.get("time", 0))), int(trade.get("trade_id", 0))


class KrakenSpotReconciler:
    """Order and fill look-ups over REST for one key."""

    def __init__(
        self,
        rest: KrakenSpotRestClient,
        ids: KrakenOrderIds,
        feed: KrakenSpotExecutionsFeed,
        symbols: KrakenSymbolMap,
    ) -> None:
        self._rest = rest
        self._ids = ids
        self._feed = feed
        self.symbols = symbols

    # -- orders ---------------------------------------------------------------------------
    async def _state(self, txid: str, info: Mapping[str, Any]) -> VenueOrderState:
        state = parse_order_info(txid, info, self.symbols)  # type: ignore[arg-type]
        client = await self._ids.client_id(state.client_order_id)
        trades = [str(t) for t in info.get("trades") or ()]
        fills = await self.fills_by_trade_id(trades) if trades else []
        fills = [replace(f, client_order_id=client) for f in fills]
        return replace(state, client_order_id=client, fills=tuple(fills))

    async def query_order(
        self, cl_ord_id: str, venue_order_id: str | None
    ) -> VenueOrderState | None:
        """The order by txid if known, else by cl_ord_id among open then closed orders."""
        if venue_order_id:
            result = await self._query_known(venue_order_id)
            info = result.get(venue_order_id) if isinstance(result, Mapping) else None
            if info is not None:
                return await self._state(venue_order_id, info)
        for method, key in (("OpenOrders", "open"), ("ClosedOrders", "closed")):
            result = await self._rest.read(method, {"cl_ord_id": cl_ord_id, "trades": "true"})
            orders: Mapping[str, Any] = result.get(key) or {}
            for txid, info in orders.items():
                if info.get("cl_ord_id") == cl_ord_id:
                    return await self._state(txid, info)
        return None

    async def _query_known(self, txids: str) -> Mapping[str, Any] | None:
        """QueryOrders, or None when Kraken does not know (one of) the txids: a journal that
        outlived its venue state (a fresh simulator, a wiped account) must not stop start-up."""
        try:
            result: Mapping[str, Any] = await self._rest.read(
                "QueryOrders", {"txid": txids, "trades": "true"}
            )
        except VenueRejected as exc:
            if exc.reason is not ErrorReason.VENUE_INVALID_ORDER:
                raise
            log.warning("Kraken does not know order(s) %s", txids)
            return None
        return result

    async def _listed(self, txid: str, info: Mapping[str, Any]) -> VenueOrderState:
        """An order of a listing, without its fills (those come from the fills listing)."""
        state = parse_order_info(txid, info, self.symbols)  # type: ignore[arg-type]
        return replace(state, client_order_id=await self._ids.client_id(state.client_order_id))

    async def open_orders(self) -> list[VenueOrderState]:
        """Every open order, in one call (fills not included: see `fills_since`)."""
        result = await self._rest.read("OpenOrders")
        return [await self._listed(t, i) for t, i in (result.get("open") or {}).items()]

    async def closed_orders(self, since: datetime) -> list[VenueOrderState]:
        """Orders closed since `since` (less the clock overlap), all pages, without fills."""
        start = f"{(since - CATCH_UP_OVERLAP).timestamp():.6f}"
        states: list[VenueOrderState] = []
        offset = 0
        while True:
            result = await self._rest.read("ClosedOrders", {"start": start, "ofs": str(offset)})
            page: Mapping[str, Any] = result.get("closed") or {}
            for txid, info in page.items():
                states.append(await self._listed(txid, info))
            offset += len(page)
            if not page or offset >= int(result.get("count", offset)):
                return states

    # -- fills ----------------------------------------------------------------------------
    async def fills_by_trade_id(self, trade_ids: Sequence[str]) -> list[OrderFilled]:
        fills: list[OrderFilled] = []
        for chunk in _chunks(list(trade_ids), QUERY_TRADES_MAX):
            result = await self._rest.read("QueryTrades", {"txid": ",".join(chunk)})
            fills.extend(parse_trade_info(t, i, self.symbols) for t, i in (result or {}).items())
        return fills

    async def fills_since(self, since: datetime | None) -> list[OrderFilled]:
        """TradesHistory after `since` (all pages), oldest first; the newest page if None."""
        params: dict[str, str] = {}
        if since is not None:
            params["start"] = f"{since.timestamp():.6f}"
        entries: dict[str, Any] = {}
        offset = 0
        while True:
            result = await self._rest.read("TradesHistory", {**params, "ofs": str(offset)})
            page: Mapping[str, Any] = result.get("trades") or {}
            entries.update(page)
            offset += len(page)
            count = int(result.get("count", offset))
            if since is None or not page or offset >= count:
                break
        # Venue order: time, then Kraken's per-book trade sequence (equal times are common).
        ordered = sorted(
            entries.items(),
            key=lambda item: (
                Decimal(str(item[1].get("time", 0))),
                int(item[1].get("trade_id", 0)),
            ),
        )
        return [parse_trade_info(txid, info, self.symbols) for txid, info in ordered]

    # -- catch-up after a (re)connect ----------------------------------------------------
    async def catch_up(self, snapshot: KrakenSpotExecutionsBatch, since: datetime | None) -> None:
        """Bring the core up to date from an executions snapshot plus REST: missed fills in
        order, orders open at Kraken tracked (and acknowledged), tracked orders that closed
        while the feed was down reported closed."""
        fills = [x.event for x in snapshot.executions if isinstance(x.event, OrderFilled)]
        start = None if since is None else since - CATCH_UP_OVERLAP
        fills.extend(await self.fills_since(start))
        await self._feed.emit_fills(fills)
        open_ids: set[str] = set()
        for state in snapshot.order_states:
            if state.status not in _OPEN:
                continue
            open_ids.add(state.venue_order_id)
            client = await self._ids.client_id(state.client_order_id)
            if client is None:
                continue
            if state.venue_order_id not in self._ids.live:
                self._ids.track(state.venue_order_id, client, state.symbol)
            await self._feed.emit(
                OrderAccepted(client_order_id=client, venue_order_id=state.venue_order_id)
            )
        gone = [v for v in self._ids.live if v not in open_ids]
        if gone:
            await self.settle_closed(gone)

    async def settle_closed(self, txids: Sequence[str]) -> None:
        """Report tracked orders that are no longer open at Kraken (fills first). Each ends in a
        definite state: QueryOrders in chunks; a chunk Kraken refuses (it names an order it
        does not know) is looked up in one ClosedOrders listing instead of order by order, and
        an order found nowhere is reported canceled as unknown to Kraken, once, and no longer
        tracked (so it is not asked about again)."""
        states: list[VenueOrderState] = []
        missing: list[str] = []
        for chunk in _chunks(list(txids), QUERY_ORDERS_MAX):
            result = await self._query_known(",".join(chunk))
            if result is None:
                missing.extend(chunk)
                continue
            states.extend([await self._state(t, i) for t, i in result.items()])
        if missing:
            oldest = max(self._ids.age(t) for t in missing)
            since = datetime.now(UTC) - timedelta(seconds=oldest)
            listed = {s.venue_order_id: s for s in await self.closed_orders(since)}
            states.extend(listed[t] for t in missing if t in listed)
            await self._settle_unknown([t for t in missing if t not in listed])
        for state in states:
            if state.status in _OPEN:
                continue
            await self._feed.emit_fills(state.fills)
            self._ids.untrack(state.venue_order_id)
            kind = _CLOSE_EVENTS.get(state.status)
            if kind is not None:
                await self._feed.emit(
                    kind(
                        client_order_id=state.client_order_id,
                        venue_order_id=state.venue_order_id,
                        venue_time=state.venue_time,
                        text=state.text,
                    )
                )

    async def _settle_unknown(self, txids: Sequence[str]) -> None:
        if not txids:
            return
        log.warning("%d tracked order(s) unknown to Kraken: reported canceled", len(txids))
        for txid in txids:
            tracked = self._ids.live.get(txid)
            self._ids.untrack(txid)
            if tracked is not None:
                await self._feed.emit(
                    OrderCanceled(
                        client_order_id=tracked.client_order_id,
                        venue_order_id=txid,
                        text=UNKNOWN_TEXT,
                    )
                )
