"""The venue-neutral domain model: immutable values, `Decimal` for every price and quantity.

Timestamps are timezone-aware UTC `datetime`s. Symbols are unified like CCXT: `BTC/USD` spot,
`BTC/USD:USD` linear perpetual, `BTC/USD:BTC` inverse perpetual, `BTC/USD:USD-250926` dated
future. An instrument is identified by (venue, symbol); venue names follow CCXT ids
(`kraken` for Kraken Spot, `krakenfutures` for Kraken Futures).

Enum members' names equal the proto enum values without their `<ENUM>_` prefix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason

ZERO = Decimal(0)


class Side(enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(enum.Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"
    TRAILING_STOP_LIMIT = "TRAILING_STOP_LIMIT"
    ICEBERG = "ICEBERG"


# Order-type families: the one classification validation, venue parameters and parsing share.
# A stop triggers a market order, a stop-limit a limit order at its own price; a trailing stop
# follows the market by an offset (a trailing stop-limit adds a limit offset).
STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.TAKE_PROFIT})
STOP_LIMIT_TYPES = frozenset({OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
TRAILING_TYPES = frozenset({OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT})
TRIGGERED_TYPES = STOP_TYPES | STOP_LIMIT_TYPES | TRAILING_TYPES
# Types that carry a limit `price` of their own.
LIMIT_PRICE_TYPES = frozenset({OrderType.LIMIT, OrderType.ICEBERG}) | STOP_LIMIT_TYPES


class TimeInForce(enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"
    FOK = "FOK"


class ExecType(enum.Enum):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"
    RESTATED = "RESTATED"
    ORDER_STATUS = "ORDER_STATUS"


class OrdStatus(enum.Enum):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    # Only the answer to a validate_only request: never journaled, never a live order.
    VALIDATED = "VALIDATED"


TERMINAL_STATUSES: frozenset[OrdStatus] = frozenset(
    {
        OrdStatus.FILLED,
        OrdStatus.CANCELED,
        OrdStatus.REPLACED,
        OrdStatus.REJECTED,
        OrdStatus.EXPIRED,
    }
)
PENDING_STATUSES: frozenset[OrdStatus] = frozenset(
    {OrdStatus.PENDING_NEW, OrdStatus.PENDING_CANCEL, OrdStatus.PENDING_REPLACE}
)


class TriggerReference(enum.Enum):
    LAST = "LAST"
    INDEX = "INDEX"
    MARK = "MARK"


class OffsetUnit(enum.Enum):
    """How a trailing or limit offset is expressed: a price distance or a percentage."""

    ABSOLUTE = "ABSOLUTE"
    PERCENT = "PERCENT"


class SelfTradePrevention(enum.Enum):
    CANCEL_NEWEST = "CANCEL_NEWEST"
    CANCEL_OLDEST = "CANCEL_OLDEST"
    CANCEL_BOTH = "CANCEL_BOTH"


class Liquidity(enum.Enum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class ProductType(enum.Enum):
    SPOT = "SPOT"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"


class InstrumentStatus(enum.Enum):
    ONLINE = "ONLINE"
    CANCEL_ONLY = "CANCEL_ONLY"
    POST_ONLY = "POST_ONLY"
    LIMIT_ONLY = "LIMIT_ONLY"
    REDUCE_ONLY = "REDUCE_ONLY"
    MAINTENANCE = "MAINTENANCE"
    DELISTED = "DELISTED"


class Permission(enum.Enum):
    READ = "READ"
    TRADE = "TRADE"
    CANCEL_ONLY = "CANCEL_ONLY"
    TRANSFER = "TRANSFER"
    DROP_COPY = "DROP_COPY"


class TransferStatus(enum.Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A tradable instrument and the rules enforced before any order reaches the venue."""

    venue: str
    symbol: str
    venue_symbol: str
    product_type: ProductType
    base: str
    quote: str
    settle: str | None = None  # settlement currency of derivatives; None for spot
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal = ZERO
    min_cost: Decimal = ZERO  # in quote currency; 0 = no minimum
    status: InstrumentStatus = InstrumentStatus.ONLINE
    contract_size: Decimal = Decimal(1)
    expiry: datetime | None = None  # dated futures only
    max_leverage: Decimal | None = None  # None: not leveraged (spot) or not published


@dataclass(frozen=True, slots=True)
class SessionContext:
    """Who is calling: built by the sessions layer, passed to every TradingService call."""

    session_id: str
    account: str
    permissions: frozenset[Permission]
    is_drop_copy: bool = False


class FeeCurrency(enum.Enum):
    """The currency the venue charges an order's fees in (Kraken spot: oflags fcib / fciq)."""

    BASE = "BASE"
    QUOTE = "QUOTE"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A new order as the client asked for it. `client_order_id` is the idempotency key, within
    the session that sends it (another session of the account may use the same id).

    Exactly one of `qty` (base units or contracts) and `quote_qty` (quote currency, market buys)
    is set. `venue` may be empty: the symbol then picks the venue.
    """

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None  # limit price
    stop_price: Decimal | None = None  # trigger price (stop-loss / take-profit)
    trailing_offset: Decimal | None = None
    trailing_offset_unit: OffsetUnit = OffsetUnit.ABSOLUTE
    limit_offset: Decimal | None = None  # trailing-stop-limit: limit distance from the trigger
    limit_offset_unit: OffsetUnit = OffsetUnit.ABSOLUTE
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time: datetime | None = None  # GTD
    start_time: datetime | None = None  # scheduled start
    post_only: bool = False
    reduce_only: bool = False
    display_qty: Decimal | None = None  # iceberg visible quantity
    trigger_reference: TriggerReference | None = None
    leverage: Decimal | None = None
    self_trade_prevention: SelfTradePrevention | None = None
    deadline: datetime | None = None  # venue must not act after this instant
    validate_only: bool = False
    venue: str = ""
    # None: the venue's own default.
    fee_currency: FeeCurrency | None = None
    text: str = ""  # the caller's free text (FIX Text 58): kept, never sent to the venue


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitch:
    """An engaged kill switch: why, which session engaged it, when. Journaled, so it stays
    engaged across restarts until released."""

    reason: str
    engaged_by: str
    engaged_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendRequest:
    """In-place change of a live order; None means unchanged. Keeps the client order id.
    `session_id`: the session whose client order id it is (None: the caller's own)."""

    client_order_id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    display_qty: Decimal | None = None
    trailing_offset: Decimal | None = None
    limit_offset: Decimal | None = None
    post_only: bool | None = None
    deadline: datetime | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """Cancel/replace: `orig_client_order_id` is replaced by `new_order` (a new client id)."""

    orig_client_order_id: str
    new_order: OrderRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    """`session_id`: the session whose client order id it is; None: the caller's own order, or
    for a session that sees its account's orders, the one order carrying the id."""

    client_order_id: str
    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fee:
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectInfo:
    """Why an order or request was refused: our reason, our text, the venue's own text."""

    reason: ErrorReason
    text: str
    venue_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution against an order; `trade_id` is the venue's and is the de-dup key.
    `session_id` is the order's session: client order ids are per session, so with the
    account it names the order (journals fill it in from their session column on load)."""

    trade_id: str
    account: str
    session_id: str = ""
    venue: str
    symbol: str
    client_order_id: str
    venue_order_id: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Fee | None = None
    liquidity: Liquidity | None = None
    venue_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """Live state of one order as the gateway knows it (a snapshot; updates make new values).

    `request` is the original request; `qty`, `price`, `stop_price` are the current (possibly
    amended) values, and so are `trailing_offset` / `limit_offset` once amended (None: the
    request's). `version` counts state changes and makes exec ids unique.
    """

    account: str
    session_id: str
    request: OrderRequest
    venue: str
    status: OrdStatus
    qty: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    display_qty: Decimal | None = None
    trailing_offset: Decimal | None = None  # amended trailing offset (unit: the request's)
    limit_offset: Decimal | None = None  # amended limit offset (unit: the request's)
    cum_qty: Decimal = ZERO
    avg_px: Decimal = ZERO
    venue_order_id: str | None = None
    orig_client_order_id: str | None = None  # set on the new order of a cancel/replace
    fills: tuple[Fill, ...] = ()
    fees: tuple[Fee, ...] = ()  # total fees paid, one entry per asset
    reject: RejectInfo | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0
    # The client order id the venue knows the order by, scoped to its session
    # (core/venue_ids.py) and journaled with the order from its first (PENDING_NEW) record.
    # None for orders journaled before client ids were scoped per session: the venue knows
    # those by `client_order_id` itself.
    venue_client_order_id: str | None = None

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def id_at_venue(self) -> str:
        """The client order id the venue was sent for this order (and echoes back)."""
        return self.venue_client_order_id or self.request.client_order_id

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def side(self) -> Side:
        return self.request.side

    @property
    def leaves_qty(self) -> Decimal:
        if self.status in TERMINAL_STATUSES:
            return ZERO
        return max(self.qty - self.cum_qty, ZERO)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """One entry of a session's sequenced execution stream (FIX 35=8 semantics).

    `sequence` is the owning session's sequence number, `account_sequence` the account-wide one
    (drop copy resumes on it); both are 0 until the journal assigns them. `exec_id` is unique
    and stable across replays and restarts.
    """

    sequence: int = 0
    account_sequence: int = 0
    session_id: str
    account: str
    exec_id: str
    exec_type: ExecType
    ord_status: OrdStatus
    client_order_id: str
    orig_client_order_id: str | None = None
    venue_order_id: str | None = None
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    order_qty: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    cum_qty: Decimal = ZERO
    leaves_qty: Decimal = ZERO
    avg_px: Decimal = ZERO
    last_qty: Decimal = ZERO
    last_px: Decimal = ZERO
    trade_id: str | None = None
    fee: Fee | None = None
    liquidity: Liquidity | None = None
    reject: RejectInfo | None = None
    text: str = ""  # free text, e.g. the venue's cancel reason
    venue_time: datetime | None = None
    gateway_time: datetime
    poss_resend: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    asset: str
    wallet: str = "spot"
    total: Decimal
    available: Decimal
    held: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A derivatives position; `qty` is signed (long > 0, short < 0), in contracts."""

    venue: str
    symbol: str
    qty: Decimal
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal | None = None
    liquidation_price: Decimal | None = None
    leverage: Decimal | None = None
    margin: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Subaccount:
    account_id: str
    name: str
    venue: str = ""
    # The venue's own id of the account (Kraken: what AccountTransfer takes), if configured.
    venue_account_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequest:
    """Move funds between the master account and a subaccount (either direction)."""

    asset: str
    amount: Decimal
    from_account: str
    to_account: str
    client_transfer_id: str = ""
    venue: str = ""  # empty: the account's only venue with account data


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    transfer_id: str
    asset: str
    amount: Decimal
    from_account: str
    to_account: str
    status: TransferStatus
    time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    venue: str
    symbol: str
    bid: Decimal | None = None
    bid_qty: Decimal | None = None
    ask: Decimal | None = None
    ask_qty: Decimal | None = None
    last: Decimal | None = None
    last_qty: Decimal | None = None  # size of the last trade
    open_24h: Decimal | None = None  # price 24 hours ago
    volume_24h: Decimal | None = None
    vwap_24h: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    funding_rate: Decimal | None = None
    open_interest: Decimal | None = None  # derivatives: open contracts
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    qty: Decimal  # 0 in an update deletes the level


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot:
    venue: str
    symbol: str
    bids: tuple[BookLevel, ...]  # best first
    asks: tuple[BookLevel, ...]  # best first
    sequence: int = 0
    checksum: int | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BookUpdate:
    venue: str
    symbol: str
    bids: tuple[BookLevel, ...] = field(default=())
    asks: tuple[BookLevel, ...] = field(default=())
    sequence: int = 0
    checksum: int | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    venue: str
    symbol: str
    trade_id: str
    side: Side
    price: Decimal
    qty: Decimal
    time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RateBudget:
    """One venue rate budget of an account's key, as the gateway's rate governor models it.

    `name` is the venue's budget kind (e.g. `spot_rest`, `spot_trading`); `symbol` is set for
    per-instrument budgets. `limit` is the ceiling the governor enforces and `used` the modelled
    counter now (fractional: counters decay continuously). `retry_after_s` is set while the
    budget refuses new calls: seconds until the next call would pass without waiting.
    """

    name: str
    venue: str
    symbol: str | None = None
    limit: Decimal
    used: Decimal
    decay_per_second: Decimal
    retry_after_s: float | None = None
    time: datetime | None = None

    @property
    def headroom(self) -> Decimal:
        """`limit - used`, never below zero."""
        return max(ZERO, self.limit - self.used)
