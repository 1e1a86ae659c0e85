"""Python client of the krakengw gRPC execution gateway.

`Client` (blocking) and `AsyncClient` (asyncio) wrap the krakengw.v1 contract: Decimal in and
out, errors as `KrakenGwError`, and an execution stream that resumes after disconnects. The
generated stubs are in `krakengw.v1`.
"""

from krakengw.aio import AsyncClient
from krakengw.builders import new_client_order_id, order_spec
from krakengw.client import Client
from krakengw.enums import (
    ExecType,
    FeeCurrency,
    InstrumentStatus,
    Liquidity,
    OffsetUnit,
    OrderType,
    OrdStatus,
    Permission,
    ProductType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TransferStatus,
    TriggerReference,
)
from krakengw.errors import KrakenGwError
from krakengw.models import (
    Balance,
    BookLevel,
    BookUpdate,
    ExecutionReport,
    Fee,
    Fill,
    Heartbeat,
    Instrument,
    Limits,
    Order,
    Position,
    PublicTrade,
    RateBudget,
    Reject,
    RiskLimits,
    SessionInfo,
    Subaccount,
    Ticker,
    Transfer,
)
from krakengw.order_entry import AsyncOrderEntry, OrderEntry
from krakengw.resume import AsyncExecutionStream, ExecutionStream, ReconnectPolicy

__all__ = [
    "AsyncClient",
    "AsyncExecutionStream",
    "AsyncOrderEntry",
    "Balance",
    "BookLevel",
    "BookUpdate",
    "Client",
    "ExecType",
    "ExecutionReport",
    "ExecutionStream",
    "Fee",
    "FeeCurrency",
    "Fill",
    "Heartbeat",
    "Instrument",
    "InstrumentStatus",
    "KrakenGwError",
    "Limits",
    "Liquidity",
    "OffsetUnit",
    "OrdStatus",
    "Order",
    "OrderEntry",
    "OrderType",
    "Permission",
    "Position",
    "ProductType",
    "PublicTrade",
    "RateBudget",
    "ReconnectPolicy",
    "Reject",
    "RiskLimits",
    "SelfTradePrevention",
    "SessionInfo",
    "Side",
    "Subaccount",
    "Ticker",
    "TimeInForce",
    "Transfer",
    "TransferStatus",
    "TriggerReference",
    "new_client_order_id",
    "order_spec",
]
