"""The simulator's pure engine: books, accounts, matching, triggers and the synthetic market.

No I/O and no asyncio: front ends (Spot REST, Spot WS v2, Futures) call `SpotEngine` methods,
turn `KrakenError.code` into Kraken's envelope and stream the engine's events::

    engine = SpotEngine(seed=7, clock=ManualClock(1_700_000_000))
    engine.create_account("AA00DEMO000001", {"ZUSD": "1000000", "XBT": "10"})
    result = engine.add_order("AA00DEMO000001", OrderParams("XBTUSD", Side.BUY, OrderType.LIMIT,
                                                             "0.5", "99000.0"))
    result.txid, result.descr_order        # "O...-...-...", "buy 0.50000000 XBTUSD @ limit 99000.0"
    for event in engine.drain_events():    # or engine.subscribe(callback)
        ...                                # ExecutionEvent / LedgerEvent / BookEvent / ...
    clock.advance(1); engine.tick()        # expiry, starttm, dead man's switch, market maker

Wire text is accepted as-is in `OrderParams` (numbers, relative prices, `+<secs>` times, enum
spellings), so every front end gets the same validation and error strings. Rounding rules are
documented in `funds.py` (costs, fees, holds) and `parsing.py` (volume, prices).
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
