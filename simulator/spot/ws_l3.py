"""The `level3` channel (Kraken's L3 endpoint): every resting order of the top price levels.

An `L3View` remembers the orders last published for one (symbol, depth) and turns the live
book into `add` / `modify` / `delete` events that a client applies in order: `add` joins the
back of its price level, `modify` changes a quantity in place, `delete` removes. Orders that
leave the subscribed depth are deleted explicitly, so a client never truncates. An order that
lost its queue position (iceberg refill, amend that grows it) is sent as delete + add.
The checksum is wire 7.4's: every order of the top 10 levels, in queue order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from simulator.engine.events import BookEvent, EngineEvent, ExecutionEvent
from simulator.engine.model import Side
from simulator.engine.pairs import KrakenPair
from simulator.spot.book_checksum import l3_checksum
from simulator.spot.ws_market import timestamp
from simulator.spot.ws_public import (
    ALREADY_SUBSCRIBED,
    INVALID_ARGUMENTS,
    NOT_SUBSCRIBED,
    SubscribeError,
    flag,
)
from simulator.spot.ws_wire import push
from simulator.wire.json_codec import JsonObject, encode
from simulator.wire.ws_connection import Subscription, WsConnection

L3_DEPTHS = (10, 100, 1000)
ZERO = Decimal(0)


class L3BookLike(Protocol):
    def prices(self, side: Side) -> Iterable[Decimal]: ...

    def items_at(self, side: Side, price: Decimal) -> list[Any]: ...

    def qty_of(self, entry_id: str) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class L3Order:
    order_id: str
    price: Decimal
    qty: Decimal
    placed: Decimal  # unix time the order entered the book


SideOrders = list[L3Order]  # best price first, queue order within a price


def read_side(book: L3BookLike, side: Side, depth: int) -> SideOrders:
    """The live orders of the best `depth` price levels of one side."""
    out: SideOrders = []
    for level, price in enumerate(book.prices(side)):
        if level >= depth:
            break
        for order in book.items_at(side, price):
            out.append(L3Order(order.txid, price, book.qty_of(order.txid), order.opentm))
    return out


@dataclass(frozen=True, slots=True)
class L3Event:
    event: str  # add | modify | delete
    order: L3Order


class L3View:
    """The orders of one (symbol, depth) as last published."""

    def __init__(self, depth: int, price_decimals: int, qty_decimals: int) -> None:
        self.depth = depth
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self.asks: SideOrders = []
        self.bids: SideOrders = []

    def checksum(self) -> int:
        return l3_checksum(
            ((o.price, o.qty) for o in self.asks),
            ((o.price, o.qty) for o in self.bids),
            self.price_decimals,
            self.qty_decimals,
        )

    def reset(self, asks: SideOrders, bids: SideOrders) -> int:
        self.asks, self.bids = asks, bids
        return self.checksum()

    def advance(
        self, asks: SideOrders, bids: SideOrders
    ) -> tuple[list[L3Event], list[L3Event]] | None:
        """Events per side (asks, bids) that take a client to the live state; None if none."""
        ask_events = side_events(self.asks, asks)
        bid_events = side_events(self.bids, bids)
        self.asks, self.bids = asks, bids
        if not ask_events and not bid_events:
            return None
        return ask_events, bid_events


def side_events(old: SideOrders, new: SideOrders) -> list[L3Event]:
    old_by_id = {o.order_id: o for o in old}
    old_rank = {o.order_id: i for i, o in enumerate(old)}
    new_ids = {o.order_id for o in new}
    deletes = [L3Event("delete", o) for o in old if o.order_id not in new_ids]
    modifies: list[L3Event] = []
    adds: list[L3Event] = []
    # Within a level, orders keep their place while they appear in their old relative order;
    # from the first order that does not, everything after it is (re)appended in new order.
    level_price: Decimal | None = None
    last_rank = -1
    appending = False
    for order in new:
        if order.price != level_price:
            level_price, last_rank, appending = order.price, -1, False
        before = old_by_id.get(order.order_id)
        in_place = (
            not appending
            and before is not None
            and before.price == order.price
            and old_rank[order.order_id] > last_rank
        )
        if in_place:
            last_rank = old_rank[order.order_id]
            if before is not None and before.qty != order.qty:
                modifies.append(L3Event("modify", order))
            continue
        appending = True
        if before is not None:
            deletes.append(L3Event("delete", before))
        adds.append(L3Event("add", order))
    return deletes + modifies + adds


def order_data(order: L3Order, timestamp: str, event: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if event is not None:
        data["event"] = event
    data["order_id"] = order.order_id
    data["limit_price"] = order.price
    data["order_qty"] = ZERO if event == "delete" else order.qty
    data["timestamp"] = timestamp
    return data


class L3Feed:
    """Subscriptions and publication of `level3` on the L3 endpoint."""

    def __init__(
        self,
        pair_of: Callable[[object], KrakenPair],
        book_of: Callable[[str], L3BookLike],
        now: Callable[[], Decimal],
    ) -> None:
        self._pair_of = pair_of
        self._book_of = book_of
        self._now = now
        self._views: dict[tuple[str, int], L3View] = {}
        self._audiences: dict[tuple[str, int], dict[WsConnection, Subscription]] = {}
        self._dirty: set[str] = set()

    def subscribe(
        self, conn: WsConnection, symbol: object, params: dict[str, Any]
    ) -> tuple[JsonObject, list[str]]:
        pair = self._pair_of(symbol)
        depth = params.get("depth", 10)
        if depth not in L3_DEPTHS or isinstance(depth, bool):
            raise SubscribeError(INVALID_ARGUMENTS, pair.ws_symbol)
        if ("level3", pair.ws_symbol) in conn.subscriptions:
            raise SubscribeError(ALREADY_SUBSCRIBED, pair.ws_symbol)
        snapshot = flag(params, "snapshot", True)
        result: JsonObject = {
            "channel": "level3",
            "depth": depth,
            "snapshot": snapshot,
            "symbol": pair.ws_symbol,
        }
        sub = Subscription("level3", pair.ws_symbol, {"depth": depth, "pair": pair.id})
        conn.subscriptions[("level3", pair.ws_symbol)] = sub
        self._audiences.setdefault((pair.id, depth), {})[conn] = sub
        view = self._view(pair, depth)
        if not snapshot:
            return result, []
        data = {
            "symbol": pair.ws_symbol,
            "bids": [order_data(o, timestamp(o.placed)) for o in view.bids],
            "asks": [order_data(o, timestamp(o.placed)) for o in view.asks],
            "checksum": view.checksum(),
            "timestamp": timestamp(self._now()),
        }
        return result, [encode(push("level3", "snapshot", [data]))]

    def unsubscribe(self, conn: WsConnection, symbol: object) -> JsonObject:
        pair = self._pair_of(symbol)
        sub = conn.subscriptions.pop(("level3", pair.ws_symbol), None)
        if sub is None:
            raise SubscribeError(NOT_SUBSCRIBED, pair.ws_symbol)
        self._audiences.get((pair.id, sub.params["depth"]), {}).pop(conn, None)
        return {"channel": "level3", "depth": sub.params["depth"], "symbol": pair.ws_symbol}

    def forget(self, conn: WsConnection) -> None:
        for members in self._audiences.values():
            members.pop(conn, None)

    def _view(self, pair: KrakenPair, depth: int) -> L3View:
        view = self._views.get((pair.id, depth))
        if view is None:
            view = L3View(depth, pair.pair_decimals, pair.lot_decimals)
            book = self._book_of(pair.id)
            view.reset(read_side(book, Side.SELL, depth), read_side(book, Side.BUY, depth))
            self._views[(pair.id, depth)] = view
        return view

    def on_event(self, event: EngineEvent) -> bool:
        """Book and order events may move queues; mark the pair for the next flush."""
        if not self._audiences:
            return False
        if isinstance(event, BookEvent):
            self._dirty.add(event.pair)
        elif isinstance(event, ExecutionEvent):
            self._dirty.add(event.order.pair)
        else:
            return False
        return True

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        now = timestamp(self._now())
        for (pair_id, depth), members in list(self._audiences.items()):
            if pair_id not in dirty:
                continue
            view = self._views.get((pair_id, depth))
            if not members or view is None:
                self._views.pop((pair_id, depth), None)
                del self._audiences[(pair_id, depth)]
                continue
            book = self._book_of(pair_id)
            events = view.advance(
                read_side(book, Side.SELL, depth), read_side(book, Side.BUY, depth)
            )
            if events is None:
                continue
            symbol = next(iter(members.values())).symbol
            data = {
                "symbol": symbol,
                "bids": [order_data(e.order, now, e.event) for e in events[1]],
                "asks": [order_data(e.order, now, e.event) for e in events[0]],
                "checksum": view.checksum(),
                "timestamp": now,
            }
            frame = encode(push("level3", "update", [data]))
            for conn in list(members):
                conn.deliver("ws:level3", frame)
