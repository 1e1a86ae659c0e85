"""What the engine tells its front ends: one ordered stream of immutable events.

Every state change appends events with a strictly increasing engine-wide `seq`. Front ends either
`drain_events()` or `subscribe()` a callback (called synchronously, in order, inside the engine
call that caused the change). Private events carry `account_id`; market events carry `pair`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.model import Fill, LedgerEntry, Order, Side


class ExecType:
    """WS v2 `exec_type` values the engine emits."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    TRADE = "trade"
    FILLED = "filled"
    ICEBERG_REFILL = "iceberg_refill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    AMENDED = "amended"
    RESTATED = "restated"
    STATUS = "status"  # e.g. a trigger fired or a trailing trigger moved


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """A change of one order. `order` is a snapshot after the change.

    `exec_type` is one of `ExecType`; `fill` is set for `trade`; `reason` for cancel/expire/
    restate (Kraken texts such as "User requested", "Post only order", "Self trade prevention").
    """

    seq: int
    time: Decimal
    account_id: str
    exec_type: str
    order: Order
    fill: Fill | None = None
    reason: str | None = None
    amend_id: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A balance change (WS v2 `balances` update, REST `Ledgers` row)."""

    seq: int
    time: Decimal
    account_id: str
    entry: LedgerEntry
    wallet_total: Decimal  # balance of that asset after the change


@dataclass(frozen=True, slots=True)
class BookEvent:
    """The aggregated visible quantity at one price level changed; qty 0 = level removed."""

    seq: int
    time: Decimal
    pair: str
    side: Side
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class PublicTradeEvent:
    """A public trade print (REST `Trades`, WS `trade` channel). `side` is the taker's side."""

    seq: int
    time: Decimal
    pair: str
    trade_id: int
    price: Decimal
    qty: Decimal
    side: Side
    ordertype: str  # "market" or "limit" (the taker's order type, as Kraken prints it)


@dataclass(frozen=True, slots=True)
class ReferencePriceEvent:
    """The synthetic reference (index) price of a pair moved."""

    seq: int
    time: Decimal
    pair: str
    price: Decimal


EngineEvent = ExecutionEvent | LedgerEvent | BookEvent | PublicTradeEvent | ReferencePriceEvent
EventListener = Callable[[EngineEvent], None]


class EventBus:
    """Numbers events, hands them to listeners and (optionally) keeps them for `drain()`."""

    def __init__(self, record: bool = True) -> None:
        self.record = record
        self._seq = 0
        self._log: list[EngineEvent] = []
        self._listeners: list[EventListener] = []

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, event: EngineEvent) -> None:
        if self.record:
            self._log.append(event)
        for listener in self._listeners:
            listener(event)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` for every future event; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def drain(self) -> list[EngineEvent]:
        """Events recorded since the last drain, oldest first."""
        out, self._log = self._log, []
        return out
