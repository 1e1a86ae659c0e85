"""Typed, Decimal-valued views of the contract's messages, as the client returns them.

Each view keeps the original message in `raw` (excluded from repr and equality) for fields a
caller may need that the view does not lift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from google.protobuf.message import Message

from krakengw.decimals import from_wire, from_wire_or_zero
from krakengw.enums import (
    ExecType,
    InstrumentStatus,
    Liquidity,
    OrderType,
    OrdStatus,
    Permission,
    ProductType,
    Side,
    TimeInForce,
    TransferStatus,
    from_proto,
)
from krakengw.v1 import (
    accounts_pb2,
    common_pb2,
    errors_pb2,
    executions_pb2,
    instruments_pb2,
    market_data_pb2,
    orders_pb2,
    sessions_pb2,
)

__all__ = [
    "Balance",
    "BookLevel",
    "BookUpdate",
    "ExecutionReport",
    "Fee",
    "Fill",
    "Heartbeat",
    "Instrument",
    "Limits",
    "Order",
    "Position",
    "PublicTrade",
    "RateBudget",
    "Reject",
    "RiskLimits",
    "SessionInfo",
    "Subaccount",
    "Ticker",
    "Transfer",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(message: Message, name: str) -> datetime | None:
    if not message.HasField(name):
        return None
    stamp = getattr(message, name)
    # What Timestamp.ToDatetime(tzinfo=UTC) gives (nanos are 0..999_999_999, truncated to
    # microseconds), by integer arithmetic: ~4x cheaper, and every report carries two.
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)


def _duration(message: Message, name: str) -> timedelta | None:
    if not message.HasField(name):
        return None
    delta: timedelta = getattr(message, name).ToTimedelta()
    return delta


@dataclass(frozen=True, slots=True)
class Fee:
    asset: str
    amount: Decimal

    @classmethod
    def from_proto(cls, msg: common_pb2.Fee) -> Fee:
        return cls(msg.asset, from_wire_or_zero(msg.amount))

    @classmethod
    def optional(cls, parent: Message, name: str) -> Fee | None:
        return cls.from_proto(getattr(parent, name)) if parent.HasField(name) else None


@dataclass(frozen=True, slots=True)
class Reject:
    """Why an order was rejected: `reason` is the ErrorReason name without its prefix."""

    reason: str
    text: str
    venue_text: str

    @classmethod
    def optional(cls, parent: Message, name: str) -> Reject | None:
        if not parent.HasField(name):
            return None
        msg: errors_pb2.RejectReason = getattr(parent, name)
        known = errors_pb2.ErrorReason.DESCRIPTOR.values_by_number.get(msg.code)
        # A reason newer than this client keeps its number rather than failing the report.
        reason = known.name.removeprefix("ERROR_REASON_") if known else str(msg.code)
        return cls(reason, msg.text, msg.venue_text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    client_order_id: str
    venue: str
    symbol: str
    side: Side | None
    order_type: OrderType | None
    time_in_force: TimeInForce | None
    order_qty: Decimal | None
    cash_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    # Trailing orders: the current offsets (amendable), in the units the order was placed with.
    trailing_offset: Decimal | None = None
    limit_offset: Decimal | None = None
    ord_status: OrdStatus | None
    venue_order_id: str
    orig_client_order_id: str
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal | None
    fees: tuple[Fee, ...]
    reject: Reject | None
    created_time: datetime | None
    updated_time: datetime | None
    last_sequence: int  # always 0 (deprecated in the contract): resume from Logon's or the stream's
    account: str
    session_id: str
    raw: orders_pb2.Order = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: orders_pb2.Order) -> Order:
        spec = msg.spec
        return cls(
            client_order_id=spec.client_order_id,
            venue=spec.instrument.venue,
            symbol=spec.instrument.symbol,
            side=from_proto(Side, spec.side),
            order_type=from_proto(OrderType, spec.order_type),
            time_in_force=from_proto(TimeInForce, spec.time_in_force),
            order_qty=from_wire(spec.order_qty),
            cash_order_qty=from_wire(spec.cash_order_qty),
            price=from_wire(spec.price),
            stop_price=from_wire(spec.stop_price),
            trailing_offset=from_wire(spec.trailing_offset),
            limit_offset=from_wire(spec.limit_offset),
            ord_status=from_proto(OrdStatus, msg.ord_status),
            venue_order_id=msg.venue_order_id,
            orig_client_order_id=msg.orig_client_order_id,
            cum_qty=from_wire_or_zero(msg.cum_qty),
            leaves_qty=from_wire_or_zero(msg.leaves_qty),
            avg_px=from_wire(msg.avg_px),
            fees=tuple(Fee.from_proto(f) for f in msg.fees),
            reject=Reject.optional(msg, "reject_reason"),
            created_time=_time(msg, "created_time"),
            updated_time=_time(msg, "updated_time"),
            last_sequence=msg.last_sequence,
            account=msg.account,
            session_id=msg.session_id,
            raw=msg,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """FIX ExecutionReport (35=8)."""

    sequence: int
    account_sequence: int
    session_id: str
    account: str
    exec_id: str
    exec_type: ExecType | None
    ord_status: OrdStatus | None
    client_order_id: str
    orig_client_order_id: str
    venue_order_id: str
    venue: str
    symbol: str
    side: Side | None
    order_type: OrderType | None
    time_in_force: TimeInForce | None
    order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal | None
    last_qty: Decimal | None
    last_px: Decimal | None
    fee: Fee | None
    liquidity: Liquidity | None
    reject: Reject | None
    venue_time: datetime | None
    gateway_time: datetime | None
    poss_resend: bool
    trade_id: str
    text: str
    raw: executions_pb2.ExecutionReport = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: executions_pb2.ExecutionReport) -> ExecutionReport:
        return cls(
            sequence=msg.sequence,
            account_sequence=msg.account_sequence,
            session_id=msg.session_id,
            account=msg.account,
            exec_id=msg.exec_id,
            exec_type=from_proto(ExecType, msg.exec_type),
            ord_status=from_proto(OrdStatus, msg.ord_status),
            client_order_id=msg.client_order_id,
            orig_client_order_id=msg.orig_client_order_id,
            venue_order_id=msg.venue_order_id,
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            side=from_proto(Side, msg.side),
            order_type=from_proto(OrderType, msg.order_type),
            time_in_force=from_proto(TimeInForce, msg.time_in_force),
            order_qty=from_wire(msg.order_qty),
            price=from_wire(msg.price),
            stop_price=from_wire(msg.stop_price),
            cum_qty=from_wire_or_zero(msg.cum_qty),
            leaves_qty=from_wire_or_zero(msg.leaves_qty),
            avg_px=from_wire(msg.avg_px),
            last_qty=from_wire(msg.last_qty),
            last_px=from_wire(msg.last_px),
            fee=Fee.optional(msg, "fee"),
            liquidity=from_proto(Liquidity, msg.liquidity),
            reject=Reject.optional(msg, "reject_reason"),
            venue_time=_time(msg, "venue_time"),
            gateway_time=_time(msg, "gateway_time"),
            poss_resend=msg.poss_resend,
            trade_id=msg.trade_id,
            text=msg.text,
            raw=msg,
        )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    time: datetime | None
    last_sequence: int

    @classmethod
    def from_proto(cls, msg: executions_pb2.Heartbeat) -> Heartbeat:
        return cls(_time(msg, "time"), msg.last_sequence)

    @classmethod
    def from_session(cls, msg: sessions_pb2.HeartbeatResponse) -> Heartbeat:
        return cls(_time(msg, "server_time"), msg.last_sequence)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    trade_id: str
    exec_id: str
    client_order_id: str
    venue_order_id: str
    venue: str
    symbol: str
    side: Side | None
    qty: Decimal
    price: Decimal
    fee: Fee | None
    liquidity: Liquidity | None
    venue_time: datetime | None
    account: str
    # The order's session: client order ids are per session (a drop copy sees several).
    session_id: str = ""

    @classmethod
    def from_proto(cls, msg: executions_pb2.Fill) -> Fill:
        return cls(
            trade_id=msg.trade_id,
            exec_id=msg.exec_id,
            client_order_id=msg.client_order_id,
            venue_order_id=msg.venue_order_id,
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            side=from_proto(Side, msg.side),
            qty=from_wire_or_zero(msg.qty),
            price=from_wire_or_zero(msg.price),
            fee=Fee.optional(msg, "fee"),
            liquidity=from_proto(Liquidity, msg.liquidity),
            venue_time=_time(msg, "venue_time"),
            account=msg.account,
            session_id=msg.session_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    asset: str
    wallet: str
    available: Decimal
    held: Decimal
    total: Decimal
    updated_time: datetime | None

    @classmethod
    def from_proto(cls, msg: accounts_pb2.Balance) -> Balance:
        return cls(
            asset=msg.asset,
            wallet=msg.wallet,
            available=from_wire_or_zero(msg.available),
            held=from_wire_or_zero(msg.held),
            total=from_wire_or_zero(msg.total),
            updated_time=_time(msg, "updated_time"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """`qty` is signed: long > 0, short < 0."""

    venue: str
    symbol: str
    qty: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal | None
    leverage: Decimal | None
    margin: Decimal | None
    account: str
    updated_time: datetime | None

    @classmethod
    def from_proto(cls, msg: accounts_pb2.Position) -> Position:
        return cls(
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            qty=from_wire_or_zero(msg.qty),
            entry_price=from_wire(msg.entry_price),
            mark_price=from_wire(msg.mark_price),
            liquidation_price=from_wire(msg.liquidation_price),
            unrealized_pnl=from_wire(msg.unrealized_pnl),
            realized_pnl=from_wire(msg.realized_pnl),
            leverage=from_wire(msg.leverage),
            margin=from_wire(msg.margin),
            account=msg.account,
            updated_time=_time(msg, "updated_time"),
        )


@dataclass(frozen=True, slots=True)
class Subaccount:
    """A gateway account profile (what transfer_funds takes) and the venue's id of it."""

    account_id: str
    name: str
    venue: str
    venue_account_id: str = ""

    @classmethod
    def from_proto(cls, msg: accounts_pb2.Subaccount) -> Subaccount:
        return cls(msg.account_id, msg.name, msg.venue, msg.venue_account_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    transfer_id: str
    client_transfer_id: str
    asset: str
    amount: Decimal
    from_account: str
    to_account: str
    status: TransferStatus | None
    time: datetime | None

    @classmethod
    def from_proto(cls, msg: accounts_pb2.Transfer) -> Transfer:
        return cls(
            transfer_id=msg.transfer_id,
            client_transfer_id=msg.client_transfer_id,
            asset=msg.asset,
            amount=from_wire_or_zero(msg.amount),
            from_account=msg.from_account,
            to_account=msg.to_account,
            status=from_proto(TransferStatus, msg.status),
            time=_time(msg, "time"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateBudget:
    """One venue rate budget as the gateway's governor models it (GetLimits, Logon).

    `venue`/`symbol` are set on per-instrument budgets (e.g. `spot_trading` per pair) and empty
    otherwise (e.g. `spot_rest`). `headroom` = `limit - used` (never below zero).
    """

    name: str
    venue: str
    symbol: str
    limit: Decimal | None
    used: Decimal | None
    headroom: Decimal | None
    decay_per_second: Decimal | None
    updated_time: datetime | None = None

    @classmethod
    def from_proto(cls, msg: accounts_pb2.RateBudget) -> RateBudget:
        return cls(
            name=msg.name,
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            limit=from_wire(msg.limit),
            used=from_wire(msg.used),
            headroom=from_wire(msg.headroom),
            decay_per_second=from_wire(msg.decay_per_second),
            updated_time=_time(msg, "updated_time"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """None / 0 means unlimited. While the kill switch is engaged: its reason, the session
    that engaged it and when. `allow_no_reference_price`: orders that need a market reference
    price go through without one (instead of RISK_NO_REFERENCE_PRICE). `reference_max_age`: how
    old a market reference price may be before it counts as none; `reference_wait`: how long the
    first order of a symbol waits for one (None from a gateway that does not say)."""

    max_order_qty: Decimal | None
    max_notional: Decimal | None
    price_band_percent: Decimal | None
    max_open_orders: int
    kill_switch_engaged: bool
    kill_switch_reason: str = ""
    kill_switch_engaged_by: str = ""
    kill_switch_engaged_time: datetime | None = None
    allow_no_reference_price: bool = False
    reference_max_age: timedelta | None = None
    reference_wait: timedelta | None = None

    @classmethod
    def from_proto(cls, msg: accounts_pb2.RiskLimits) -> RiskLimits:
        return cls(
            max_order_qty=from_wire(msg.max_order_qty),
            max_notional=from_wire(msg.max_notional),
            price_band_percent=from_wire(msg.price_band_percent),
            max_open_orders=msg.max_open_orders,
            kill_switch_engaged=msg.kill_switch_engaged,
            kill_switch_reason=msg.kill_switch_reason,
            kill_switch_engaged_by=msg.kill_switch_engaged_by,
            kill_switch_engaged_time=_time(msg, "kill_switch_engaged_time"),
            allow_no_reference_price=msg.allow_no_reference_price,
            reference_max_age=_duration(msg, "reference_max_age"),
            reference_wait=_duration(msg, "reference_wait"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """`retry_after` is set while the gateway's rate governor refuses calls: the longest delay
    of any refusing budget. In a fleet, `instance` names the gateway serving the account and
    `leased_key_ids` the fingerprints of the API keys it leases for it (empty otherwise).
    `venue_status` is empty while the venue is reachable and trading, otherwise says why not
    (e.g. "kraken: maintenance"). `journal_status` is empty while the gateway's journal records
    the account's orders, otherwise the journal error that stops new orders (JOURNAL_FAILURE)."""

    rate_budgets: tuple[RateBudget, ...]
    risk_limits: RiskLimits
    retry_after: timedelta | None
    instance: str = ""
    leased_key_ids: tuple[str, ...] = ()
    venue_status: str = ""
    journal_status: str = ""

    @classmethod
    def from_proto(cls, msg: accounts_pb2.GetLimitsResponse) -> Limits:
        return cls(
            rate_budgets=tuple(RateBudget.from_proto(b) for b in msg.rate_budgets),
            risk_limits=RiskLimits.from_proto(msg.risk_limits),
            retry_after=_duration(msg, "retry_after"),
            instance=msg.instance,
            leased_key_ids=tuple(msg.leased_key_ids),
            venue_status=msg.venue_status,
            journal_status=msg.journal_status,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInfo:
    """What Logon returns: who the session is, what it may do, where its stream stands, and
    in a fleet which gateway (`instance`) serves it."""

    session_id: str
    account: str
    subaccount: str
    permissions: frozenset[Permission]
    risk_limits: RiskLimits
    rate_budgets: tuple[RateBudget, ...]
    last_sequence: int
    heartbeat_interval: timedelta | None
    cancel_on_disconnect: bool
    server_time: datetime | None
    instance: str = ""
    # Empty while the venue is reachable and trading; otherwise why not.
    venue_status: str = ""

    @classmethod
    def from_proto(cls, msg: sessions_pb2.LogonResponse) -> SessionInfo:
        permissions = (from_proto(Permission, p) for p in msg.permissions)
        return cls(
            session_id=msg.session_id,
            account=msg.account,
            subaccount=msg.subaccount,
            permissions=frozenset(p for p in permissions if p is not None),
            risk_limits=RiskLimits.from_proto(msg.risk_limits),
            rate_budgets=tuple(RateBudget.from_proto(b) for b in msg.rate_budgets),
            last_sequence=msg.last_sequence,
            heartbeat_interval=_duration(msg, "heartbeat_interval"),
            cancel_on_disconnect=msg.cancel_on_disconnect,
            server_time=_time(msg, "server_time"),
            instance=msg.instance,
            venue_status=msg.venue_status,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    venue: str
    symbol: str
    venue_symbol: str
    product_type: ProductType | None
    base: str
    quote: str
    settle: str
    tick_size: Decimal | None
    lot_size: Decimal | None
    min_qty: Decimal | None
    min_cost: Decimal | None
    contract_size: Decimal | None
    status: InstrumentStatus | None
    expiry_time: datetime | None
    max_leverage: Decimal | None

    @classmethod
    def from_proto(cls, msg: instruments_pb2.Instrument) -> Instrument:
        return cls(
            venue=msg.id.venue,
            symbol=msg.id.symbol,
            venue_symbol=msg.venue_symbol,
            product_type=from_proto(ProductType, msg.product_type),
            base=msg.base,
            quote=msg.quote,
            settle=msg.settle,
            tick_size=from_wire(msg.tick_size),
            lot_size=from_wire(msg.lot_size),
            min_qty=from_wire(msg.min_qty),
            min_cost=from_wire(msg.min_cost),
            contract_size=from_wire(msg.contract_size),
            status=from_proto(InstrumentStatus, msg.status),
            expiry_time=_time(msg, "expiry_time"),
            max_leverage=from_wire(msg.max_leverage),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    venue: str
    symbol: str
    bid: Decimal | None
    bid_qty: Decimal | None
    ask: Decimal | None
    ask_qty: Decimal | None
    last: Decimal | None
    last_qty: Decimal | None
    open_24h: Decimal | None
    high_24h: Decimal | None
    low_24h: Decimal | None
    volume_24h: Decimal | None
    vwap_24h: Decimal | None
    mark_price: Decimal | None
    index_price: Decimal | None
    funding_rate: Decimal | None
    open_interest: Decimal | None
    time: datetime | None

    @classmethod
    def from_proto(cls, msg: market_data_pb2.Ticker) -> Ticker:
        return cls(
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            bid=from_wire(msg.bid),
            bid_qty=from_wire(msg.bid_qty),
            ask=from_wire(msg.ask),
            ask_qty=from_wire(msg.ask_qty),
            last=from_wire(msg.last),
            last_qty=from_wire(msg.last_qty),
            open_24h=from_wire(msg.open_24h),
            high_24h=from_wire(msg.high_24h),
            low_24h=from_wire(msg.low_24h),
            volume_24h=from_wire(msg.volume_24h),
            vwap_24h=from_wire(msg.vwap_24h),
            mark_price=from_wire(msg.mark_price),
            index_price=from_wire(msg.index_price),
            funding_rate=from_wire(msg.funding_rate),
            open_interest=from_wire(msg.open_interest),
            time=_time(msg, "time"),
        )


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    qty: Decimal  # 0 in an update removes the level


@dataclass(frozen=True, slots=True, kw_only=True)
class BookUpdate:
    venue: str
    symbol: str
    snapshot: bool
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int
    checksum_verified: bool
    sequence: int
    time: datetime | None

    @classmethod
    def from_proto(cls, msg: market_data_pb2.StreamBookResponse) -> BookUpdate:
        def levels(side: list[market_data_pb2.PriceLevel]) -> tuple[BookLevel, ...]:
            return tuple(
                BookLevel(from_wire_or_zero(lv.price), from_wire_or_zero(lv.qty)) for lv in side
            )

        return cls(
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            snapshot=msg.snapshot,
            bids=levels(list(msg.bids)),
            asks=levels(list(msg.asks)),
            checksum=msg.checksum,
            checksum_verified=msg.checksum_verified,
            sequence=msg.sequence,
            time=_time(msg, "time"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    trade_id: str
    venue: str
    symbol: str
    price: Decimal
    qty: Decimal
    aggressor_side: Side | None
    time: datetime | None

    @classmethod
    def from_proto(cls, msg: market_data_pb2.PublicTrade) -> PublicTrade:
        return cls(
            trade_id=msg.trade_id,
            venue=msg.instrument.venue,
            symbol=msg.instrument.symbol,
            price=from_wire_or_zero(msg.price),
            qty=from_wire_or_zero(msg.qty),
            aggressor_side=from_proto(Side, msg.aggressor_side),
            time=_time(msg, "time"),
        )
