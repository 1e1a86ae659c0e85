"""The Spot engine's state and the small helpers every part of it shares.

Holds accounts, books, stop lists, orders, fills and the event bus; lookups by any pair or asset
spelling; ledger posting and event emission. The behaviour lives in the mixins built on it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.book import OrderBook
from simulator.engine.clock import Clock, SystemClock
from simulator.engine.errors import KrakenError
from simulator.engine.events import (
    BookEvent,
    EngineEvent,
    EventBus,
    EventListener,
    ExecutionEvent,
    LedgerEvent,
    PublicTradeEvent,
)
from simulator.engine.funds import AccountState
from simulator.engine.ids import IdFactory
from simulator.engine.model import (
    ZERO,
    AmendRecord,
    Fill,
    LedgerEntry,
    Order,
    OrderType,
    Side,
    TriggerRef,
)
from simulator.engine.pairs import KrakenPair, PairDirectory

MARKET_LIKE = (
    OrderType.MARKET,
    OrderType.STOP_LOSS,
    OrderType.TAKE_PROFIT,
    OrderType.TRAILING_STOP,
)
MAX_BATCH = 15
FEE_ACCOUNT = "KRAKEN_FEES"
MM_ACCOUNT = "KRAKEN_MM"
FLOW_ACCOUNT = "KRAKEN_FLOW"
# The engine's own accounts (fee collector, market maker, noise taker): not Kraken users.
INTERNAL_ACCOUNTS = frozenset({FEE_ACCOUNT, MM_ACCOUNT, FLOW_ACCOUNT})
PUBLIC_TRADES_KEPT = 1000


@dataclass(frozen=True, slots=True)
class Retention:
    """How much finished history each account keeps (simulator/README.md, "Memory").

    Open orders are always kept. Beyond these counts the oldest closed orders (with their
    amend history), fills and ledger rows are forgotten, so a long-running simulator stays
    bounded; the engine's internal accounts keep no closed orders at all (no API key can query
    them), which is what keeps an idle market maker's requotes from piling up.
    """

    closed_orders: int = 10_000  # per account: ClosedOrders, QueryOrders, OrderAmends
    fills: int = 10_000  # per account: TradesHistory, QueryTrades
    ledger: int = 10_000  # per account: Ledgers, QueryLedgers


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


class SpotState:
    """Everything the engine knows, plus lookups, ledger posting and event emission."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        directory: PairDirectory | None = None,
        record_events: bool = True,
        retention: Retention | None = None,
    ) -> None:
        self.seed = seed
        self.retention = retention or Retention()
        self.clock: Clock = clock or SystemClock()
        self.directory = directory or PairDirectory()
        self.ids = IdFactory(seed)
        self.bus = EventBus(record=record_events)
        self._accounts: dict[str, AccountState] = {}
        self._books: dict[str, OrderBook[Order]] = {p: OrderBook() for p in self.directory.pairs}
        self._stops: dict[str, dict[str, Order]] = {p: {} for p in self.directory.pairs}
        self._orders: dict[str, Order] = {}
        self._open: dict[str, dict[str, Order]] = {}  # account -> txid -> open order
        self._closed: dict[str, deque[Order]] = {}  # account -> orders in closing order
        self._cl_ord_ids: dict[str, dict[str, str]] = {}  # account -> open cl_ord_id -> txid
        self._fills: dict[str, deque[Fill]] = {}
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
        self._pending_closes: list[Order] = []
        # (last price, index) per pair at the last trigger pass: see _check_triggers
        self._trigger_marks: dict[str, tuple[Decimal | None, Decimal]] = {}

    def drain_events(self) -> list[EngineEvent]:
        """Events since the last drain (only when constructed with record_events=True)."""
        return self.bus.drain()

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` synchronously for every event; returns an unsubscribe function."""
        return self.bus.subscribe(listener)

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

    def fee_rates(self, account_id: str, pair: str) -> tuple[Decimal, Decimal]:
        """(taker %, maker %) the account's next order on `pair` pays."""
        account, info = self.account(account_id), self.pair(pair)
        if account.fee_exempt:
            return ZERO, ZERO
        return info.taker_fee_pct(account.fee_volume), info.maker_fee_pct(account.fee_volume)

    def value_in(self, asset: str, target: str) -> Decimal:
        """Price of one `asset` in `target` (asset ids) at reference prices, via a direct or
        inverse pair, else through ZUSD; 0 when there is no route. E.g. fee_usd_equiv."""
        if asset == target:
            return Decimal(1)
        for pair in self.directory.pairs.values():
            if pair.base == asset and pair.quote == target:
                return self.reference[pair.id]
            if pair.base == target and pair.quote == asset:
                return Decimal(1) / self.reference[pair.id]
        if "ZUSD" not in (asset, target):
            return self.value_in(asset, "ZUSD") * self.value_in("ZUSD", target)
        return ZERO

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
        if len(account.ledger) > self.retention.ledger:
            self.ids.forget(account.ledger.popleft().id)
        self.bus.publish(
            LedgerEvent(self.bus.next_seq(), now, account.id, entry, account.balances[asset])
        )
        return entry

    def _trigger_reference(self, order: Order) -> Decimal:
        if order.trigger is TriggerRef.INDEX:
            return self.reference[order.pair]
        return self.stats[order.pair].last_price or self.reference[order.pair]

    def _next_book_seq(self) -> int:
        self._book_seq += 1
        return self._book_seq

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

    def stored_counts(self) -> dict[str, int]:
        """How many history objects the engine holds (what `Retention` bounds): for tests and
        diagnostics."""
        return {
            "orders": len(self._orders),
            "closed_orders": sum(len(c) for c in self._closed.values()),
            "amend_records": sum(len(a) for a in self._amends.values()),
            "fills": sum(len(f) for f in self._fills.values()),
            "ledger_rows": sum(len(a.ledger) for a in self._accounts.values()),
            "issued_ids": self.ids.issued_count(),
            "public_trades": sum(len(t) for t in self._public_trades.values()),
        }

    def _remember_closed(self, order: Order) -> None:
        """Keep a finished order for the queries, within `retention` (internal: not at all)."""
        if order.account_id in INTERNAL_ACCOUNTS:
            self._forget_order(order)
            return
        closed = self._closed[order.account_id]
        closed.append(order)
        if len(closed) > self.retention.closed_orders:
            self._forget_order(closed.popleft())

    def _forget_order(self, order: Order) -> None:
        self._orders.pop(order.txid, None)
        for record in self._amends.pop(order.txid, ()):
            self.ids.forget(record.amend_id)
        self.ids.forget(order.txid)

    def _remember_fill(self, fill: Fill) -> None:
        fills = self._fills[fill.account_id]
        fills.append(fill)
        self._fills_by_txid[fill.txid] = fill
        if len(fills) > self.retention.fills:
            old = fills.popleft()
            self._fills_by_txid.pop(old.txid, None)
            self.ids.forget(old.txid)

    def _amend_record(
        self, order: Order, kind: str, now: Decimal, amend_id: str | None = None
    ) -> AmendRecord:
        return AmendRecord(
            amend_id or self.ids.amend_id(), kind, order.volume, order.displayvol,
            order.remaining, order.limit_price, order.trigger_price, None, order.post_only, now,
        )  # fmt: skip

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
