"""Price-time matching on the futures books and the synthetic maker's ladder.

The book is the engine-wide `OrderBook`; this module adds what futures need around it: a
contiguous per-product `seq` on every level change (WS v1 book feed), trade prints, the
pre-trade outcomes of post/ioc/fok orders and self-fill detection. Settling a fill against
accounts is the engine's business: it receives every execution through `on_execution`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from simulator.engine.futures_events import (
    KrakenFuturesBookEvent,
    KrakenFuturesEvent,
    KrakenFuturesTradeEvent,
)
from simulator.engine.futures_market import LADDER_LEVELS, ladder_prices, level_size
from simulator.engine.futures_market_state import KrakenFuturesMarketState, crosses
from simulator.engine.futures_orders import (
    KrakenFuturesOrder,
    KrakenFuturesOrderEvent,
    KrakenFuturesOrderType,
)
from simulator.engine.model import Side

MAKER_ACCOUNT = "kraken-futures-synthetic-maker"

# (market, maker, taker, price, qty, taker snapshot before the fill, the caller's order events)
ExecutionHandler = Callable[
    [
        KrakenFuturesMarketState,
        KrakenFuturesOrder,
        KrakenFuturesOrder,
        Decimal,
        Decimal,
        KrakenFuturesOrder,
        list[KrakenFuturesOrderEvent],
    ],
    None,
]


class KrakenFuturesMatcher:
    def __init__(
        self,
        emit: Callable[[KrakenFuturesEvent], None],
        now_ms: Callable[[], int],
        new_id: Callable[[], str],
        on_execution: ExecutionHandler,
    ) -> None:
        self._emit = emit
        self._now_ms = now_ms
        self._new_id = new_id
        self._on_execution = on_execution

    # ----------------------------------------------------------------- book changes

    def _level_changed(
        self, m: KrakenFuturesMarketState, side: Side, price: Decimal, qty: Decimal
    ) -> None:
        m.book_seq += 1
        self._emit(
            KrakenFuturesBookEvent(m.inst.symbol, side, price, qty, m.book_seq, self._now_ms())
        )

    def rest(self, m: KrakenFuturesMarketState, order: KrakenFuturesOrder) -> None:
        assert order.limit_price is not None
        qty = m.book.add(order.order_id, order.side, order.limit_price, order.remaining, order)
        self._level_changed(m, order.side, order.limit_price, qty)

    def unrest(self, m: KrakenFuturesMarketState, order: KrakenFuturesOrder) -> None:
        assert order.limit_price is not None
        qty = m.book.remove(order.order_id)
        self._level_changed(m, order.side, order.limit_price, qty)

    def resize(self, m: KrakenFuturesMarketState, order: KrakenFuturesOrder) -> None:
        """A resting order's open size changed in place (fill, reduce-only clip)."""
        assert order.limit_price is not None
        qty = m.book.set_qty(order.order_id, order.remaining)
        self._level_changed(m, order.side, order.limit_price, qty)

    # ----------------------------------------------------------------- matching

    def pre_match_status(
        self, m: KrakenFuturesMarketState, order: KrakenFuturesOrder
    ) -> str | None:
        """Outcome decided before anything trades: post/ioc/fok rules and self-fill."""
        opposite = order.side.opposite
        best = m.book.best_price(opposite)
        would_trade = best is not None and crosses(order.side, best, order.limit_price)
        if order.order_type is KrakenFuturesOrderType.POST and would_trade:
            return "postWouldExecute"
        immediate = (KrakenFuturesOrderType.IOC, KrakenFuturesOrderType.MKT)
        if order.order_type in immediate and not would_trade:
            return "iocWouldNotExecute"
        need = order.remaining
        for price in m.book.prices(opposite):
            if need <= 0 or not crosses(order.side, price, order.limit_price):
                break
            for maker in m.book.items_at(opposite, price):
                if maker.account_id == order.account_id:
                    return "selfFill"
                need -= maker.remaining
                if need <= 0:
                    break
        if order.order_type is KrakenFuturesOrderType.FOK and need > 0:
            return "iocWouldNotExecute"
        return None

    def match(
        self,
        m: KrakenFuturesMarketState,
        taker: KrakenFuturesOrder,
        events: list[KrakenFuturesOrderEvent],
    ) -> bool:
        """Trade `taker` (up to its limit) against the book; True when its own order blocked it."""
        opposite = taker.side.opposite
        while taker.remaining > 0:
            best = m.book.best_price(opposite)
            if best is None or not crosses(taker.side, best, taker.limit_price):
                return False
            first = m.book.first_at(opposite, best)
            assert first is not None
            maker = first[1]
            if maker.account_id == taker.account_id:
                return True  # never self-trade (new orders are refused earlier with selfFill)
            self._execute(m, maker, taker, best, min(taker.remaining, maker.remaining), events)
        return False

    def _execute(
        self,
        m: KrakenFuturesMarketState,
        maker: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        events: list[KrakenFuturesOrderEvent],
    ) -> None:
        now = self._now_ms()
        prior = taker.snapshot()
        for order in (maker, taker):
            order.filled += qty
            order.updated_ms = now
        if maker.remaining == 0:
            self.unrest(m, maker)
        else:
            self.resize(m, maker)
        m.trade_seq += 1
        trade = KrakenFuturesTradeEvent(
            m.inst.symbol, self._new_id(), taker.side, price, qty, m.trade_seq, now
        )
        m.record_trade(trade)
        self._emit(trade)
        self._on_execution(m, maker, taker, price, qty, prior, events)

    # ----------------------------------------------------------------- synthetic maker

    def requote(self, m: KrakenFuturesMarketState, index: Decimal, rng: random.Random) -> None:
        """Move the maker's ladder to `index`: missing levels are placed, stale ones leave.

        New levels go up before the stale ones come down, so no book update a client sees leaves
        a side of the maker's ladder empty, however far the index jumped. A new level that would
        cross one of the maker's own stale quotes waits until that side's stale quotes are gone
        (the other side always has its new levels by then: both sides cannot be blocked at once,
        as the stale ladder never crossed). A new quote that crosses a resting client order
        trades with it first, so client orders fill as the market moves through them.
        """
        ladder = ladder_prices(m.inst, index)
        wanted = {(side, price) for side, prices in ladder.items() for price in prices}
        stale = {key: m.maker_quotes.pop(key) for key in sorted(set(m.maker_quotes) - wanted)}
        stale = {key: q for key, q in stale.items() if q.order_id in m.book}
        missing = [
            (side, price)
            for side in (Side.BUY, Side.SELL)
            for price in ladder[side][:LADDER_LEVELS]
            if (existing := m.maker_quotes.get((side, price))) is None
            or existing.order_id not in m.book  # a level keeps its size until consumed or moved
        ]

        def blocked(side: Side, price: Decimal) -> bool:
            if side is Side.BUY:
                return any(s is Side.SELL and p <= price for s, p in stale)
            return any(s is Side.BUY and p >= price for s, p in stale)

        def take_down(side: Side) -> None:
            for key in [key for key in stale if key[0] is side]:
                self.unrest(m, stale.pop(key))

        now = self._now_ms()
        waiting = [key for key in missing if blocked(*key)]
        for side, price in missing:
            if (side, price) not in waiting:
                self._place_quote(m, side, price, now, rng)
        for side in (Side.BUY, Side.SELL):
            # Only a side whose new ladder is up loses its stale quotes here.
            if not any(key[0] is side for key in waiting):
                take_down(side)
        for side, price in waiting:
            self._place_quote(m, side, price, now, rng)
        take_down(Side.BUY)
        take_down(Side.SELL)

    def _place_quote(
        self,
        m: KrakenFuturesMarketState,
        side: Side,
        price: Decimal,
        now: int,
        rng: random.Random,
    ) -> None:
        quote = KrakenFuturesOrder(
            order_id=self._new_id(),
            account_id=MAKER_ACCOUNT,
            symbol=m.inst.symbol,
            side=side,
            order_type=KrakenFuturesOrderType.LMT,
            quantity=level_size(m.inst, rng),
            received_ms=now,
            updated_ms=now,
            limit_price=price,
        )
        m.maker_quotes[(side, price)] = quote
        self.match(m, quote, [])
        if quote.remaining > 0:
            self.rest(m, quote)
