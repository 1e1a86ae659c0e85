"""The Kraken Futures engine: perpetual contracts, margin accounts, positions, triggers.

Pure (no I/O) and deterministic under a seed and an injected clock. Matching happens on the
shared price-time `OrderBook` (via `KrakenFuturesMatcher`); resting liquidity comes from a
synthetic maker quoting a ladder around a random-walk index. The maker is outside the
accounting: it stands for the rest of the market.

Kraken reports most order outcomes inside a successful envelope (`sendStatus.status`), so the
trading calls return a `KrakenFuturesResult` carrying that status; only requests Kraken answers
with `result: error` raise `KrakenFuturesRequestError`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal

from simulator.engine.clock import Clock
from simulator.engine.futures_accounts import (
    KrakenFuturesAccount,
    KrakenFuturesPosition,
    KrakenMarginSummary,
)
from simulator.engine.futures_dead_man import KrakenDeadManSwitch
from simulator.engine.futures_errors import KrakenFuturesRequestError
from simulator.engine.futures_events import (
    KrakenFuturesAccountChanged,
    KrakenFuturesEvent,
    KrakenFuturesFillEvent,
    KrakenFuturesListener,
    KrakenFuturesOrderUpdate,
    KrakenFuturesPriceEvent,
    KrakenFuturesTradeEvent,
)
from simulator.engine.futures_instruments import (
    KRAKEN_FUTURES_INSTRUMENTS,
    KrakenFuturesInstrument,
    find_instrument,
)
from simulator.engine.futures_ledger import MAX_FILLS_LISTED, KrakenFuturesLedger
from simulator.engine.futures_margin import initial_margin, trade_fee
from simulator.engine.futures_market import round_to_tick, walk
from simulator.engine.futures_market_state import (
    KrakenFuturesMarketState,
    KrakenFuturesTicker,
    KrakenPublicExecution,
    crosses,
)
from simulator.engine.futures_matching import MAKER_ACCOUNT, KrakenFuturesMatcher
from simulator.engine.futures_orders import (
    KrakenFuturesFill,
    KrakenFuturesOrder,
    KrakenFuturesOrderEvent,
    KrakenFuturesOrderRequest,
    KrakenFuturesOrderState,
    KrakenFuturesOrderType,
    KrakenFuturesResult,
    KrakenHistoryEntry,
    KrakenOrderEventType,
    KrakenTriggerSignal,
)
from simulator.engine.futures_triggers import limit_after_trigger, should_fire
from simulator.engine.model import Side

ZERO = Decimal(0)
MAX_CLI_ORD_ID = 100
MARKET_PROTECTION = Decimal("0.01")  # mkt orders are IOC limited to 1% through the mark
MARK_PREMIUM_CAP = Decimal("0.005")
MARKET_STEP_MS = 1000  # the synthetic market moves once per second of clock time
MAX_CATCH_UP_STEPS = 10  # a clock jump replays at most this many steps
_REDUCE_ONLY_CANCEL = "reduce_only_would_not_reduce"  # WS open_orders reason (UNCONFIRMED)
_LIQUIDATION_CANCEL = "liquidation"  # WS open_orders reason (UNCONFIRMED)
_POST_REJECT_REASON = "post_order_failed_because_it_would_filled"  # sic, as Kraken spells it
_REJECT_REASONS = {
    "postWouldExecute": "POST_WOULD_EXECUTE",
    "iocWouldNotExecute": "IOC_WOULD_NOT_EXECUTE",
}

__all__ = ["MAKER_ACCOUNT", "KrakenFuturesEngine", "KrakenFuturesRequestError"]


def _closes_position(side: Side, position: Decimal) -> bool:
    return position < 0 if side is Side.BUY else position > 0


class KrakenFuturesEngine:
    def __init__(
        self,
        clock: Clock,
        seed: int = 0,
        instruments: Iterable[KrakenFuturesInstrument] = KRAKEN_FUTURES_INSTRUMENTS,
    ) -> None:
        self._clock = clock
        self._rng = random.Random(f"futures-engine:{seed}")
        self._markets = {i.symbol: KrakenFuturesMarketState(i) for i in instruments}
        self._index: dict[str, Decimal] = {}
        self._external_index: set[str] = set()  # bases whose index is fed from outside
        for m in self._markets.values():
            self._index.setdefault(m.inst.base, m.inst.reference_price)
        self._orders: dict[str, KrakenFuturesOrder] = {}  # every client order ever placed
        self._open: dict[str, dict[str, KrakenFuturesOrder]] = {}  # account -> open orders
        self._history: dict[str, list[KrakenHistoryEntry]] = {}
        self._listeners: list[KrakenFuturesListener] = []
        self._dead_man = KrakenDeadManSwitch()
        self.ledger = KrakenFuturesLedger(
            self.instruments, self.mark_price, self.usd_price, self._uuid, self.now_ms
        )
        self._matcher = KrakenFuturesMatcher(self._emit, self.now_ms, self._uuid, self._settle)
        self._next_step_ms = self.now_ms() + MARKET_STEP_MS
        for m in self._markets.values():
            self._matcher.requote(m, self._index[m.inst.base], self._rng)

    # ----------------------------------------------------------------- plumbing

    def subscribe(self, listener: KrakenFuturesListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: KrakenFuturesListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: KrakenFuturesEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # ----------------------------------------------------------------- reference data

    @property
    def instruments(self) -> list[KrakenFuturesInstrument]:
        return [m.inst for m in self._markets.values()]

    def instrument(self, symbol: str) -> KrakenFuturesInstrument:
        inst = find_instrument(symbol)
        if inst is None or inst.symbol not in self._markets:
            raise KrakenFuturesRequestError("contractNotFound")
        return inst

    def _market(self, symbol: str) -> KrakenFuturesMarketState:
        return self._markets[self.instrument(symbol).symbol]

    def index_price(self, symbol: str) -> Decimal:
        return self._index[self._market(symbol).inst.base]

    def mark_price(self, symbol: str) -> Decimal:
        """Index plus half the book premium, capped at 0.5% (a stand-in for Kraken's impact mid)."""
        m = self._market(symbol)
        index = self._index[m.inst.base]
        bid, ask = m.book.best_price(Side.BUY), m.book.best_price(Side.SELL)
        if bid is None or ask is None:
            return index
        cap = index * MARK_PREMIUM_CAP
        premium = max(-cap, min(cap, ((bid + ask) / 2 - index) / 2))
        return (index + premium).quantize(Decimal("1e-8"))

    def last_price(self, symbol: str) -> Decimal:
        m = self._market(symbol)
        return m.last if m.last is not None else self.index_price(symbol)

    def _signal(self, symbol: str, signal: KrakenTriggerSignal) -> Decimal:
        if signal is KrakenTriggerSignal.MARK:
            return self.mark_price(symbol)
        if signal is KrakenTriggerSignal.INDEX:
            return self.index_price(symbol)
        return self.last_price(symbol)

    def usd_price(self, currency: str) -> Decimal:
        code = currency.upper()
        if code in ("USD", "USDT", "USDC"):
            return Decimal(1)
        return self._index.get("XBT" if code == "BTC" else code, ZERO)

    def book_levels(
        self, symbol: str, depth: int | None = None
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]], int]:
        """(bids, asks, seq) best first; seq is the product's last book event number."""
        m = self._market(symbol)
        return m.book.levels(Side.BUY, depth), m.book.levels(Side.SELL, depth), m.book_seq

    def recent_trades(self, symbol: str) -> list[KrakenFuturesTradeEvent]:
        """Newest first."""
        return list(reversed(self._market(symbol).trades))

    def public_executions(self, symbol: str) -> list[KrakenPublicExecution]:
        """The last executions of a contract (at most 1000), oldest first."""
        return list(self._market(symbol).executions)

    def account_executions(self, account_id: str) -> list[KrakenPublicExecution]:
        """Recent executions an account took part in, oldest first (all contracts)."""
        mine = [
            e
            for m in self._markets.values()
            for e in m.executions
            if account_id in (e.maker.account_id, e.taker.account_id)
        ]
        return sorted(mine, key=lambda e: e.time_ms)

    def ticker(self, symbol: str) -> KrakenFuturesTicker:
        m = self._market(symbol)
        open_interest = self.ledger.open_interest(m.inst.symbol)
        return m.ticker(self.mark_price(symbol), self.index_price(symbol), open_interest)

    # ----------------------------------------------------------------- accounts (the ledger's)

    def open_account(self, account_id: str, balances: Mapping[str, Decimal]) -> None:
        """Create an account's futures wallets from its starting balances (once)."""
        self.ledger.open_account(account_id, balances)

    def account(self, account_id: str) -> KrakenFuturesAccount:
        return self.ledger.account(account_id)

    def margin(self, account_id: str, wallet: str) -> KrakenMarginSummary:
        return self.ledger.margin(account_id, wallet)

    def positions(self, account_id: str) -> list[KrakenFuturesPosition]:
        return self.ledger.positions(account_id)

    def fills(
        self, account_id: str, since_ms: int | None = None, limit: int | None = MAX_FILLS_LISTED
    ) -> list[KrakenFuturesFill]:
        """Newest first, at most 100 by default, like Kraken's `fills`."""
        return self.ledger.fills(account_id, since_ms, limit)

    def transfer(
        self,
        from_account: str,
        to_account: str,
        from_wallet: str,
        to_wallet: str,
        unit: str,
        amount: Decimal,
    ) -> None:
        """Move funds between wallets of one account or between master and subaccount."""
        self.ledger.transfer(from_account, to_account, from_wallet, to_wallet, unit, amount)
        self._emit(KrakenFuturesAccountChanged(from_account))
        if to_account != from_account:
            self._emit(KrakenFuturesAccountChanged(to_account))

    # ----------------------------------------------------------------- orders

    def open_orders(self, account_id: str) -> list[KrakenFuturesOrder]:
        return [o.snapshot() for o in self._open.get(account_id, {}).values()]

    def all_orders(self, account_id: str) -> list[KrakenFuturesOrder]:
        """Open and finished orders of an account, oldest first."""
        return [o.snapshot() for o in self._orders.values() if o.account_id == account_id]

    def order(self, order_id: str) -> KrakenFuturesOrder | None:
        found = self._orders.get(order_id)
        return found.snapshot() if found else None

    def history(self, account_id: str) -> list[KrakenHistoryEntry]:
        return list(self._history.get(account_id, []))

    # ----------------------------------------------------------------- time and market

    def tick(self) -> None:
        """Run what is due at the clock's time: market steps, then dead man's switches.

        Idempotent for one clock reading, so front ends may call it before every request.
        """
        now = self.now_ms()
        steps = 0
        while now >= self._next_step_ms and steps < MAX_CATCH_UP_STEPS:
            self.step()
            steps += 1
            self._next_step_ms += MARKET_STEP_MS
        if now >= self._next_step_ms:
            self._next_step_ms = now + MARKET_STEP_MS
        for account_id in self._dead_man.expire(now):
            self.cancel_all(account_id)

    def step(self) -> None:
        """Advance the synthetic market one step: index walk, maker requote, triggers."""
        for base in sorted(self._index):
            if base not in self._external_index:
                self._index[base] = walk(self._index[base], self._rng)
        self._market_moved(self._markets.values())

    def follow_index(self, base: str, price: Decimal) -> None:
        """From now on `base`'s index comes from `set_index` calls only (e.g. the spot market's
        reference price), not from this engine's own random walk."""
        self._external_index.add(base)
        self.set_index(base, price)

    def set_index(self, base: str, price: Decimal) -> None:
        """Move an underlying's index (tests, or a feed from the spot market), then react."""
        self._index[base] = price
        self._market_moved(m for m in self._markets.values() if m.inst.base == base)

    def _market_moved(self, markets: Iterable[KrakenFuturesMarketState]) -> None:
        for m in markets:
            self._matcher.requote(m, self._index[m.inst.base], self._rng)
            self._run_triggers(m)
            self._emit(KrakenFuturesPriceEvent(m.inst.symbol))
        for account_id in self.ledger.accounts_with_positions():
            self._liquidate_if_underwater(account_id)
            self._emit(KrakenFuturesAccountChanged(account_id))  # marks moved: PnL and margin

    def _liquidate_if_underwater(self, account_id: str) -> None:
        """A wallet whose equity fell below its maintenance margin is liquidated: its orders
        are cancelled and its positions closed at market by `liquidation` orders."""
        for wallet in sorted({i.margin_wallet for i in self.instruments}):
            summary = self.margin(account_id, wallet)
            if (
                summary.maintenance_margin <= 0
                or summary.portfolio_value >= summary.maintenance_margin
            ):
                continue
            members = {i.symbol for i in self.instruments if i.margin_wallet == wallet}
            for order in [
                o for o in self._open.get(account_id, {}).values() if o.symbol in members
            ]:
                self._cancel(order, [], reason=_LIQUIDATION_CANCEL)
            for pos in [p for p in self.positions(account_id) if p.symbol in members]:
                self._liquidate(account_id, pos.symbol, pos.size)

    def _liquidate(self, account_id: str, symbol: str, held: Decimal) -> None:
        m = self._markets[symbol]
        now = self.now_ms()
        order = KrakenFuturesOrder(
            order_id=self._uuid(),
            account_id=account_id,
            symbol=symbol,
            side=Side.SELL if held > 0 else Side.BUY,
            order_type=KrakenFuturesOrderType.LIQUIDATION,
            quantity=abs(held),
            received_ms=now,
            updated_ms=now,
            reduce_only=True,
        )
        events: list[KrakenFuturesOrderEvent] = []
        self._record(
            events,
            KrakenFuturesOrderEvent(KrakenOrderEventType.PLACE, order.snapshot(), time_ms=now),
        )
        self._placed(order, reason="liquidation")
        self._take_and_rest(m, order, events)  # no limit: it takes what the book offers

    # ----------------------------------------------------------------- order bookkeeping

    def _record(
        self, events: list[KrakenFuturesOrderEvent], event: KrakenFuturesOrderEvent
    ) -> None:
        """An event of the caller's response that also goes to the account's order history."""
        events.append(event)
        self._remember(event)

    def _remember(self, event: KrakenFuturesOrderEvent) -> None:
        account_id = event.order.account_id
        entry = KrakenHistoryEntry(self._uuid(), event.time_ms, account_id, event)
        self._history.setdefault(account_id, []).append(entry)

    def _placed(self, order: KrakenFuturesOrder, reason: str = "new_placed_order_by_user") -> None:
        self._orders[order.order_id] = order
        self._open.setdefault(order.account_id, {})[order.order_id] = order
        self.ledger.track_order(order)
        self._emit(KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), False, reason))

    def _close(
        self, order: KrakenFuturesOrder, state: KrakenFuturesOrderState, reason: str
    ) -> None:
        """The order leaves the open set (filled, cancelled, expired remainder)."""
        order.state = state
        order.updated_ms = self.now_ms()
        self._open.get(order.account_id, {}).pop(order.order_id, None)
        self.ledger.track_order(order)
        self._emit(KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), True, reason))

    def _open_by_cli_ord_id(self, account_id: str, cli_ord_id: str) -> KrakenFuturesOrder | None:
        for order in self._open.get(account_id, {}).values():
            if order.cli_ord_id == cli_ord_id:
                return order
        return None

    def _find(
        self, account_id: str, order_id: str | None, cli_ord_id: str | None
    ) -> KrakenFuturesOrder | None:
        """By id, or by client id preferring the open order that carries it."""
        if order_id is not None:
            order = self._orders.get(order_id)
            return order if order is not None and order.account_id == account_id else None
        if cli_ord_id is None:
            return None
        found = self._open_by_cli_ord_id(account_id, cli_ord_id)
        if found is not None:
            return found
        matches = [
            o
            for o in self._orders.values()
            if o.account_id == account_id and o.cli_ord_id == cli_ord_id
        ]
        return matches[-1] if matches else None

    # ----------------------------------------------------------------- send

    def send_order(self, account_id: str, req: KrakenFuturesOrderRequest) -> KrakenFuturesResult:
        m = self._market(req.symbol)
        now = self.now_ms()
        status, size, reduced = self._admission(account_id, m.inst, req)
        if status is not None:
            return KrakenFuturesResult(status, None, req.cli_ord_id, now)
        order = KrakenFuturesOrder(
            order_id=self._uuid(),
            account_id=account_id,
            symbol=m.inst.symbol,
            side=req.side,
            order_type=req.order_type,
            quantity=size,
            received_ms=now,
            updated_ms=now,
            limit_price=(
                self._protected_limit(m.inst, req.side)
                if req.order_type is KrakenFuturesOrderType.MKT
                else req.limit_price
            ),
            stop_price=req.stop_price,
            cli_ord_id=req.cli_ord_id,
            reduce_only=req.reduce_only,
            trigger_signal=req.trigger_signal,
            trailing_deviation=req.trailing_deviation,
            trailing_unit=req.trailing_unit,
            limit_offset=req.limit_offset,
            limit_offset_unit=req.limit_offset_unit,
        )
        events: list[KrakenFuturesOrderEvent] = []
        if not req.order_type.is_trigger:
            status = self._matcher.pre_match_status(m, order)
        if status is not None:
            if status in _REJECT_REASONS:
                order.state = KrakenFuturesOrderState.CANCELLED
                reject = KrakenFuturesOrderEvent(
                    KrakenOrderEventType.REJECT,
                    order.snapshot(),
                    reason=_REJECT_REASONS[status],
                    time_ms=now,
                )
                self._record(events, reject)
            if status == "postWouldExecute":  # the WS open_orders feed reports it as a cancel
                update = KrakenFuturesOrderUpdate(
                    account_id, order.snapshot(), True, _POST_REJECT_REASON
                )
                self._emit(update)
            return KrakenFuturesResult(status, None, req.cli_ord_id, now, tuple(events))
        place = KrakenFuturesOrderEvent(
            KrakenOrderEventType.PLACE, order.snapshot(), reduced_quantity=reduced, time_ms=now
        )
        self._record(events, place)
        self._placed(order)
        if req.order_type.is_trigger:
            m.triggers[order.order_id] = order
        else:
            self._take_and_rest(m, order, events)
        self._run_triggers(m)
        return KrakenFuturesResult("placed", order.order_id, order.cli_ord_id, now, tuple(events))

    def _admission(
        self, account_id: str, inst: KrakenFuturesInstrument, req: KrakenFuturesOrderRequest
    ) -> tuple[str | None, Decimal, Decimal | None]:
        """(refusal status or None, size to place, quantity cut by reduce-only)."""
        size = req.size
        if req.cli_ord_id is not None:
            if len(req.cli_ord_id) > MAX_CLI_ORD_ID:
                return "clientOrderIdTooBig", size, None
            if self._open_by_cli_ord_id(account_id, req.cli_ord_id) is not None:
                return "clientOrderIdAlreadyExist", size, None
        if not inst.on_step(size):
            return "invalidSize", size, None
        if any(p is not None and not inst.on_tick(p) for p in (req.limit_price, req.stop_price)):
            return "invalidPrice", size, None
        if req.order_type is KrakenFuturesOrderType.TRAILING_STOP and (
            req.trailing_deviation is None or req.trailing_deviation <= 0
        ):
            return "invalidPrice", size, None
        held = self.ledger.position_size(account_id, inst.symbol)
        reduced: Decimal | None = None
        if req.reduce_only:
            if not _closes_position(req.side, held):
                return "wouldNotReducePosition", size, None
            if size > abs(held):
                reduced, size = size - abs(held), abs(held)
        after = abs(held + (size if req.side is Side.BUY else -size))
        if after > inst.max_position_size and after > abs(held):
            return "maxPositionViolation", size, None
        if not req.reduce_only and not self._margin_ok(account_id, inst, req, size, held):
            return "insufficientAvailableFunds", size, None
        return None, size, reduced

    def _protected_limit(self, inst: KrakenFuturesInstrument, side: Side) -> Decimal:
        mark = self.mark_price(inst.symbol)
        if side is Side.BUY:
            return round_to_tick(mark * (1 + MARKET_PROTECTION), inst.tick_size, up=False)
        return round_to_tick(mark * (1 - MARKET_PROTECTION), inst.tick_size, up=True)

    def _margin_ok(
        self,
        account_id: str,
        inst: KrakenFuturesInstrument,
        req: KrakenFuturesOrderRequest,
        size: Decimal,
        held: Decimal,
    ) -> bool:
        """Initial margin plus a taker fee for the part that opens or grows a position."""
        closing = min(size, abs(held)) if _closes_position(req.side, held) else ZERO
        opening = size - closing
        if opening == 0:
            return True
        price = req.limit_price or req.stop_price or self.mark_price(inst.symbol)
        need = initial_margin(inst, opening, price) + trade_fee(inst, opening, price, maker=False)
        return self.margin(account_id, inst.margin_wallet).available_margin >= need

    def _take_and_rest(
        self,
        m: KrakenFuturesMarketState,
        order: KrakenFuturesOrder,
        events: list[KrakenFuturesOrderEvent],
    ) -> None:
        """Match an incoming order, then rest (limit kinds) or cancel (ioc kinds) the remainder."""
        blocked = self._matcher.match(m, order, events)
        if order.remaining == 0:
            return
        # Triggered orders reach here only when they carry a limit: they rest like lmt.
        if not blocked and (order.order_type.rests or order.triggered):
            self._matcher.rest(m, order)
        else:
            reason = "self_fill" if blocked else "cancelled_by_user"
            self._close(order, KrakenFuturesOrderState.CANCELLED, reason)

    def _settle(
        self,
        m: KrakenFuturesMarketState,
        maker: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        taker_before: KrakenFuturesOrder,
        events: list[KrakenFuturesOrderEvent],
    ) -> None:
        """One execution: fees, positions and PnL of both client sides, events and history."""
        now = self.now_ms()
        execution_id = self._uuid()
        maker_before = maker.snapshot()
        maker_before.quantity, maker_before.filled = maker.remaining + qty, ZERO
        taker_open = taker_before.snapshot()
        taker_open.quantity, taker_open.filled = taker_before.remaining, ZERO
        m.executions.append(
            KrakenPublicExecution(
                uid=execution_id,
                time_ms=now,
                price=price,
                qty=qty,
                mark=self.mark_price(m.inst.symbol),
                usd_value=qty * m.inst.contract_size * (1 if m.inst.inverse else price),
                maker=maker_before,
                taker=taker_open,
                limit_filled=maker.remaining == 0,
            )
        )
        for order, is_maker in ((maker, True), (taker, False)):
            if order.account_id != MAKER_ACCOUNT:
                self._settle_side(order, taker, price, qty, is_maker, now)
        if taker.account_id != MAKER_ACCOUNT:
            taker_event = KrakenFuturesOrderEvent(
                KrakenOrderEventType.EXECUTION,
                taker.snapshot(),
                execution_id=execution_id,
                price=price,
                amount=qty,
                order_prior_execution=taker_before,
                time_ms=now,
            )
            self._record(events, taker_event)
        if maker.account_id != MAKER_ACCOUNT:
            maker_event = KrakenFuturesOrderEvent(
                KrakenOrderEventType.EXECUTION,
                maker.snapshot(),
                execution_id=execution_id,
                price=price,
                amount=qty,
                time_ms=now,
            )
            self._remember(maker_event)

    def _settle_side(
        self,
        order: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        now: int,
    ) -> None:
        """Book one client side of an execution, then update its order and the account."""
        fill = self.ledger.book_fill(order, taker, price, qty, is_maker, now)
        self._emit(KrakenFuturesFillEvent(order.account_id, fill))
        held = self.ledger.position_size(order.account_id, order.symbol)
        self._fit_reduce_only(order.account_id, order.symbol, held, skip=order)
        if order.remaining == 0:
            self._close(order, KrakenFuturesOrderState.FILLED, "full_fill")
        else:
            order.state = KrakenFuturesOrderState.PARTIALLY_FILLED
            self.ledger.track_order(order)
            self._emit(
                KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), False, "partial_fill")
            )
        self._emit(KrakenFuturesAccountChanged(order.account_id))

    def _fit_reduce_only(
        self, account_id: str, symbol: str, held: Decimal, skip: KrakenFuturesOrder
    ) -> None:
        """Resting reduce-only orders follow the position: cut to its size, cancelled once they
        could only grow it. Untriggered ones are checked when they fire."""
        m = self._markets[symbol]
        for order in list(self._open.get(account_id, {}).values()):
            if order is skip or not order.reduce_only or order.order_id not in m.book:
                continue
            if not _closes_position(order.side, held):
                self._matcher.unrest(m, order)
                self._close(order, KrakenFuturesOrderState.CANCELLED, _REDUCE_ONLY_CANCEL)
            elif order.remaining > abs(held):
                order.quantity = order.filled + abs(held)
                order.updated_ms = self.now_ms()
                self._matcher.resize(m, order)
                self.ledger.track_order(order)
                self._emit(
                    KrakenFuturesOrderUpdate(
                        account_id, order.snapshot(), False, "reduce_only_reduced"
                    )
                )

    # ----------------------------------------------------------------- triggers

    def _run_triggers(self, m: KrakenFuturesMarketState) -> None:
        """Fire every trigger order whose signal crossed; fired orders may trade right away."""
        for order_id in list(m.triggers):
            order = m.triggers.get(order_id)
            if order is None or not order.waiting_for_trigger:
                m.triggers.pop(order_id, None)
                continue
            signal = self._signal(m.inst.symbol, order.trigger_signal)
            if should_fire(order, signal):
                del m.triggers[order_id]
                self._fire(m, order, signal)

    def _fire(
        self, m: KrakenFuturesMarketState, order: KrakenFuturesOrder, signal: Decimal
    ) -> None:
        if order.reduce_only:
            held = self.ledger.position_size(order.account_id, m.inst.symbol)
            if not _closes_position(order.side, held):
                self._close(order, KrakenFuturesOrderState.CANCELLED, _REDUCE_ONLY_CANCEL)
                return
            order.quantity = order.filled + min(order.remaining, abs(held))
        order.triggered = True
        order.updated_ms = self.now_ms()
        limit = limit_after_trigger(order, signal)
        if limit is None:
            order.limit_price = self._protected_limit(m.inst, order.side)
        else:
            order.limit_price = round_to_tick(limit, m.inst.tick_size, up=order.side is Side.SELL)
        self.ledger.track_order(order)
        self._emit(
            KrakenFuturesOrderUpdate(
                order.account_id, order.snapshot(), False, "stop_order_triggered"
            )
        )
        events: list[KrakenFuturesOrderEvent] = []
        if limit is not None:
            self._take_and_rest(m, order, events)
            return
        self._matcher.match(m, order, events)
        if order.remaining > 0:
            self._close(order, KrakenFuturesOrderState.CANCELLED, "cancelled_by_user")

    # ----------------------------------------------------------------- edit and cancel

    def edit_order(
        self,
        account_id: str,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        size: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        trailing_deviation: Decimal | None = None,
        absolute_size: bool = False,
    ) -> KrakenFuturesResult:
        """Change an open order in place (same id); `size` is the new open size unless absolute."""
        now = self.now_ms()
        order = self._find(account_id, order_id, cli_ord_id)
        if order is None or not order.is_open:
            return KrakenFuturesResult("orderForEditNotFound", order_id, cli_ord_id, now)
        m = self._markets[order.symbol]
        new_qty = None if size is None else (size if absolute_size else order.filled + size)
        status = self._edit_status(m, order, new_qty, limit_price, stop_price)
        if status is not None:
            return KrakenFuturesResult(status, order.order_id, order.cli_ord_id, now)
        old = order.snapshot()
        in_book = order.order_id in m.book
        if in_book:
            self._matcher.unrest(m, order)  # an edited order loses its queue position
        if new_qty is not None:
            order.quantity = new_qty
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        if trailing_deviation is not None:
            order.trailing_deviation = trailing_deviation
            order.peak_price = None
        order.updated_ms = now
        self.ledger.track_order(order)
        events: list[KrakenFuturesOrderEvent] = []
        edit = KrakenFuturesOrderEvent(
            KrakenOrderEventType.EDIT, old, new_order=order.snapshot(), time_ms=now
        )
        self._record(events, edit)
        self._emit(KrakenFuturesOrderUpdate(account_id, order.snapshot(), False, "edited_by_user"))
        if in_book:
            self._take_and_rest(m, order, events)
        self._run_triggers(m)
        return KrakenFuturesResult("edited", order.order_id, order.cli_ord_id, now, tuple(events))

    def _edit_status(
        self,
        m: KrakenFuturesMarketState,
        order: KrakenFuturesOrder,
        new_qty: Decimal | None,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> str | None:
        inst = m.inst
        if order.order_type is KrakenFuturesOrderType.TRAILING_STOP:
            if stop_price is not None:
                return "cannotEditTriggerPriceOfTrailingStop"
            if limit_price is not None:
                return "cannotEditLimitPriceOfTrailingStop"
        if stop_price is not None and not order.waiting_for_trigger:
            return "orderForEditNotAStop"
        if new_qty is not None and (not inst.on_step(new_qty) or new_qty <= order.filled):
            return "invalidSize"
        if any(p is not None and not inst.on_tick(p) for p in (limit_price, stop_price)):
            return "invalidPrice"
        if order.order_type is KrakenFuturesOrderType.POST and limit_price is not None:
            best = m.book.best_price(order.side.opposite)
            if best is not None and crosses(order.side, best, limit_price):
                return "postWouldExecute"
        return None

    def cancel_order(
        self, account_id: str, *, order_id: str | None = None, cli_ord_id: str | None = None
    ) -> KrakenFuturesResult:
        now = self.now_ms()
        order = self._find(account_id, order_id, cli_ord_id)
        if order is None:
            return KrakenFuturesResult("notFound", order_id, cli_ord_id, now)
        if not order.is_open:
            status = "filled" if order.state is KrakenFuturesOrderState.FILLED else "notFound"
            return KrakenFuturesResult(status, order.order_id, order.cli_ord_id, now)
        events: list[KrakenFuturesOrderEvent] = []
        self._cancel(order, events)
        return KrakenFuturesResult(
            "cancelled", order.order_id, order.cli_ord_id, now, tuple(events)
        )

    def _cancel(
        self,
        order: KrakenFuturesOrder,
        events: list[KrakenFuturesOrderEvent],
        reason: str = "cancelled_by_user",
    ) -> None:
        m = self._markets[order.symbol]
        if order.order_id in m.book:
            self._matcher.unrest(m, order)
        m.triggers.pop(order.order_id, None)
        self._close(order, KrakenFuturesOrderState.CANCELLED, reason)
        cancel = KrakenFuturesOrderEvent(
            KrakenOrderEventType.CANCEL, order.snapshot(), time_ms=order.updated_ms
        )
        self._record(events, cancel)

    def cancel_all(self, account_id: str, symbol: str | None = None) -> list[KrakenFuturesOrder]:
        """Cancel every open order (of one symbol); returns the cancelled orders."""
        wanted = self.instrument(symbol).symbol if symbol is not None else None
        victims = [
            o
            for o in self._open.get(account_id, {}).values()
            if wanted is None or o.symbol == wanted
        ]
        events: list[KrakenFuturesOrderEvent] = []
        for order in victims:
            self._cancel(order, events)
        return [e.order for e in events]

    # ----------------------------------------------------------------- dead man's switch

    def cancel_all_after(self, account_id: str, timeout_s: int) -> int | None:
        """Arm (timeout > 0) or disarm (0) the account's switch; returns the trigger time (ms)."""
        return self._dead_man.arm(account_id, self.now_ms(), timeout_s)
