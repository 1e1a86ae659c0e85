"""The Kraken Futures matching engine: perpetual books, margin accounts, positions, triggers.

Pure (no I/O) and deterministic under a seed and an injected clock. Books are the shared
price-time `OrderBook`; resting liquidity comes from a synthetic maker that quotes a ladder
around a random-walk index. The maker is outside the accounting (it is the rest of the market).

Kraken reports most order outcomes inside a successful envelope (`sendStatus.status`), so the
trading calls return a `KrakenFuturesResult` with that status; only malformed requests raise
`KrakenFuturesRequestError` (the envelope's `error` string).
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.engine.book import OrderBook
from simulator.engine.clock import Clock
from simulator.engine.futures_accounts import (
    CASH_WALLET,
    FLEX_WALLET,
    KrakenFuturesAccount,
    KrakenFuturesPosition,
    KrakenMarginSummary,
    margin_summary,
)
from simulator.engine.futures_events import (
    KrakenFuturesAccountChanged,
    KrakenFuturesBookEvent,
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
from simulator.engine.futures_margin import apply_fill, initial_margin, trade_fee
from simulator.engine.futures_market import (
    LADDER_LEVELS,
    ladder_prices,
    level_size,
    round_to_tick,
    walk,
)
from simulator.engine.futures_orders import (
    KrakenFuturesFill,
    KrakenFuturesOrder,
    KrakenFuturesOrderEvent,
    KrakenFuturesOrderRequest,
    KrakenFuturesOrderState,
    KrakenFuturesOrderType,
    KrakenFuturesResult,
    KrakenOrderEventType,
    KrakenTriggerSignal,
)
from simulator.engine.futures_triggers import limit_after_trigger, should_fire
from simulator.engine.model import Side

ZERO = Decimal(0)
MAKER_ACCOUNT = "kraken-futures-synthetic-maker"
MAX_CLI_ORD_ID = 100
MARKET_PROTECTION = Decimal("0.01")  # mkt orders are IOC limited to 1% through the mark
MARK_PREMIUM_CAP = Decimal("0.005")
RECENT_TRADES = 100
MARKET_STEP_MS = 1000  # the synthetic market moves once per second of clock time
MAX_CATCH_UP_STEPS = 10  # a clock jump replays at most this many steps


class KrakenFuturesRequestError(Exception):
    """A request Kraken answers with `result: error`; `code` is the wire error string."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class KrakenFuturesTicker:
    symbol: str
    last: Decimal | None
    last_time_ms: int | None
    last_size: Decimal | None
    mark: Decimal
    index: Decimal
    bid: Decimal | None
    bid_size: Decimal | None
    ask: Decimal | None
    ask_size: Decimal | None
    vol24h: Decimal
    volume_quote: Decimal
    open_interest: Decimal
    open24h: Decimal
    high24h: Decimal
    low24h: Decimal


@dataclass(frozen=True, slots=True)
class KrakenHistoryEntry:
    """One order event of an account, for `/api/history/v2/orders`."""

    uid: str
    time_ms: int
    account_id: str
    event: KrakenFuturesOrderEvent


@dataclass
class _Market:
    inst: KrakenFuturesInstrument
    book: OrderBook[KrakenFuturesOrder] = field(default_factory=OrderBook)
    book_seq: int = 0
    trade_seq: int = 0
    last: Decimal | None = None
    last_time_ms: int | None = None
    last_size: Decimal | None = None
    volume: Decimal = ZERO
    volume_quote: Decimal = ZERO
    open24h: Decimal = ZERO
    high: Decimal = ZERO
    low: Decimal = ZERO
    triggers: dict[str, KrakenFuturesOrder] = field(default_factory=dict)
    maker_quotes: dict[tuple[Side, Decimal], KrakenFuturesOrder] = field(default_factory=dict)
    trades: deque[KrakenFuturesTradeEvent] = field(default_factory=lambda: deque(maxlen=100))


def _crosses(side: Side, book_price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return book_price <= limit if side is Side.BUY else book_price >= limit


class KrakenFuturesEngine:
    def __init__(
        self,
        clock: Clock,
        seed: int = 0,
        instruments: Iterable[KrakenFuturesInstrument] = KRAKEN_FUTURES_INSTRUMENTS,
    ) -> None:
        self._clock = clock
        self._rng = random.Random(f"futures-engine:{seed}")
        self._markets = {i.symbol: _Market(i) for i in instruments}
        self._index: dict[str, Decimal] = {}
        for m in self._markets.values():
            self._index.setdefault(m.inst.base, m.inst.reference_price)
            m.open24h = m.high = m.low = m.inst.reference_price
        self._accounts: dict[str, KrakenFuturesAccount] = {}
        self._orders: dict[str, KrakenFuturesOrder] = {}
        self._fills: dict[str, list[KrakenFuturesFill]] = {}
        self._history: list[KrakenHistoryEntry] = []
        self._listeners: list[KrakenFuturesListener] = []
        self._dead_man: dict[str, int] = {}
        self._fill_seq = 0
        self._next_step_ms = self.now_ms() + MARKET_STEP_MS
        for m in self._markets.values():
            self._requote(m)

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

    def _market(self, symbol: str) -> _Market:
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

    def ticker(self, symbol: str) -> KrakenFuturesTicker:
        m = self._market(symbol)
        bids = m.book.levels(Side.BUY, 1)
        asks = m.book.levels(Side.SELL, 1)
        oi = sum(
            (
                abs(a.positions[m.inst.symbol].size)
                for a in self._accounts.values()
                if m.inst.symbol in a.positions
            ),
            ZERO,
        )
        return KrakenFuturesTicker(
            symbol=m.inst.symbol,
            last=m.last,
            last_time_ms=m.last_time_ms,
            last_size=m.last_size,
            mark=self.mark_price(symbol),
            index=self.index_price(symbol),
            bid=bids[0][0] if bids else None,
            bid_size=bids[0][1] if bids else None,
            ask=asks[0][0] if asks else None,
            ask_size=asks[0][1] if asks else None,
            vol24h=m.volume,
            volume_quote=m.volume_quote,
            open_interest=oi,
            open24h=m.open24h,
            high24h=m.high,
            low24h=m.low,
        )

    # ----------------------------------------------------------------- accounts

    def open_account(self, account_id: str, balances: Mapping[str, Decimal]) -> None:
        """Create an account's futures wallets from its starting balances (once)."""
        if account_id not in self._accounts:
            self._accounts[account_id] = KrakenFuturesAccount.seeded(account_id, balances)

    def account(self, account_id: str) -> KrakenFuturesAccount:
        if account_id not in self._accounts:
            self._accounts[account_id] = KrakenFuturesAccount(account_id)
        return self._accounts[account_id]

    def margin(self, account_id: str, wallet: str) -> KrakenMarginSummary:
        return margin_summary(
            self.account(account_id),
            wallet,
            self.instruments,
            self.mark_price,
            self.usd_price,
            self.open_orders(account_id),
        )

    def positions(self, account_id: str) -> list[KrakenFuturesPosition]:
        return [p for p in self.account(account_id).positions.values() if p.size != 0]

    def open_orders(self, account_id: str) -> list[KrakenFuturesOrder]:
        return [
            o.snapshot() for o in self._orders.values() if o.account_id == account_id and o.is_open
        ]

    def all_orders(self, account_id: str) -> list[KrakenFuturesOrder]:
        """Open and finished orders of an account, oldest first."""
        return [o.snapshot() for o in self._orders.values() if o.account_id == account_id]

    def order(self, order_id: str) -> KrakenFuturesOrder | None:
        found = self._orders.get(order_id)
        return found.snapshot() if found else None

    def fills(self, account_id: str, since_ms: int | None = None) -> list[KrakenFuturesFill]:
        """Newest first, like Kraken's `fills` (up to 100)."""
        rows = self._fills.get(account_id, [])
        picked = [f for f in rows if since_ms is None or f.time_ms > since_ms]
        return list(reversed(picked))[:100]

    def history(self, account_id: str) -> list[KrakenHistoryEntry]:
        return [h for h in self._history if h.account_id == account_id]

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
        if amount <= 0:
            raise KrakenFuturesRequestError("invalidAmount")
        src, dst = self.account(from_account), self.account(to_account)
        for acct, wallet in ((src, from_wallet), (dst, to_wallet)):
            if wallet not in (CASH_WALLET, FLEX_WALLET) and wallet not in acct.margin:
                raise KrakenFuturesRequestError("invalidAccount")
        balance = src.wallet_balance(from_wallet, unit)
        if balance is None or dst.wallet_balance(to_wallet, unit) is None:
            raise KrakenFuturesRequestError("invalidUnit")
        spendable = balance
        if from_wallet != CASH_WALLET:
            spendable = min(balance, self._available_in(from_account, from_wallet, unit))
        if spendable < amount:
            raise KrakenFuturesRequestError("insufficientFunds")
        src.credit(from_wallet, unit, -amount)
        dst.credit(to_wallet, unit, amount)
        self._emit(KrakenFuturesAccountChanged(from_account))
        if to_account != from_account:
            self._emit(KrakenFuturesAccountChanged(to_account))

    def _available_in(self, account_id: str, wallet: str, unit: str) -> Decimal:
        """Withdrawable from a margin wallet: available margin, in `unit`."""
        available = self.margin(account_id, wallet).available_margin
        if wallet == FLEX_WALLET:
            price = self.usd_price(unit)
            return available / price if price else ZERO
        return available

    # ----------------------------------------------------------------- market simulation

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
        self.fire_dead_man_switches()

    def step(self) -> None:
        """Advance the synthetic market one tick: index walk, maker requote, triggers."""
        for base in sorted(self._index):
            self._index[base] = walk(self._index[base], self._rng)
        for m in self._markets.values():
            self._requote(m)
            self._run_triggers(m)
            self._emit(KrakenFuturesPriceEvent(m.inst.symbol))
        for account_id in sorted(a for a, acct in self._accounts.items() if acct.positions):
            self._emit(KrakenFuturesAccountChanged(account_id))

    def set_index(self, base: str, price: Decimal) -> None:
        """Move an underlying's index (tests, or a feed from the spot market), then react."""
        self._index[base] = price
        for m in self._markets.values():
            if m.inst.base == base:
                self._requote(m)
                self._run_triggers(m)
                self._emit(KrakenFuturesPriceEvent(m.inst.symbol))

    def _requote(self, m: _Market) -> None:
        ladder = ladder_prices(m.inst, self._index[m.inst.base])
        wanted = {(side, price) for side, prices in ladder.items() for price in prices}
        for key in sorted(set(m.maker_quotes) - wanted):
            stale = m.maker_quotes.pop(key)
            if stale.order_id in m.book:
                self._book_remove(m, stale)
        now = self.now_ms()
        for side in (Side.BUY, Side.SELL):
            for price in ladder[side][:LADDER_LEVELS]:
                existing = m.maker_quotes.get((side, price))
                if existing is not None and existing.order_id in m.book:
                    continue  # refills happen when a level is re-created, keeping it stable
                quote = KrakenFuturesOrder(
                    order_id=self._uuid(),
                    account_id=MAKER_ACCOUNT,
                    symbol=m.inst.symbol,
                    side=side,
                    order_type=KrakenFuturesOrderType.LMT,
                    quantity=level_size(m.inst, self._rng),
                    received_ms=now,
                    updated_ms=now,
                    limit_price=price,
                )
                m.maker_quotes[(side, price)] = quote
                self._match(m, quote, price, [])
                if quote.remaining > 0:
                    self._book_add(m, quote)

    # ----------------------------------------------------------------- book primitives

    def _book_event(self, m: _Market, side: Side, price: Decimal, qty: Decimal) -> None:
        m.book_seq += 1
        self._emit(
            KrakenFuturesBookEvent(m.inst.symbol, side, price, qty, m.book_seq, self.now_ms())
        )

    def _book_add(self, m: _Market, order: KrakenFuturesOrder) -> None:
        assert order.limit_price is not None
        qty = m.book.add(order.order_id, order.side, order.limit_price, order.remaining, order)
        self._book_event(m, order.side, order.limit_price, qty)

    def _book_remove(self, m: _Market, order: KrakenFuturesOrder) -> None:
        assert order.limit_price is not None
        qty = m.book.remove(order.order_id)
        self._book_event(m, order.side, order.limit_price, qty)

    def _book_set(self, m: _Market, order: KrakenFuturesOrder) -> None:
        assert order.limit_price is not None
        qty = m.book.set_qty(order.order_id, order.remaining)
        self._book_event(m, order.side, order.limit_price, qty)

    # ----------------------------------------------------------------- trading

    def send_order(self, account_id: str, req: KrakenFuturesOrderRequest) -> KrakenFuturesResult:
        m = self._market(req.symbol)
        inst = m.inst
        now = self.now_ms()

        def rejected(status: str) -> KrakenFuturesResult:
            return KrakenFuturesResult(status, None, req.cli_ord_id, now)

        if req.cli_ord_id is not None:
            if len(req.cli_ord_id) > MAX_CLI_ORD_ID:
                return rejected("clientOrderIdTooBig")
            if self._by_cli_ord_id(account_id, req.cli_ord_id) is not None:
                return rejected("clientOrderIdAlreadyExist")
        if not inst.on_step(req.size):
            return rejected("invalidSize")
        for price in (req.limit_price, req.stop_price):
            if price is not None and not inst.on_tick(price):
                return rejected("invalidPrice")
        if req.order_type is KrakenFuturesOrderType.TRAILING_STOP and (
            req.trailing_deviation is None or req.trailing_deviation <= 0
        ):
            return rejected("invalidPrice")

        size = req.size
        reduced: Decimal | None = None
        position = self.account(account_id).positions.get(inst.symbol)
        pos_size = position.size if position else ZERO
        if req.reduce_only:
            closes = pos_size < 0 if req.side is Side.BUY else pos_size > 0
            if not closes:
                return rejected("wouldNotReducePosition")
            if size > abs(pos_size):
                reduced, size = size - abs(pos_size), abs(pos_size)
        signed = size if req.side is Side.BUY else -size
        if abs(pos_size + signed) > inst.max_position_size and abs(pos_size + signed) > abs(
            pos_size
        ):
            return rejected("maxPositionViolation")
        if not req.reduce_only and not self._margin_ok(account_id, inst, req, size, pos_size):
            return rejected("insufficientAvailableFunds")

        limit = req.limit_price
        if req.order_type is KrakenFuturesOrderType.MKT:
            limit = self._protected_limit(inst, req.side)
        order = KrakenFuturesOrder(
            order_id=self._uuid(),
            account_id=account_id,
            symbol=inst.symbol,
            side=req.side,
            order_type=req.order_type,
            quantity=size,
            received_ms=now,
            updated_ms=now,
            limit_price=limit,
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
        if req.order_type.is_trigger:
            self._orders[order.order_id] = order
            m.triggers[order.order_id] = order
            self._record(
                events,
                KrakenFuturesOrderEvent(
                    KrakenOrderEventType.PLACE,
                    order.snapshot(),
                    reduced_quantity=reduced,
                    time_ms=now,
                ),
            )
            self._emit(
                KrakenFuturesOrderUpdate(
                    account_id, order.snapshot(), False, "new_placed_order_by_user"
                )
            )
            self._run_triggers(m)
            return KrakenFuturesResult(
                "placed", order.order_id, order.cli_ord_id, now, tuple(events)
            )

        status = self._pre_match_status(m, order)
        if status is not None:
            reason = {
                "postWouldExecute": "POST_WOULD_EXECUTE",
                "iocWouldNotExecute": "IOC_WOULD_NOT_EXECUTE",
            }
            if status in reason:
                order.state = KrakenFuturesOrderState.CANCELLED
                self._record(
                    events,
                    KrakenFuturesOrderEvent(
                        KrakenOrderEventType.REJECT,
                        order.snapshot(),
                        reason=reason[status],
                        time_ms=now,
                    ),
                )
            return KrakenFuturesResult(status, None, req.cli_ord_id, now, tuple(events))

        self._orders[order.order_id] = order
        self._record(
            events,
            KrakenFuturesOrderEvent(
                KrakenOrderEventType.PLACE, order.snapshot(), reduced_quantity=reduced, time_ms=now
            ),
        )
        self._emit(
            KrakenFuturesOrderUpdate(
                account_id, order.snapshot(), False, "new_placed_order_by_user"
            )
        )
        self._take_and_rest(m, order, events)
        self._run_triggers(m)
        return KrakenFuturesResult("placed", order.order_id, order.cli_ord_id, now, tuple(events))

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
        pos_size: Decimal,
    ) -> bool:
        closing = min(size, abs(pos_size)) if (pos_size < 0) == (req.side is Side.BUY) else ZERO
        opening = size - closing
        if opening == 0:
            return True
        price = req.limit_price or req.stop_price or self.mark_price(inst.symbol)
        need = initial_margin(inst, opening, price) + trade_fee(inst, opening, price, maker=False)
        return self.margin(account_id, inst.margin_wallet).available_margin >= need

    def _pre_match_status(self, m: _Market, order: KrakenFuturesOrder) -> str | None:
        """post/ioc/fok outcomes decided before anything trades, and self-fill prevention."""
        opposite = order.side.opposite
        best = m.book.best_price(opposite)
        crosses = best is not None and _crosses(order.side, best, order.limit_price)
        if order.order_type is KrakenFuturesOrderType.POST and crosses:
            return "postWouldExecute"
        if (
            order.order_type in (KrakenFuturesOrderType.IOC, KrakenFuturesOrderType.MKT)
            and not crosses
        ):
            return "iocWouldNotExecute"
        need = order.remaining
        for price in m.book.prices(opposite):
            if not _crosses(order.side, price, order.limit_price) or need <= 0:
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

    def _take_and_rest(
        self, m: _Market, order: KrakenFuturesOrder, events: list[KrakenFuturesOrderEvent]
    ) -> None:
        """Match an incoming order, then rest (limit kinds) or cancel (ioc kinds) the remainder."""
        blocked = self._match(m, order, order.limit_price, events)
        if order.remaining == 0:
            return
        # A triggered order only rests when it had a limit; market-triggered ones never get here.
        if not blocked and (order.order_type.rests or order.triggered):
            self._book_add(m, order)
            return
        order.state = KrakenFuturesOrderState.CANCELLED
        order.updated_ms = self.now_ms()
        reason = "self_fill" if blocked else "cancelled_by_user"
        self._emit(KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), True, reason))

    def _match(
        self,
        m: _Market,
        taker: KrakenFuturesOrder,
        limit: Decimal | None,
        events: list[KrakenFuturesOrderEvent],
    ) -> bool:
        """Trade `taker` against the book; True when it stopped at its own resting order."""
        opposite = taker.side.opposite
        while taker.remaining > 0:
            best = m.book.best_price(opposite)
            if best is None or not _crosses(taker.side, best, limit):
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
        m: _Market,
        maker: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        events: list[KrakenFuturesOrderEvent],
    ) -> None:
        now = self.now_ms()
        execution_id = self._uuid()
        prior = taker.snapshot()
        for order in (maker, taker):
            order.filled += qty
            order.updated_ms = now
            order.state = (
                KrakenFuturesOrderState.FILLED
                if order.remaining == 0
                else KrakenFuturesOrderState.PARTIALLY_FILLED
            )
        if maker.remaining == 0:
            self._book_remove(m, maker)
        else:
            self._book_set(m, maker)
        m.trade_seq += 1
        trade = KrakenFuturesTradeEvent(
            m.inst.symbol, self._uuid(), taker.side, price, qty, m.trade_seq, now
        )
        m.trades.append(trade)
        m.last, m.last_time_ms, m.last_size = price, now, qty
        m.volume += qty
        m.volume_quote += qty * price
        m.high, m.low = max(m.high, price), min(m.low, price)
        self._emit(trade)
        for order, is_maker in ((maker, True), (taker, False)):
            if order.account_id == MAKER_ACCOUNT:
                continue
            self._settle_fill(m, order, taker, price, qty, is_maker, now)
        if taker.account_id != MAKER_ACCOUNT:
            self._record(
                events,
                KrakenFuturesOrderEvent(
                    KrakenOrderEventType.EXECUTION,
                    taker.snapshot(),
                    execution_id=execution_id,
                    price=price,
                    amount=qty,
                    order_prior_execution=prior,
                    time_ms=now,
                ),
            )
        if maker.account_id != MAKER_ACCOUNT:
            self._history.append(
                KrakenHistoryEntry(
                    self._uuid(),
                    now,
                    maker.account_id,
                    KrakenFuturesOrderEvent(
                        KrakenOrderEventType.EXECUTION,
                        maker.snapshot(),
                        execution_id=execution_id,
                        price=price,
                        amount=qty,
                        time_ms=now,
                    ),
                )
            )

    def _settle_fill(
        self,
        m: _Market,
        order: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        now: int,
    ) -> None:
        inst = m.inst
        account = self.account(order.account_id)
        fee = trade_fee(inst, qty, price, maker=is_maker)
        pos = account.positions.get(inst.symbol)
        size, entry = (pos.size, pos.entry_price) if pos else (ZERO, ZERO)
        change = apply_fill(inst, size, entry, qty if order.side is Side.BUY else -qty, price)
        account.settle_pnl(inst, change.realised_pnl - fee)
        if change.size == 0:
            account.positions.pop(inst.symbol, None)
        else:
            account.positions[inst.symbol] = KrakenFuturesPosition(
                inst.symbol, change.size, change.entry_price, now
            )
        self._fill_seq += 1
        fill = KrakenFuturesFill(
            fill_id=self._uuid(),
            account_id=order.account_id,
            symbol=inst.symbol,
            side=order.side,
            order_id=order.order_id,
            cli_ord_id=order.cli_ord_id,
            size=qty,
            price=price,
            time_ms=now,
            maker=is_maker,
            fee=fee,
            fee_currency=inst.settlement_currency,
            order_type=order.order_type,
            taker_order_type=taker.order_type,
            remaining_order_qty=order.remaining,
            seq=self._fill_seq,
        )
        self._fills.setdefault(order.account_id, []).append(fill)
        self._emit(KrakenFuturesFillEvent(order.account_id, fill))
        if order.remaining == 0:
            self._emit(
                KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), True, "full_fill")
            )
        else:
            self._emit(
                KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), False, "partial_fill")
            )
        self._emit(KrakenFuturesAccountChanged(order.account_id))

    def _record(
        self, events: list[KrakenFuturesOrderEvent], event: KrakenFuturesOrderEvent
    ) -> None:
        events.append(event)
        self._history.append(
            KrakenHistoryEntry(self._uuid(), event.time_ms, event.order.account_id, event)
        )

    def _by_cli_ord_id(self, account_id: str, cli_ord_id: str) -> KrakenFuturesOrder | None:
        for order in self._orders.values():
            if order.account_id == account_id and order.cli_ord_id == cli_ord_id and order.is_open:
                return order
        return None

    def _find(
        self, account_id: str, order_id: str | None, cli_ord_id: str | None
    ) -> KrakenFuturesOrder | None:
        if order_id is not None:
            order = self._orders.get(order_id)
            return order if order is not None and order.account_id == account_id else None
        if cli_ord_id is not None:
            latest = None
            for order in self._orders.values():
                if order.account_id == account_id and order.cli_ord_id == cli_ord_id:
                    latest = order if latest is None or order.is_open else latest
            return latest
        return None

    # ----------------------------------------------------------------- triggers

    def _run_triggers(self, m: _Market) -> None:
        """Fire every trigger order whose signal crossed; fired orders may trade right away."""
        for order_id in list(m.triggers):
            order = m.triggers.get(order_id)
            if order is None or not order.waiting_for_trigger:
                m.triggers.pop(order_id, None)
                continue
            signal = self._signal(m.inst.symbol, order.trigger_signal)
            if not should_fire(order, signal):
                continue
            del m.triggers[order_id]
            self._fire(m, order, signal)

    def _fire(self, m: _Market, order: KrakenFuturesOrder, signal: Decimal) -> None:
        if order.reduce_only:
            pos = self.account(order.account_id).positions.get(m.inst.symbol)
            pos_size = pos.size if pos else ZERO
            closes = pos_size < 0 if order.side is Side.BUY else pos_size > 0
            if not closes:
                order.state = KrakenFuturesOrderState.CANCELLED
                order.updated_ms = self.now_ms()
                self._emit(
                    KrakenFuturesOrderUpdate(
                        order.account_id,
                        order.snapshot(),
                        True,
                        "reduce_only_order_would_not_reduce",
                    )
                )
                return
            order.quantity = order.filled + min(order.remaining, abs(pos_size))
        order.triggered = True
        order.updated_ms = self.now_ms()
        limit = limit_after_trigger(order, signal)
        if limit is None:
            order.limit_price = self._protected_limit(m.inst, order.side)
            rests = False
        else:
            order.limit_price = round_to_tick(limit, m.inst.tick_size, up=order.side is Side.SELL)
            rests = True
        self._emit(
            KrakenFuturesOrderUpdate(
                order.account_id, order.snapshot(), False, "stop_order_triggered"
            )
        )
        events: list[KrakenFuturesOrderEvent] = []
        if rests:
            self._take_and_rest(m, order, events)
            return
        self._match(m, order, order.limit_price, events)
        if order.remaining > 0:
            order.state = KrakenFuturesOrderState.CANCELLED
            self._emit(
                KrakenFuturesOrderUpdate(
                    order.account_id, order.snapshot(), True, "cancelled_by_user"
                )
            )

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
        now = self.now_ms()
        order = self._find(account_id, order_id, cli_ord_id)
        if order is None or not order.is_open:
            return KrakenFuturesResult("orderForEditNotFound", order_id, cli_ord_id, now)
        m = self._markets[order.symbol]
        inst = m.inst
        status = self._edit_status(order, inst, size, limit_price, stop_price, absolute_size)
        if status is not None:
            return KrakenFuturesResult(status, order.order_id, order.cli_ord_id, now)
        old = order.snapshot()
        in_book = order.order_id in m.book
        if in_book:
            self._book_remove(m, order)
        if size is not None:
            order.quantity = size if absolute_size else order.filled + size
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        if trailing_deviation is not None:
            order.trailing_deviation = trailing_deviation
            order.peak_price = None
        order.updated_ms = now
        events: list[KrakenFuturesOrderEvent] = []
        self._record(
            events,
            KrakenFuturesOrderEvent(
                KrakenOrderEventType.EDIT, old, new_order=order.snapshot(), time_ms=now
            ),
        )
        self._emit(KrakenFuturesOrderUpdate(account_id, order.snapshot(), False, "edited_by_user"))
        if order.remaining <= 0:
            order.state = KrakenFuturesOrderState.FILLED
            self._emit(KrakenFuturesOrderUpdate(account_id, order.snapshot(), True, "full_fill"))
        elif in_book:
            self._take_and_rest(m, order, events)
        self._run_triggers(m)
        return KrakenFuturesResult("edited", order.order_id, order.cli_ord_id, now, tuple(events))

    def _edit_status(
        self,
        order: KrakenFuturesOrder,
        inst: KrakenFuturesInstrument,
        size: Decimal | None,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
        absolute_size: bool,
    ) -> str | None:
        trailing = order.order_type is KrakenFuturesOrderType.TRAILING_STOP
        if trailing and stop_price is not None:
            return "cannotEditTriggerPriceOfTrailingStop"
        if trailing and limit_price is not None:
            return "cannotEditLimitPriceOfTrailingStop"
        if stop_price is not None and not order.waiting_for_trigger:
            return "orderForEditNotAStop"
        if size is not None:
            new_qty = size if absolute_size else order.filled + size
            if not inst.on_step(size) or new_qty <= order.filled:
                return "invalidSize"
        for price in (limit_price, stop_price):
            if price is not None and not inst.on_tick(price):
                return "invalidPrice"
        if order.order_type is KrakenFuturesOrderType.POST and limit_price is not None:
            best = self._markets[inst.symbol].book.best_price(order.side.opposite)
            if best is not None and _crosses(order.side, best, limit_price):
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
        self._cancel(order, events, now)
        return KrakenFuturesResult(
            "cancelled", order.order_id, order.cli_ord_id, now, tuple(events)
        )

    def _cancel(
        self, order: KrakenFuturesOrder, events: list[KrakenFuturesOrderEvent], now: int
    ) -> None:
        m = self._markets[order.symbol]
        if order.order_id in m.book:
            self._book_remove(m, order)
        m.triggers.pop(order.order_id, None)
        order.state = KrakenFuturesOrderState.CANCELLED
        order.updated_ms = now
        self._record(
            events,
            KrakenFuturesOrderEvent(KrakenOrderEventType.CANCEL, order.snapshot(), time_ms=now),
        )
        self._emit(
            KrakenFuturesOrderUpdate(order.account_id, order.snapshot(), True, "cancelled_by_user")
        )

    def cancel_all(self, account_id: str, symbol: str | None = None) -> list[KrakenFuturesOrder]:
        """Cancel every open order (of one symbol); returns the cancelled orders."""
        wanted = self.instrument(symbol).symbol if symbol is not None else None
        now = self.now_ms()
        events: list[KrakenFuturesOrderEvent] = []
        victims = [
            o
            for o in self._orders.values()
            if o.account_id == account_id and o.is_open and (wanted is None or o.symbol == wanted)
        ]
        for order in victims:
            self._cancel(order, events, now)
        return [o.snapshot() for o in victims]

    # ----------------------------------------------------------------- dead man's switch

    def cancel_all_after(self, account_id: str, timeout_s: int) -> int | None:
        """Arm (timeout > 0) or disarm (0) the account's switch; returns the trigger time (ms)."""
        if timeout_s <= 0:
            self._dead_man.pop(account_id, None)
            return None
        deadline = self.now_ms() + timeout_s * 1000
        self._dead_man[account_id] = deadline
        return deadline

    def next_dead_man_deadline(self) -> int | None:
        return min(self._dead_man.values(), default=None)

    def fire_dead_man_switches(self) -> list[str]:
        """Cancel everything of accounts whose switch expired; returns those accounts."""
        now = self.now_ms()
        due = sorted(a for a, deadline in self._dead_man.items() if deadline <= now)
        for account_id in due:
            del self._dead_man[account_id]
            self.cancel_all(account_id)
        return due
