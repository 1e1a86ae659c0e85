"""Order lifecycle and matching: activation, price-time matching, fills and settlement,
holds, self-trade prevention, triggers and conditional closes."""

from __future__ import annotations

import heapq
from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.errors import KrakenError
from simulator.engine.events import ExecType, PublicTradeEvent, ReferencePriceEvent
from simulator.engine.funds import HUNDRED, charge_fee, hold_for, round_down
from simulator.engine.model import (
    ZERO,
    Fill,
    Order,
    OrderParams,
    OrderStatus,
    OrderType,
    Side,
    StpType,
    TimeInForce,
)
from simulator.engine.pairs import KrakenPair
from simulator.engine.parsing import quantize_down
from simulator.engine.spot_state import FEE_ACCOUNT, MARKET_LIKE
from simulator.engine.spot_validation import SpotValidation
from simulator.engine.triggers import fires, limit_after_trigger, trail


class SpotMatching(SpotValidation):
    """Activation, price-time matching, settlement, holds, STP, triggers and closes."""

    def _accept(self, order: Order) -> None:
        """Give the order an id, reserve funds, announce it and activate it unless deferred."""
        order.txid = self.ids.order_id()
        self._orders[order.txid] = order
        self._open[order.account_id][order.txid] = order
        if order.cl_ord_id is not None:
            self._cl_ord_ids[order.account_id][order.cl_ord_id] = order.txid
        self._amends[order.txid] = [self._amend_record(order, "original", order.opentm)]
        self._refresh_hold(order)
        self._emit(order, ExecType.PENDING_NEW)
        if order.expiretm:
            heapq.heappush(self._expiries, (order.expiretm, self._next_book_seq(), order.txid))
        if order.starttm > order.opentm:
            heapq.heappush(self._starts, (order.starttm, self._next_book_seq(), order.txid))
            return
        self._activate(order)

    def _activate(self, order: Order) -> None:
        """Make an order live: triggered types wait in the stop list, others match and rest."""
        order.status = OrderStatus.OPEN
        if order.post_only and self._would_take(order):
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_POST_ONLY)
            return
        self._emit(order, ExecType.NEW)
        if order.ordertype.is_triggered:
            reference = self._trigger_reference(order)
            trail(order, reference, self.directory.pairs[order.pair])
            if fires(order, reference):
                self._fire(order)
            else:
                self._stops[order.pair][order.txid] = order
            return
        self._execute_incoming(order)

    def _execute_incoming(self, order: Order) -> None:
        """Match a newly live (or just triggered) order, then rest or cancel what is left."""
        pair = self.directory.pairs[order.pair]
        if order.timeinforce is TimeInForce.FOK and not self._fok_fillable(order):
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_IOC)
            return
        self._match(order, pair)
        if order.is_open:
            self._after_match(order, pair)
        self._check_triggers(pair.id)
        self._place_closes()

    def _after_match(self, order: Order, pair: KrakenPair) -> None:
        if order.quote_volume is not None and order.vol_exec > 0:
            order.volume = order.vol_exec  # a viqc buy is done once its quote budget is spent
            self._finish(order, OrderStatus.CLOSED, ExecType.FILLED, None)
        elif order.quote_volume is not None or order.ordertype in MARKET_LIKE:
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_NO_LIQUIDITY)
        elif order.timeinforce in (TimeInForce.IOC, TimeInForce.FOK):
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_IOC)
        else:
            self._rest(order)

    def _rest(self, order: Order) -> None:
        limit = order.limit_price
        assert limit is not None
        visible = order.remaining
        if order.displayvol is not None:
            visible = min(order.displayvol, order.remaining)
            order.display_remaining = visible
        order.book_seq = self._next_book_seq()
        level = self._books[order.pair].add(order.txid, order.side, limit, visible, order)
        self._book_event(order.pair, order.side, limit, level)

    def _fok_fillable(self, order: Order) -> bool:
        book, limit, needed = self._books[order.pair], order.limit_price, order.remaining
        for price in book.prices(order.side.opposite):
            qty = book.level_qty(order.side.opposite, price)
            if limit is not None and (price > limit if order.side is Side.BUY else price < limit):
                break
            needed -= qty
            if needed <= 0:
                return True
        return False

    def _match(self, taker: Order, pair: KrakenPair) -> None:
        book = self._books[pair.id]
        opposite = taker.side.opposite
        limit = None if taker.ordertype in MARKET_LIKE else taker.limit_price
        if taker.ordertype in MARKET_LIKE and taker.side is Side.BUY:
            self._set_hold(taker, ZERO)  # market buys pay from free funds fill by fill
        while taker.is_open and taker.remaining > 0:
            price = book.best_price(opposite)
            if price is None:
                return
            if limit is not None and (price > limit if taker.side is Side.BUY else price < limit):
                return
            head = book.first_at(opposite, price)
            assert head is not None
            maker_id, maker = head
            if maker.account_id == taker.account_id:
                if not self._prevent_self_trade(taker, maker):
                    return
                continue
            qty = min(taker.remaining, book.qty_of(maker_id))
            if taker.quote_volume is not None:
                qty = min(
                    qty, quantize_down((taker.quote_volume - taker.cost) / price, pair.lot_decimals)
                )
            if taker.ordertype in MARKET_LIKE and taker.side is Side.BUY:
                qty = min(qty, self._affordable_qty(taker, price, pair))
            if qty <= 0:
                if taker.quote_volume is None and taker.side is Side.BUY:
                    self._finish(
                        taker, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_INSUFFICIENT
                    )
                return
            self._trade(taker, maker, price, qty, pair)

    def _affordable_qty(self, taker: Order, price: Decimal, pair: KrakenPair) -> Decimal:
        """Largest lot a market buy can still pay for (cost + worst-case fee) from free funds."""
        free = self._accounts[taker.account_id].available(pair.quote)
        rate = ZERO if taker.fee_in_base else taker.taker_pct / HUNDRED
        unit = self.directory.assets[pair.quote].unit
        qty = quantize_down((free - unit) / (price * (1 + rate)), pair.lot_decimals)
        return max(qty, ZERO)

    def _prevent_self_trade(self, taker: Order, maker: Order) -> bool:
        """Apply the taker's STP rule; True if the taker may keep matching."""
        if taker.stptype in (StpType.CANCEL_OLDEST, StpType.CANCEL_BOTH):
            self._finish(maker, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_STP)
        if taker.stptype in (StpType.CANCEL_NEWEST, StpType.CANCEL_BOTH):
            self._finish(taker, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_STP)
            return False
        return True

    def _trade(
        self, taker: Order, maker: Order, price: Decimal, qty: Decimal, pair: KrakenPair
    ) -> None:
        """Execute one fill between a taker and the maker at the head of the level."""
        now = self.clock.now()
        assets = self.directory.assets
        quote_dec, base_dec = assets[pair.quote].decimals, assets[pair.base].decimals
        cost = round_down(price * qty, quote_dec)
        trade_id = self.ids.next_trade_id()
        postxid = self.ids.trade_txid()
        fills: list[tuple[Order, Fill]] = []
        for order, is_maker in ((maker, True), (taker, False)):
            rate = (order.maker_pct if is_maker else order.taker_pct) / HUNDRED
            order.vol_exec += qty
            order.cost += cost
            if order.fee_in_base:
                fee = charge_fee(order, rate * qty, base_dec)
            else:
                fee = charge_fee(order, rate * cost, quote_dec)
            fill_txid = self.ids.trade_txid()
            ledger_ids = self._settle(order, pair, qty, cost, fee, fill_txid)
            fill = Fill(
                fill_txid, trade_id, order.txid, order.account_id, pair.id, now, order.side,
                order.ordertype, price, qty, cost, fee, order.fee_asset, is_maker, postxid,
                ledger_ids, order.userref, order.cl_ord_id,
            )  # fmt: skip
            order.trades.append(fill_txid)
            self._remember_fill(fill)
            fills.append((order, fill))
        usd = cost * self.value_in(pair.quote, "ZUSD")
        for order in (maker, taker):  # volume picks the fee tier of the account's next orders
            self._accounts[order.account_id].fee_volume += usd
        self._update_maker_in_book(maker, qty)
        for order, fill in fills:
            self._refresh_hold(order)
            self._emit(order, ExecType.TRADE, fill=fill)
            if order.remaining <= 0:
                self._finish(order, OrderStatus.CLOSED, ExecType.FILLED, None)
        self._record_public_trade(pair.id, now, trade_id, price, qty, taker)

    def _settle(
        self, order: Order, pair: KrakenPair, qty: Decimal, cost: Decimal, fee: Decimal, refid: str
    ) -> tuple[str, ...]:
        """Move base and quote for one side of a fill, the fee to the collector; ledger rows."""
        account = self._accounts[order.account_id]
        buy = order.side is Side.BUY
        base_fee = fee if order.fee_in_base else ZERO
        quote_fee = ZERO if order.fee_in_base else fee
        base = self._post(account, pair.base, qty if buy else -qty, "trade", "", refid, base_fee)
        quote = self._post(
            account, pair.quote, -cost if buy else cost, "trade", "", refid, quote_fee
        )
        if fee:
            self._accounts[FEE_ACCOUNT].balances[order.fee_asset] += fee
        return (base.id, quote.id)

    def _update_maker_in_book(self, maker: Order, qty: Decimal) -> None:
        book = self._books[maker.pair]
        price = maker.limit_price
        assert price is not None
        if maker.remaining <= 0:
            level = book.remove(maker.txid)
        elif maker.displayvol is not None:
            maker.display_remaining -= qty
            if maker.display_remaining <= 0:
                maker.display_remaining = min(maker.displayvol, maker.remaining)
                level = book.requeue(maker.txid, maker.display_remaining)
                self._emit(maker, ExecType.ICEBERG_REFILL)
            else:
                level = book.set_qty(maker.txid, maker.display_remaining)
        else:
            level = book.set_qty(maker.txid, maker.remaining)
        self._book_event(maker.pair, maker.side, price, level)

    def _record_public_trade(
        self, pair_id: str, now: Decimal, trade_id: int, price: Decimal, qty: Decimal, taker: Order
    ) -> None:
        stats = self.stats[pair_id]
        stats.last_price, stats.last_qty = price, qty
        stats.volume += qty
        stats.notional += price * qty
        stats.trades += 1
        stats.low = price if stats.low is None else min(stats.low, price)
        stats.high = price if stats.high is None else max(stats.high, price)
        stats.open = stats.open or price
        kind = "market" if taker.ordertype in MARKET_LIKE else "limit"
        event = PublicTradeEvent(
            self.bus.next_seq(), now, pair_id, trade_id, price, qty, taker.side, kind
        )
        self._public_trades[pair_id].append(event)
        self.bus.publish(event)

    def _check_triggers(self, pair_id: str, force: bool = False) -> None:
        """Fire every stop whose reference reached its trigger, until none is left to fire.

        Skipped when neither the last price nor the index moved since the previous pass (new
        stops are checked when they activate), so resting stops cost nothing per order.
        """
        pair = self.directory.pairs[pair_id]
        marks = (self.stats[pair_id].last_price, self.reference[pair_id])
        if not force and self._trigger_marks.get(pair_id) == marks:
            return
        for _ in range(1000):
            self._trigger_marks[pair_id] = (self.stats[pair_id].last_price, self.reference[pair_id])
            due: list[Order] = []
            for order in list(self._stops[pair_id].values()):
                reference = self._trigger_reference(order)
                if trail(order, reference, pair):
                    self._emit(order, ExecType.STATUS)
                if fires(order, reference):
                    due.append(order)
            if not due:
                return
            for order in sorted(due, key=lambda o: o.opentm):
                if order.is_open and not order.triggered:
                    self._fire(order)

    def _fire(self, order: Order) -> None:
        """A trigger was reached: the order becomes a market or limit order and executes."""
        pair = self.directory.pairs[order.pair]
        self._stops[order.pair].pop(order.txid, None)
        order.triggered = True
        order.triggered_at = self.clock.now()
        order.misc += ("touched",) if order.ordertype.name.startswith("TAKE") else ("stopped",)
        if order.ordertype.has_limit_after_trigger:
            order.price2 = limit_after_trigger(order, pair)
            account = self._accounts[order.account_id]
            asset, need = hold_for(order, pair, self.directory.assets)
            if account.available(asset) + order.hold_amount < need:
                self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_INSUFFICIENT)
                return
            self._set_hold(order, need)
        self._emit(order, ExecType.STATUS)
        self._execute_incoming(order)

    def _refresh_hold(self, order: Order) -> None:
        """Re-reserve what an open order may still spend (see funds.hold_for)."""
        executing_market_buy = (
            order.side is Side.BUY
            and order.ordertype in MARKET_LIKE
            and (order.ordertype is OrderType.MARKET or order.triggered)
        )
        if not order.is_open or order.remaining <= 0 or executing_market_buy:
            self._set_hold(order, ZERO)
            return
        _, amount = hold_for(order, self.directory.pairs[order.pair], self.directory.assets)
        self._set_hold(order, amount)

    def _set_hold(self, order: Order, amount: Decimal) -> None:
        self._accounts[order.account_id].holds[order.hold_asset] += amount - order.hold_amount
        order.hold_amount = amount

    def _finish(
        self, order: Order, status: OrderStatus, exec_type: str, reason: str | None
    ) -> None:
        """Close an order (filled, canceled, expired): out of book/stops, holds released."""
        if not order.is_open:
            return
        book = self._books[order.pair]
        if order.txid in book:
            price = order.limit_price
            assert price is not None
            self._book_event(order.pair, order.side, price, book.remove(order.txid))
        self._stops[order.pair].pop(order.txid, None)
        order.status = status
        order.closetm = self.clock.now()
        order.reason = reason
        self._set_hold(order, ZERO)
        self._open[order.account_id].pop(order.txid, None)
        if order.cl_ord_id is not None:
            self._cl_ord_ids[order.account_id].pop(order.cl_ord_id, None)
        self._remember_closed(order)
        self._emit(order, exec_type, reason=reason)
        if order.close is not None and order.vol_exec > 0:
            self._pending_closes.append(order)

    def _place_closes(self) -> None:
        """Place the conditional close of every primary that finished with fills (OTO).

        Deferred to the end of the request so a close never enters the book mid-match; it is
        an independent order for the executed volume in the opposite direction, `refid` set to
        the primary. If it cannot be placed (funds, price rules) it is silently dropped.
        """
        while self._pending_closes:
            primary = self._pending_closes.pop(0)
            assert primary.close is not None
            params = OrderParams(
                pair=primary.pair,
                side=primary.side.opposite,
                ordertype=primary.close.ordertype,
                volume=primary.vol_exec,
                price=primary.close.price,
                price2=primary.close.price2,
                trigger=primary.trigger,
                leverage=primary.leverage,
            )
            try:
                order = self._build(self._accounts[primary.account_id], params)
            except KrakenError:
                continue
            order.refid = primary.txid
            self._accept(order)

    def publish_reference(self, pair_id: str, price: Decimal) -> None:
        """Set a pair's reference (index) price, announce a change and fire index triggers."""
        if price != self.reference[pair_id]:
            self.reference[pair_id] = price
            event = ReferencePriceEvent(self.bus.next_seq(), self.clock.now(), pair_id, price)
            self.bus.publish(event)
        self._check_triggers(pair_id)
