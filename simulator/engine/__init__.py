"""The simulator's pure engine: books, accounts, matching, triggers and the synthetic market.

No I/O and no asyncio: front ends (Spot REST, Spot WS v2, Futures) call `SpotEngine` methods,
turn `KrakenError.code` into Kraken's envelope and stream the engine's events.
"""

from simulator.engine.book import OrderBook
from simulator.engine.clock import Clock, ManualClock, SystemClock
from simulator.engine.descr import close_text, fmt_price, fmt_volume, order_text
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
from simulator.engine.funds import AccountState
from simulator.engine.ids import IdFactory
from simulator.engine.model import (
    AddResult,
    AmendRecord,
    AmendResult,
    BalanceEx,
    CancelAfterResult,
    CloseParams,
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
from simulator.engine.spot import (
    FEE_ACCOUNT,
    FLOW_ACCOUNT,
    INTERNAL_ACCOUNTS,
    MM_ACCOUNT,
    PairStats,
    SpotEngine,
    valid_cl_ord_id,
)

__all__ = [
    "FEE_ACCOUNT",
    "FLOW_ACCOUNT",
    "INTERNAL_ACCOUNTS",
    "MM_ACCOUNT",
    "AccountState",
    "AddResult",
    "AmendRecord",
    "AmendResult",
    "BalanceEx",
    "BookEvent",
    "CancelAfterResult",
    "Clock",
    "CloseParams",
    "EditResult",
    "EngineEvent",
    "EventBus",
    "EventListener",
    "ExecType",
    "ExecutionEvent",
    "Fill",
    "IdFactory",
    "KrakenError",
    "LedgerEntry",
    "LedgerEvent",
    "ManualClock",
    "Order",
    "OrderBook",
    "OrderParams",
    "OrderStatus",
    "OrderType",
    "Page",
    "PairStats",
    "PublicTradeEvent",
    "ReferencePriceEvent",
    "Side",
    "SpotEngine",
    "StpType",
    "SystemClock",
    "TimeInForce",
    "TradeBalance",
    "TransferResult",
    "TriggerRef",
    "close_text",
    "fmt_price",
    "fmt_volume",
    "order_text",
    "valid_cl_ord_id",
]
