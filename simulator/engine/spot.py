"""The Spot exchange: accounts, order entry, matching, triggers, expiry and history.

Pure and deterministic: no I/O, no asyncio. Time comes from the injected `Clock`, randomness
from `seed`. Front ends call the methods below, translate `KrakenError.code` into the wire
envelope and stream the events (`drain_events()` or `subscribe()`). Timers (expiry, starttm,
cancel-all-after, market maker refresh) advance only when a front end calls `tick()`.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from simulator.engine import errors as E
from simulator.engine.book import OrderBook
from simulator.engine.clock import Clock, SystemClock
from simulator.engine.descr import close_text, order_text
from simulator.engine.errors import KrakenError
from simulator.engine.events import (
    BookEvent,
    EngineEvent,
    EventBus,
    EventListener,
    ExecType,
    ExecutionEvent,
    LedgerEvent,
    PublicTradeEvent,
    ReferencePriceEvent,
)
from simulator.engine.funds import HUNDRED, AccountState, charge_fee, hold_for, round_down
from simulator.engine.ids import IdFactory
from simulator.engine.market_maker import MarketMaker
from simulator.engine.model import (
    OFLAGS,
    ZERO,
    AddResult,
    AmendRecord,
    AmendResult,
    BalanceEx,
    CancelAfterResult,
    EditResult,
    Fill,
    LedgerEntry,
    Order,
    OrderParams,
    OrderStatus,
    OrderType,
    Page,
    Side,
    StpType,
    TimeInForce,
    TradeBalance,
    TransferResult,
    TriggerRef,
)
from simulator.engine.parsing import (
    parse_decimal,
    parse_price_spec,
    parse_time_spec,
    quantize_down,
    resolve_price,
)
from simulator.engine.queries import page
from simulator.engine.triggers import fires, limit_after_trigger, trail
from simulator.market_data import KrakenPair, PairDirectory

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_TEXT = re.compile(r"^[\x20-\x7e]{1,18}$")
_MARKET_LIKE = (
    OrderType.MARKET,
    OrderType.STOP_LOSS,
    OrderType.TAKE_PROFIT,
    OrderType.TRAILING_STOP,
)
_INT32 = 2**31
_EnumT = TypeVar("_EnumT", bound=StrEnum)
MAX_BATCH = 15
FEE_ACCOUNT = "KRAKEN_FEES"
MM_ACCOUNT = "KRAKEN_MM"
PUBLIC_TRADES_KEPT = 1000


def _enum(kind: type[_EnumT], value: object, field: str) -> _EnumT:
    try:
        return kind(str(value))
    except ValueError:
        raise KrakenError(f"EGeneral:Invalid arguments:{field}") from None


def valid_cl_ord_id(value: str) -> bool:
    """Kraken accepts a long UUID, a 32-hex short UUID, or free printable ASCII of <= 18 chars."""
    return bool(_UUID.match(value) or _HEX32.match(value) or _FREE_TEXT.match(value))


@dataclass(slots=True)
class PairStats:
    """Running ticker figures of a pair since the engine started ("today" == "24h" here)."""

    last_price: Decimal | None = None
    last_qty: Decimal = ZERO
    volume: Decimal = ZERO
    notional: Decimal = ZERO
    trades: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    open: Decimal | None = None

    @property
    def vwap(self) -> Decimal:
        return self.notional / self.volume if self.volume else ZERO


class SpotEngine:
    """A deterministic Kraken Spot matching engine with a built-in market maker."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        directory: PairDirectory | None = None,
        market_maker: bool = True,
        mm_levels: int = 5,
        mm_interval: Decimal = Decimal(1),
        record_events: bool = True,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or SystemClock()
        self.directory = directory or PairDirectory()
        self.ids = IdFactory(seed)
        self.bus = EventBus(record=record_events)
        self._accounts: dict[str, AccountState] = {}
        self._books: dict[str, OrderBook[Order]] = {p: OrderBook() for p in self.directory.pairs}
        self._stops: dict[str, dict[str, Order]] = {p: {} for p in self.directory.pairs}
        self._orders: dict[str, Order] = {}
        self._open: dict[str, dict[str, Order]] = {}  # account -> txid -> open order
        self._closed: dict[str, list[Order]] = {}  # account -> orders in closing order
        self._cl_ord_ids: dict[str, dict[str, str]] = {}  # account -> open cl_ord_id -> txid
        self._fills: dict[str, list[Fill]] = {}
        self._fills_by_txid: dict[str, Fill] = {}
        self._amends: dict[str, list[AmendRecord]] = {}
        self._starts: list[tuple[Decimal, int, str]] = []
        self._expiries: list[tuple[Decimal, int, str]] = []
        self._public_trades: dict[str, deque[PublicTradeEvent]] = {
            p: deque(maxlen=PUBLIC_TRADES_KEPT) for p in self.directory.pairs
        }
        self.stats: dict[str, PairStats] = {p: PairStats() for p in self.directory.pairs}
        self._book_seq = 0
        self.reference: dict[str, Decimal] = {
            p.id: p.start_price for p in self.directory.pairs.values()
        }
        self._internal_ids = {FEE_ACCOUNT, MM_ACCOUNT}
        self._pending_closes: list[Order] = []
        self.create_account(FEE_ACCOUNT, fee_exempt=True)
        self.market_maker: MarketMaker | None = None
        if market_maker:
            self.create_account(MM_ACCOUNT, fee_exempt=True)
            self.market_maker = MarketMaker(self, MM_ACCOUNT, seed, mm_levels, mm_interval)
            self.market_maker.start()

    # ------------------------------------------------------------------ events

    def drain_events(self) -> list[EngineEvent]:
        """Events since the last drain (only when constructed with record_events=True)."""
        return self.bus.drain()

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` synchronously for every event; returns an unsubscribe function."""
        return self.bus.subscribe(listener)

    # ------------------------------------------------------------------ lookups

    def pair(self, name: str) -> KrakenPair:
        """Pair by id, altname, `XBT/USD` or `BTC/USD`; else `EQuery:Unknown asset pair`."""
        pair = self.directory.pair(name)
        if pair is None:
            raise KrakenError(E.UNKNOWN_PAIR)
        return pair

    def asset_id(self, name: str) -> str:
        """Asset id (`XXBT`) for `XBT`/`XXBT`/`BTC`; else `EQuery:Unknown asset`."""
        asset = self.directory.asset(name)
        if asset is None:
            raise KrakenError(E.UNKNOWN_ASSET)
        return asset.id

    def account(self, account_id: str) -> AccountState:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KrakenError(E.PERMISSION_DENIED) from None

    def accounts(self) -> list[AccountState]:
        return list(self._accounts.values())

    def get_order(self, txid: str) -> Order | None:
        order = self._orders.get(txid)
        return order.snapshot() if order else None

    def open_order(self, account_id: str, txid: str) -> Order | None:
        """The live open order itself (no copy) or None; read-only for callers."""
        return self._open.get(account_id, {}).get(txid)

    def last_price(self, pair: str) -> Decimal:
        """Last trade price, or the reference price before the first trade."""
        pair_id = self.pair(pair).id
        return self.stats[pair_id].last_price or self.reference[pair_id]

    def reference_price(self, pair: str) -> Decimal:
        """The synthetic index (random-walk) price of the pair."""
        return self.reference[self.pair(pair).id]

    def book_levels(
        self, pair: str, side: Side, depth: int | None = None
    ) -> list[tuple[Decimal, Decimal]]:
        """Aggregated visible `(price, qty)` levels, best first."""
        return self._books[self.pair(pair).id].levels(side, depth)

    def book(self, pair: str) -> OrderBook[Order]:
        return self._books[self.pair(pair).id]

    def recent_trades(self, pair: str, since_seq: int = 0) -> list[PublicTradeEvent]:
        """Public trades kept in memory (last 1000), oldest first, with `seq > since_seq`."""
        return [t for t in self._public_trades[self.pair(pair).id] if t.seq > since_seq]

    # ------------------------------------------------------------------ accounts and funds

    def create_account(
        self,
        account_id: str,
        balances: Mapping[str, Decimal | str] | None = None,
        *,
        master_id: str | None = None,
        fee_exempt: bool = False,
        fee_volume: Decimal = ZERO,
        username: str | None = None,
    ) -> AccountState:
        """Register an account and deposit its starting balances (asset names in any spelling)."""
        if account_id in self._accounts:
            raise ValueError(f"account {account_id} exists")
        if master_id is not None and master_id not in self._accounts:
            raise ValueError(f"unknown master account {master_id}")
        state = AccountState(account_id, master_id, fee_exempt, fee_volume, username)
        self._accounts[account_id] = state
        self._open[account_id] = {}
        self._closed[account_id] = []
        self._cl_ord_ids[account_id] = {}
        self._fills[account_id] = []
        for asset, amount in (balances or {}).items():
            self.deposit(account_id, asset, amount)
        return state

    def create_subaccount(
        self, master_id: str, username: str, email: str, account_id: str | None = None
    ) -> AccountState:
        """CreateSubaccount: only a master account may create one; usernames are unique."""
        master = self.account(master_id)
        if master.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        if any(a.username == username for a in self._accounts.values()):
            raise KrakenError("EGeneral:Invalid arguments:username")
        del email  # accepted for wire compatibility; the simulator sends no mail
        new_id = account_id or self.ids.transfer_id().replace("-", "")[:16]
        return self.create_account(new_id, master_id=master_id, username=username)

    def deposit(self, account_id: str, asset: str, amount: Decimal | str) -> LedgerEntry:
        """Credit funds from outside the exchange (starting balances, tests)."""
        asset_id = self.asset_id(asset)
        value = round_down(self._amount(amount), self.directory.assets[asset_id].decimals)
        return self._post(self.account(account_id), asset_id, value, "deposit", "", "")

    def withdraw(self, account_id: str, asset: str, amount: Decimal | str) -> LedgerEntry:
        """Debit funds leaving the exchange; refused for subaccounts (Permission denied)."""
        account = self.account(account_id)
        if account.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        asset_id, value = self.asset_id(asset), self._amount(amount)
        if account.available(asset_id) < value:
            raise KrakenError("EFunding:Insufficient funds")
        return self._post(account, asset_id, -value, "withdrawal", "", "")

    def account_transfer(
        self, requester_id: str, asset: str, amount: Decimal | str, from_id: str, to_id: str
    ) -> TransferResult:
        """AccountTransfer between a master and its subaccounts (master key only)."""
        requester = self.account(requester_id)
        if requester.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        family = {requester_id} | {
            a.id for a in self._accounts.values() if a.master_id == requester_id
        }
        if from_id not in family or to_id not in family or from_id == to_id:
            raise KrakenError("EGeneral:Invalid arguments:account")
        asset_id, value = self.asset_id(asset), self._amount(amount)
        source = self.account(from_id)
        if source.available(asset_id) < value:
            raise KrakenError("EFunding:Insufficient funds")
        transfer_id = self.ids.transfer_id()
        self._post(source, asset_id, -value, "transfer", "spottosubaccount", transfer_id)
        self._post(
            self.account(to_id), asset_id, value, "transfer", "spotfromsubaccount", transfer_id
        )
        return TransferResult(transfer_id, "complete")

    def balances(self, account_id: str) -> dict[str, Decimal]:
        """Balance: asset id -> total (assets the account ever held)."""
        return dict(self.account(account_id).balances)

    def balance_ex(self, account_id: str) -> dict[str, BalanceEx]:
        """BalanceEx: asset id -> balance and hold_trade."""
        account = self.account(account_id)
        return {a: BalanceEx(b, account.holds[a]) for a, b in account.balances.items()}

    def trade_balance(self, account_id: str, asset: str = "ZUSD") -> TradeBalance:
        """TradeBalance valued in `asset` at reference prices (spot only: no margin positions)."""
        account = self.account(account_id)
        target = self.asset_id(asset)
        equivalent = sum(
            (amount * self._value_in(a, target) for a, amount in account.balances.items()), ZERO
        )
        unexecuted = ZERO
        for order in self._open[account_id].values():
            pair = self.directory.pairs[order.pair]
            price = order.limit_price or self.reference[order.pair]
            unexecuted += order.remaining * price * self._value_in(pair.quote, target)
        places = Decimal("0.0001")
        eb = equivalent.quantize(places)
        return TradeBalance(
            eb=eb, tb=eb, m=ZERO, n=ZERO, c=ZERO, v=ZERO, e=eb, mf=eb, ml=None,
            uv=unexecuted.quantize(places),
        )  # fmt: skip

    def trade_volume(self, account_id: str) -> Decimal:
        """TradeVolume `volume`: USD value traded since start (Kraken: 30 days), 4 decimals."""
        return self.account(account_id).fee_volume.quantize(Decimal("0.0001"))

    def fee_rates(self, account_id: str, pair: str) -> tuple[Decimal, Decimal]:
        """(taker %, maker %) the account's next order on `pair` pays."""
        account, info = self.account(account_id), self.pair(pair)
        if account.fee_exempt:
            return ZERO, ZERO
        return info.taker_fee_pct(account.fee_volume), info.maker_fee_pct(account.fee_volume)

    def _value_in(self, asset: str, target: str) -> Decimal:
        """Price of one `asset` in `target` via a direct or inverse pair, else via USD."""
        if asset == target:
            return Decimal(1)
        for pair in self.directory.pairs.values():
            if pair.base == asset and pair.quote == target:
                return self.reference[pair.id]
            if pair.base == target and pair.quote == asset:
                return Decimal(1) / self.reference[pair.id]
        if "ZUSD" not in (asset, target):
            return self._value_in(asset, "ZUSD") * self._value_in("ZUSD", target)
        return ZERO

    def _amount(self, amount: Decimal | str) -> Decimal:
        value = parse_decimal(amount, "amount")
        if value <= 0:
            raise KrakenError("EFunding:Invalid amount")
        return value

    def _post(
        self,
        account: AccountState,
        asset: str,
        amount: Decimal,
        kind: str,
        subtype: str,
        refid: str,
        fee: Decimal = ZERO,
    ) -> LedgerEntry:
        """Apply `amount - fee` to a balance and record the ledger row and its event."""
        now = self.clock.now()
        account.balances[asset] += amount - fee
        entry = LedgerEntry(
            self.ids.ledger_id(), account.id, refid, now, kind, subtype, asset, amount, fee,
            account.balances[asset],
        )  # fmt: skip
        account.ledger.append(entry)
        self.bus.publish(
            LedgerEvent(self.bus.next_seq(), now, account.id, entry, account.balances[asset])
        )
        return entry

    # ------------------------------------------------------------------ order entry

    def add_order(self, account_id: str, params: OrderParams) -> AddResult:
        """AddOrder. Raises `KrakenError` with Kraken's string when the order is refused."""
        account = self.account(account_id)
        order = self._build(account, params)
        descr = order_text(order, self.directory.pairs[order.pair])
        if params.validate:
            return AddResult(None, descr, close_text(params.close) or None)
        self._accept(order)
        return AddResult(order.txid, descr, close_text(params.close) or None, order.snapshot())

    def add_order_batch(
        self, account_id: str, pair: str, orders: Sequence[OrderParams], validate: bool = False
    ) -> list[AddResult | KrakenError]:
        """AddOrderBatch: 2-15 orders on one pair; any validation error rejects the whole batch.

        After validation each order is placed in turn; a later failure (e.g. funds) is reported
        in its slot and does not stop the others.
        """
        account = self.account(account_id)
        pair_id = self.pair(pair).id
        if not 2 <= len(orders) <= MAX_BATCH:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        for params in orders:
            if self.pair(params.pair).id != pair_id:
                raise KrakenError("EGeneral:Invalid arguments:pair")
            self._build(account, params, check_funds=False)
        results: list[AddResult | KrakenError] = []
        for params in orders:
            try:
                results.append(self.add_order(account_id, replace(params, validate=validate)))
            except KrakenError as err:
                results.append(err)
        return results

    def _build(self, account: AccountState, p: OrderParams, check_funds: bool = True) -> Order:
        """Validate a request and turn it into an (unplaced) order."""
        pair = self.pair(p.pair)
        now = self.clock.now()
        p = self._normalise(p)
        volume = quantize_down(parse_decimal(p.volume, "volume"), pair.lot_decimals)
        if volume <= 0:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        oflags = frozenset(f.strip() for f in p.oflags if f.strip())
        if not oflags <= OFLAGS or {"fcib", "fciq"} <= oflags:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        kind = p.ordertype
        quote_volume: Decimal | None = None
        if "viqc" in oflags:
            if kind is not OrderType.MARKET or p.side is not Side.BUY:
                raise KrakenError("EGeneral:Invalid arguments:viqc")
            quote_volume = volume
        elif volume < pair.ordermin:
            raise KrakenError(E.VOLUME_MINIMUM)
        if "post" in oflags and kind not in (OrderType.LIMIT, OrderType.ICEBERG):
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        if p.cl_ord_id is not None and p.userref is not None:
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        if p.cl_ord_id is not None:
            if not valid_cl_ord_id(p.cl_ord_id):
                raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
            if p.cl_ord_id in self._cl_ord_ids[account.id]:
                raise KrakenError("EOrder:Duplicate cl_ord_id")
        if p.userref is not None and not -_INT32 <= p.userref < _INT32:
            raise KrakenError("EGeneral:Invalid arguments:userref")
        if p.reduce_only and (p.leverage in (None, "none")):
            raise KrakenError("EOrder:Reduce only:Non-PC")
        if p.trigger is TriggerRef.INDEX and not pair.has_index:
            raise KrakenError(E.INDEX_UNAVAILABLE)
        tif = p.timeinforce
        if tif is TimeInForce.FOK and kind is not OrderType.LIMIT:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        if tif in (TimeInForce.IOC, TimeInForce.FOK) and "post" in oflags:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        starttm = parse_time_spec(p.starttm, now, "starttm")
        expiretm = parse_time_spec(p.expiretm, now, "expiretm")
        if tif is TimeInForce.GTD and expiretm == 0:
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        if expiretm and expiretm < max(now, starttm) + 5:
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        order = Order(
            txid="",
            account_id=account.id,
            pair=pair.id,
            side=p.side,
            ordertype=kind,
            volume=volume,
            opentm=now,
            trigger=p.trigger,
            oflags=oflags,
            timeinforce=tif,
            starttm=starttm,
            expiretm=expiretm,
            userref=p.userref,
            cl_ord_id=p.cl_ord_id,
            stptype=p.stptype,
            leverage=p.leverage,
            reduce_only=p.reduce_only,
            close=p.close,
            quote_volume=quote_volume,
            last_modified=now,
        )
        order.fee_asset = pair.base if "fcib" in oflags else pair.quote
        order.hold_asset = pair.base if p.side is Side.SELL else pair.quote
        order.taker_pct, order.maker_pct = self.fee_rates(account.id, pair.id)
        self._set_prices(order, p, pair)
        if quote_volume is not None:
            self._size_viqc(order, pair)
        elif order.limit_price is not None and volume * order.limit_price < pair.costmin:
            raise KrakenError(E.COST_MINIMUM)
        if kind is OrderType.ICEBERG:
            if p.displayvol is None:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
            display = quantize_down(parse_decimal(p.displayvol, "displayvol"), pair.lot_decimals)
            if display <= 0 or display > volume or display * 15 < volume:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
            order.displayvol = display
        if "post" in oflags and not starttm > now and self._would_take(order):
            raise KrakenError(E.POST_ONLY)
        if check_funds:
            self._check_funds(account, order, pair)
        return order

    @staticmethod
    def _normalise(p: OrderParams) -> OrderParams:
        """Enum fields given as plain strings (front ends pass wire text) become enums."""
        return replace(
            p,
            side=_enum(Side, p.side, "type"),
            ordertype=_enum(OrderType, p.ordertype, "ordertype"),
            trigger=_enum(TriggerRef, p.trigger, "trigger"),
            timeinforce=_enum(TimeInForce, str(p.timeinforce).upper(), "timeinforce"),
            stptype=_enum(StpType, p.stptype, "stptype"),
        )

    def _set_prices(self, order: Order, p: OrderParams, pair: KrakenPair) -> None:
        kind = order.ordertype
        if kind is OrderType.MARKET:
            return
        if p.price is None:
            raise KrakenError("EGeneral:Invalid arguments:price")
        spec = parse_price_spec(p.price, "price")
        reference = self._trigger_reference(order)
        if kind.is_trailing:
            if spec.sign not in ("+", ""):
                raise KrakenError("EGeneral:Invalid arguments:price")
            order.trailing_offset, order.trailing_pct = spec.value, spec.percent
            if spec.value <= 0:
                raise KrakenError("EGeneral:Invalid arguments:price")
            order.price_text = "+" + spec.text().lstrip("+")
            trail(order, reference, pair)
        else:
            order.price = resolve_price(spec, self.last_price(pair.id), order.side, kind, pair)
        if not kind.has_limit_after_trigger:
            return
        if p.price2 is None:
            raise KrakenError("EGeneral:Invalid arguments:price2")
        spec2 = parse_price_spec(p.price2, "price2")
        if kind is OrderType.TRAILING_STOP_LIMIT:
            if spec2.sign not in ("+", "-"):
                raise KrakenError("EGeneral:Invalid arguments:price2")
            order.limit_offset = spec2.value if spec2.sign == "+" else -spec2.value
            order.limit_offset_pct = spec2.percent
            order.price2_text = spec2.text()
        else:
            order.price2 = resolve_price(spec2, self.last_price(pair.id), order.side, kind, pair)

    def _size_viqc(self, order: Order, pair: KrakenPair) -> None:
        """A viqc market buy spends a quote amount; its base volume is bounded by the best ask."""
        assert order.quote_volume is not None
        if order.quote_volume < pair.costmin:
            raise KrakenError(E.COST_MINIMUM)
        best = self._books[pair.id].best_price(Side.SELL) or self.reference[pair.id]
        order.volume = quantize_down(order.quote_volume / best, pair.lot_decimals)
        if order.volume <= 0:
            raise KrakenError(E.VOLUME_MINIMUM)

    def _trigger_reference(self, order: Order) -> Decimal:
        if order.trigger is TriggerRef.INDEX:
            return self.reference[order.pair]
        return self.stats[order.pair].last_price or self.reference[order.pair]

    def _would_take(self, order: Order) -> bool:
        limit = order.limit_price
        best = self._books[order.pair].best_price(order.side.opposite)
        if limit is None or best is None:
            return False
        return best <= limit if order.side is Side.BUY else best >= limit

    def _check_funds(self, account: AccountState, order: Order, pair: KrakenPair) -> None:
        asset, amount = hold_for(order, pair, self.directory.assets)
        if order.side is Side.BUY and order.ordertype is OrderType.MARKET:
            asset, amount = pair.quote, self._market_buy_estimate(order, pair)
        if account.available(asset) < amount:
            raise KrakenError(E.INSUFFICIENT_FUNDS)

    def _market_buy_estimate(self, order: Order, pair: KrakenPair) -> Decimal:
        """Quote a market buy would spend walking the current asks, fee included."""
        if order.quote_volume is not None:
            spend = order.quote_volume
        else:
            left, spend = order.volume, ZERO
            book = self._books[pair.id]
            for price, qty in book.levels(Side.SELL):
                take = min(left, qty)
                spend += price * take
                left -= take
                if left <= 0:
                    break
            spend += left * (book.best_price(Side.SELL) or self.reference[pair.id])
        rate = order.taker_pct / HUNDRED if not order.fee_in_base else ZERO
        return round_down(spend * (1 + rate), self.directory.assets[pair.quote].decimals)

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

    def _next_book_seq(self) -> int:
        self._book_seq += 1
        return self._book_seq

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
        elif order.quote_volume is not None or order.ordertype in _MARKET_LIKE:
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
        for price, qty in book.levels(order.side.opposite):
            if limit is not None and (price > limit if order.side is Side.BUY else price < limit):
                break
            needed -= qty
            if needed <= 0:
                return True
        return False

    # ------------------------------------------------------------------ matching

    def _match(self, taker: Order, pair: KrakenPair) -> None:
        book = self._books[pair.id]
        opposite = taker.side.opposite
        limit = None if taker.ordertype in _MARKET_LIKE else taker.limit_price
        if taker.ordertype in _MARKET_LIKE and taker.side is Side.BUY:
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
            if taker.ordertype in _MARKET_LIKE and taker.side is Side.BUY:
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
            self._fills[order.account_id].append(fill)
            self._fills_by_txid[fill_txid] = fill
            fills.append((order, fill))
        usd = cost * self._value_in(pair.quote, "ZUSD")
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
        kind = "market" if taker.ordertype in _MARKET_LIKE else "limit"
        event = PublicTradeEvent(
            self.bus.next_seq(), now, pair_id, trade_id, price, qty, taker.side, kind
        )
        self._public_trades[pair_id].append(event)
        self.bus.publish(event)

    # ------------------------------------------------------------------ triggers

    def _check_triggers(self, pair_id: str) -> None:
        """Fire every stop whose reference reached its trigger, until none is left to fire."""
        pair = self.directory.pairs[pair_id]
        for _ in range(1000):
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

    # ------------------------------------------------------------------ holds and lifecycle

    def _refresh_hold(self, order: Order) -> None:
        """Re-reserve what an open order may still spend (see funds.hold_for)."""
        executing_market_buy = (
            order.side is Side.BUY
            and order.ordertype in _MARKET_LIKE
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
        self._closed[order.account_id].append(order)
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

    def _emit(
        self,
        order: Order,
        exec_type: str,
        *,
        fill: Fill | None = None,
        reason: str | None = None,
        amend_id: str | None = None,
    ) -> None:
        self.bus.publish(
            ExecutionEvent(
                self.bus.next_seq(), self.clock.now(), order.account_id, exec_type,
                order.snapshot(), fill, reason, amend_id,
            )
        )  # fmt: skip

    def _book_event(self, pair_id: str, side: Side, price: Decimal, qty: Decimal) -> None:
        self.bus.publish(
            BookEvent(self.bus.next_seq(), self.clock.now(), pair_id, side, price, qty)
        )

    def publish_reference(self, pair_id: str, price: Decimal) -> None:
        """Set a pair's reference (index) price, announce it and fire index triggers."""
        self.reference[pair_id] = price
        self.bus.publish(ReferencePriceEvent(self.bus.next_seq(), self.clock.now(), pair_id, price))
        self._check_triggers(pair_id)

    # ------------------------------------------------------------------ cancel

    def _find(
        self, account_id: str, txid: str | None = None, cl_ord_id: str | None = None
    ) -> list[Order]:
        """Open orders addressed by txid, integer userref (as text) or cl_ord_id."""
        open_orders = self._open[account_id]
        if cl_ord_id is not None:
            txid_of = self._cl_ord_ids[account_id].get(cl_ord_id)
            return [open_orders[txid_of]] if txid_of else []
        if txid is None:
            return []
        if txid in open_orders:
            return [open_orders[txid]]
        if re.fullmatch(r"-?\d+", txid.strip()):
            ref = int(txid)
            return [o for o in open_orders.values() if o.userref == ref]
        return []

    def cancel_order(
        self, account_id: str, txid: str | None = None, cl_ord_id: str | None = None
    ) -> int:
        """CancelOrder by txid, userref (all matching) or cl_ord_id; returns the count."""
        self.account(account_id)
        orders = self._find(account_id, txid, cl_ord_id)
        if not orders:
            raise KrakenError(E.UNKNOWN_ORDER)
        for order in orders:
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.CANCEL_REASON_USER)
        self._place_closes()
        return len(orders)

    def cancel_orders(
        self, account_id: str, ids: Iterable[str] = (), cl_ord_ids: Iterable[str] = ()
    ) -> int:
        """CancelOrderBatch (<= 50 ids); unknown ids are skipped; returns the count cancelled."""
        self.account(account_id)
        wanted = list(dict.fromkeys(ids)) + list(dict.fromkeys(cl_ord_ids))
        if len(wanted) > 50:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        found: dict[str, Order] = {}
        for ident in dict.fromkeys(ids):
            found.update((o.txid, o) for o in self._find(account_id, ident))
        for ident in dict.fromkeys(cl_ord_ids):
            found.update((o.txid, o) for o in self._find(account_id, cl_ord_id=ident))
        for order in found.values():
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.CANCEL_REASON_USER)
        self._place_closes()
        return len(found)

    def cancel_all(self, account_id: str, reason: str = E.CANCEL_REASON_USER) -> int:
        """CancelAll: every open order of the account."""
        self.account(account_id)
        orders = sorted(self._open[account_id].values(), key=lambda o: o.opentm)
        for order in orders:
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, reason)
        self._place_closes()
        return len(orders)

    def cancel_all_after(self, account_id: str, timeout: int) -> CancelAfterResult:
        """CancelAllOrdersAfter: arm (0 < timeout < 86400 s) or disarm (0) the dead man's switch."""
        account = self.account(account_id)
        if not 0 <= timeout < 86400:
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        now = self.clock.now()
        account.cancel_after = now + timeout if timeout else None
        return CancelAfterResult(now, account.cancel_after)

    # ------------------------------------------------------------------ amend and edit

    def amend_order(
        self,
        account_id: str,
        *,
        txid: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: Decimal | str | None = None,
        display_qty: Decimal | str | None = None,
        limit_price: Decimal | str | None = None,
        trigger_price: Decimal | str | None = None,
        post_only: bool = False,
    ) -> AmendResult:
        """AmendOrder in place: same txid; queue priority kept unless price changes or qty grows."""
        self.account(account_id)
        if (txid is None) == (cl_ord_id is None):
            raise KrakenError("EGeneral:Invalid arguments:txid")
        order = self._open[account_id].get(txid) if txid else None
        if cl_ord_id is not None:
            found = self._find(account_id, cl_ord_id=cl_ord_id)
            order = found[0] if found else None
        if order is None:
            raise KrakenError(E.UNKNOWN_ORDER)
        pair = self.directory.pairs[order.pair]
        new = order.snapshot()
        if order_qty is not None:
            new.volume = quantize_down(parse_decimal(order_qty, "order_qty"), pair.lot_decimals)
            if new.volume <= 0 or new.volume < min(pair.ordermin, order.volume):
                raise KrakenError("EGeneral:Invalid arguments:order_qty")
            new.volume = max(new.volume, order.vol_exec)  # below the filled qty: rest is cancelled
        if display_qty is not None:
            if order.displayvol is None:
                raise KrakenError("EGeneral:Invalid arguments:display_qty")
            new.displayvol = quantize_down(
                parse_decimal(display_qty, "display_qty"), pair.lot_decimals
            )
            if new.displayvol <= 0 or new.displayvol * 15 < max(new.remaining, ZERO):
                raise KrakenError("EGeneral:Invalid arguments:display_qty")
        if limit_price is not None:
            if order.limit_price is None and not order.ordertype.has_limit_after_trigger:
                raise KrakenError("EGeneral:Invalid arguments:limit_price")
            spec = parse_price_spec(limit_price, "limit_price")
            price = resolve_price(spec, self.last_price(pair.id), order.side, order.ordertype, pair)
            if order.ordertype in (OrderType.LIMIT, OrderType.ICEBERG):
                new.price = price
            else:
                new.price2 = price
        if trigger_price is not None:
            if not order.ordertype.is_triggered or order.triggered:
                raise KrakenError("EGeneral:Invalid arguments:trigger_price")
            spec = parse_price_spec(trigger_price, "trigger_price")
            if order.ordertype.is_trailing:
                new.trailing_offset, new.trailing_pct = spec.value, spec.percent
                new.peak_price = None
                trail(new, self._trigger_reference(order), pair)
            else:
                new.price = resolve_price(
                    spec, self.last_price(pair.id), order.side, order.ordertype, pair
                )
        if post_only and order.txid in self._books[pair.id] and self._would_take(new):
            raise KrakenError(E.POST_ONLY)
        if new.remaining > 0:
            asset, need = hold_for(new, pair, self.directory.assets)
            if self._accounts[account_id].available(asset) + order.hold_amount < need:
                raise KrakenError(E.INSUFFICIENT_FUNDS)
        return self._apply_amend(order, new, pair)

    def _apply_amend(self, order: Order, new: Order, pair: KrakenPair) -> AmendResult:
        now = self.clock.now()
        book = self._books[pair.id]
        in_book = order.txid in book
        keeps_priority = new.limit_price == order.limit_price and new.volume <= order.volume
        if in_book and not keeps_priority:
            old_price = order.limit_price or ZERO
            self._book_event(pair.id, order.side, old_price, book.remove(order.txid))
        for name in (
            "volume",
            "displayvol",
            "price",
            "price2",
            "trailing_offset",
            "trailing_pct",
            "peak_price",
        ):
            setattr(order, name, getattr(new, name))
        order.amended, order.last_modified = True, now
        if "amended" not in order.misc:
            order.misc += ("amended",)
        amend_id = self.ids.amend_id()
        self._amends[order.txid].append(self._amend_record(order, "user", now, amend_id))
        if order.remaining <= 0:
            self._emit(order, ExecType.AMENDED, amend_id=amend_id)
            self._finish(order, OrderStatus.CLOSED, ExecType.FILLED, None)
            self._place_closes()
            return AmendResult(amend_id, order.snapshot())
        self._refresh_hold(order)
        if in_book and keeps_priority:
            visible = order.remaining
            if order.displayvol is not None:
                order.display_remaining = min(
                    order.display_remaining, order.displayvol, order.remaining
                )
                visible = order.display_remaining
            level = book.set_qty(order.txid, visible)
            self._book_event(pair.id, order.side, order.limit_price or ZERO, level)
        self._emit(order, ExecType.AMENDED, amend_id=amend_id)
        if in_book and not keeps_priority:
            self._match(order, pair)
            if order.is_open:
                self._rest(order)
            self._check_triggers(pair.id)
        elif order.txid in self._stops[pair.id]:
            self._check_triggers(pair.id)
        self._place_closes()
        return AmendResult(amend_id, order.snapshot())

    def _amend_record(
        self, order: Order, kind: str, now: Decimal, amend_id: str | None = None
    ) -> AmendRecord:
        return AmendRecord(
            amend_id or self.ids.amend_id(), kind, order.volume, order.displayvol,
            order.remaining, order.limit_price, order.trigger_price, None, order.post_only, now,
        )  # fmt: skip

    def order_amends(self, account_id: str, txid: str) -> list[AmendRecord]:
        """OrderAmends history: the original placement followed by each amend."""
        order = self._orders.get(txid)
        if order is None or order.account_id != account_id:
            raise KrakenError(E.UNKNOWN_ORDER)
        return list(self._amends[txid])

    def edit_order(
        self,
        account_id: str,
        txid: str,
        pair: str,
        *,
        volume: Decimal | str | None = None,
        displayvol: Decimal | str | None = None,
        price: Decimal | str | None = None,
        price2: Decimal | str | None = None,
        oflags: frozenset[str] | None = None,
        userref: int | None = None,
        validate: bool = False,
    ) -> EditResult:
        """EditOrder: cancel the original and place a replacement with a new txid.

        Refused for triggered stops, orders with a conditional close and orders with a cl_ord_id;
        the new volume may not be below what already executed (fills stay on the original).
        """
        self.account(account_id)
        pair_info = self.pair(pair)
        found = self._find(account_id, txid)
        if len(found) != 1:
            raise KrakenError(E.UNKNOWN_ORDER if not found else "EOrder:Invalid order")
        original = found[0]
        if original.pair != pair_info.id:
            raise KrakenError("EGeneral:Invalid arguments:pair")
        if original.triggered or original.close is not None or original.cl_ord_id is not None:
            raise KrakenError(E.INVALID_ORDER)
        if original.ordertype is OrderType.MARKET:
            raise KrakenError(E.INVALID_ORDER)
        new_volume = (
            original.volume
            if volume is None
            else quantize_down(parse_decimal(volume, "volume"), pair_info.lot_decimals)
        )
        if new_volume <= original.vol_exec:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        flags = original.oflags - {"post"}
        if oflags is not None:
            flags |= {"post"} & oflags
        params = OrderParams(
            pair=pair_info.id,
            side=original.side,
            ordertype=original.ordertype,
            volume=new_volume - original.vol_exec,
            price=price if price is not None else original.price_text or original.price,
            price2=price2 if price2 is not None else original.price2_text or original.price2,
            displayvol=displayvol if displayvol is not None else original.displayvol,
            trigger=original.trigger,
            oflags=flags,
            timeinforce=original.timeinforce,
            expiretm=original.expiretm or None,
            userref=userref if userref is not None else original.userref,
            stptype=original.stptype,
            leverage=original.leverage,
        )
        account = self._accounts[account_id]
        account.holds[original.hold_asset] -= (
            original.hold_amount
        )  # its funds are freed by the edit
        try:
            replacement = self._build(account, params)
        finally:
            account.holds[original.hold_asset] += original.hold_amount
        descr = order_text(replacement, pair_info)
        new_txid: str | None = None
        if not validate:
            self._finish(original, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_EDIT)
            self._accept(replacement)
            new_txid = replacement.txid
        return EditResult(
            txid=new_txid,
            originaltxid=original.txid,
            volume=new_volume,
            price=replacement.price,
            price2=replacement.price2,
            orders_cancelled=0 if validate else 1,
            descr_order=descr,
            newuserref=replacement.userref if userref is not None else None,
            olduserref=original.userref if userref is not None else None,
            order=None if validate else replacement.snapshot(),
        )

    # ------------------------------------------------------------------ queries

    def open_orders(
        self, account_id: str, userref: int | None = None, cl_ord_id: str | None = None
    ) -> list[Order]:
        """OpenOrders (pending and open), oldest first."""
        self.account(account_id)
        return [
            o.snapshot()
            for o in self._open[account_id].values()
            if (userref is None or o.userref == userref)
            and (cl_ord_id is None or o.cl_ord_id == cl_ord_id)
        ]

    def closed_orders(
        self,
        account_id: str,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
        closetime: str = "both",
    ) -> Page[Order]:
        """ClosedOrders: newest first, 50 per page; start/end are unix times or txids."""
        self.account(account_id)
        rows = [
            o
            for o in self._closed[account_id]
            if (userref is None or o.userref == userref)
            and (cl_ord_id is None or o.cl_ord_id == cl_ord_id)
        ]

        def time_of(o: Order) -> Decimal:
            if closetime == "open":
                return o.opentm
            return o.closetm or o.opentm

        result = page(rows, time_of, start=self._bound(start), end=self._bound(end), ofs=ofs)
        return Page([o.snapshot() for o in result.items], result.count)

    def _bound(self, value: Decimal | str | None) -> Decimal | None:
        """A start/end filter: unix seconds, or a txid meaning that order's opentm."""
        if value is None or value == "":
            return None
        if isinstance(value, str) and value in self._orders:
            return self._orders[value].opentm
        if isinstance(value, str) and value in self._fills_by_txid:
            return self._fills_by_txid[value].time
        return parse_decimal(value, "start")

    def query_orders(
        self, account_id: str, txids: Sequence[str], userref: int | None = None
    ) -> list[Order]:
        """QueryOrders (<= 50 txids); unknown or foreign ids: `EOrder:Invalid order`."""
        self.account(account_id)
        if not txids or len(txids) > 50:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        out = []
        for txid in txids:
            order = self._orders.get(txid)
            if order is None or order.account_id != account_id:
                raise KrakenError("EOrder:Invalid order")
            if userref is None or order.userref == userref:
                out.append(order.snapshot())
        return out

    def trades_history(
        self,
        account_id: str,
        *,
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
    ) -> Page[Fill]:
        """TradesHistory: newest first, 50 per page."""
        self.account(account_id)
        return page(
            self._fills[account_id],
            lambda f: f.time,
            start=self._bound(start),
            end=self._bound(end),
            ofs=ofs,
        )

    def query_trades(self, account_id: str, txids: Sequence[str]) -> list[Fill]:
        """QueryTrades (<= 20 trade txids)."""
        if not txids or len(txids) > 20:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        out = []
        for txid in txids:
            fill = self._fills_by_txid.get(txid)
            if fill is None or fill.account_id != account_id:
                raise KrakenError("EGeneral:Invalid arguments:txid")
            out.append(fill)
        return out

    def ledgers(
        self,
        account_id: str,
        *,
        assets: Sequence[str] = (),
        kind: str = "all",
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
    ) -> Page[LedgerEntry]:
        """Ledgers: newest first, 50 per page, filtered by assets (any spelling) and type."""
        wanted = {self.asset_id(a) for a in assets if a and a != "all"}
        rows = [
            e
            for e in self.account(account_id).ledger
            if (not wanted or e.asset in wanted) and (kind == "all" or e.type == kind)
        ]
        return page(rows, lambda e: e.time, start=self._bound(start), end=self._bound(end), ofs=ofs)

    def query_ledgers(self, account_id: str, ids: Sequence[str]) -> list[LedgerEntry]:
        """QueryLedgers (<= 20 ids)."""
        by_id = {e.id: e for e in self.account(account_id).ledger}
        if not ids or len(ids) > 20 or any(i not in by_id for i in ids):
            raise KrakenError("EGeneral:Invalid arguments:id")
        return [by_id[i] for i in ids]

    # ------------------------------------------------------------------ time

    def tick(self) -> None:
        """Run due timers at the clock's current time: starttm, expiry, dead man's switch,
        market maker refresh and index-triggered stops."""
        now = self.clock.now()
        while self._starts and self._starts[0][0] <= now:
            _, _, txid = heapq.heappop(self._starts)
            order = self._orders[txid]
            if order.status is OrderStatus.PENDING:
                self._activate(order)
        while self._expiries and self._expiries[0][0] <= now:
            _, _, txid = heapq.heappop(self._expiries)
            order = self._orders[txid]
            self._finish(order, OrderStatus.EXPIRED, ExecType.EXPIRED, E.REASON_EXPIRED)
        for account in list(self._accounts.values()):
            if account.cancel_after is not None and account.cancel_after <= now:
                account.cancel_after = None
                self.cancel_all(account.id, E.REASON_CANCEL_AFTER)
        if self.market_maker is not None:
            self.market_maker.on_tick(now)
        self._place_closes()
