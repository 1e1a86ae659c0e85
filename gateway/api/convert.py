"""proto <-> core conversion, in one place.

Inbound (proto -> core) does the syntactic checks that need the wire form: decimal strings
(plain `123.45` only: no exponent, NaN, infinity or float text), string lengths, required fields,
known enum values. Each failure is an InvalidArgument with a specific reason and the field name
in its metadata, raised before anything reaches the core or a venue. Semantic rules (tick, lot,
min qty, positive qty, known symbol) are the core's.

Outbound decimals are written in plain notation (`format(d, "f")`); None becomes "".
Core enum member names equal the proto value names without their `<ENUM>_` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2

from gateway.core import model as m
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.orders import trade_exec_id
from gateway.core.risk import RiskLimits
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

E = TypeVar("E", bound=Enum)

# Bounds on client-supplied strings: enough for every real use, small enough that a hostile
# client cannot make the journal or logs grow without limit.
MAX_CLIENT_ORDER_ID = 64
MAX_SYMBOL = 48
MAX_VENUE = 32
MAX_DECIMAL = 40
MAX_TEXT = 256
MAX_ID = 128

_DECIMAL_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_CLIENT_ID_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


# -- inbound helpers ----------------------------------------------------------------------------


def _invalid(field: str, reason: ErrorReason, message: str) -> InvalidArgument:
    return InvalidArgument(f"{field}: {message}", reason, metadata={"field": field})


def text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise _invalid(field, ErrorReason.FIELD_TOO_LONG, f"longer than {limit} characters")
    return value


def required(value: str, field: str, limit: int) -> str:
    if not value:
        raise _invalid(field, ErrorReason.MISSING_FIELD, "is required")
    return text(value, field, limit)


def decimal(value: str, field: str) -> Decimal | None:
    """A decimal string, or None for "" (not set)."""
    if not value:
        return None
    text(value, field, MAX_DECIMAL)
    if not _DECIMAL_RE.fullmatch(value):
        raise _invalid(field, ErrorReason.INVALID_DECIMAL, "is not a plain decimal string")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        raise _invalid(field, ErrorReason.INVALID_DECIMAL, "is not a decimal") from None


def client_order_id(value: str, field: str = "client_order_id") -> str:
    required(value, field, MAX_CLIENT_ORDER_ID)
    if not _CLIENT_ID_RE.fullmatch(value):
        raise _invalid(
            field, ErrorReason.INVALID_CLIENT_ORDER_ID, "must be printable ASCII without spaces"
        )
    return value


def _enum_in(core: type[E], wrapper: Any, prefix: str, value: int, field: str) -> E | None:
    """A proto enum value -> core enum; UNSPECIFIED -> None; unknown numbers are refused."""
    try:
        name: str = wrapper.Name(value)
    except ValueError:
        raise _invalid(field, ErrorReason.INVALID_FIELD, f"unknown value {value}") from None
    short = name.removeprefix(prefix)
    if short == "UNSPECIFIED":
        return None
    return core[short]


# Each core enum member maps to one proto value; cached because reports are hot.
_ENUM_OUT: dict[Enum, int] = {}


def _enum_out(wrapper: Any, prefix: str, value: Enum | None) -> Any:
    if value is None:
        return 0
    number = _ENUM_OUT.get(value)
    if number is None:
        number = _ENUM_OUT[value] = wrapper.Value(f"{prefix}{value.name}")
    return number


_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z, the protobuf Timestamp limit


def time_in(ts: timestamp_pb2.Timestamp, present: bool, field: str) -> datetime | None:
    if not present:
        return None
    if not (0 <= ts.seconds <= _MAX_SECONDS and 0 <= ts.nanos <= 999_999_999):
        raise _invalid(field, ErrorReason.INVALID_FIELD, "timestamp out of range")
    return ts.ToDatetime(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_out(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    # Exact integer arithmetic, ~2x faster than Timestamp.FromDatetime on the report hot path.
    delta = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def duration_out(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def dec(value: Decimal | None) -> str:
    if value is None:
        return ""
    # str() is ~3x cheaper than format(value, "f") and gives the same text unless it chose
    # scientific notation (always with an "E"): only then pay for the plain form.
    text = str(value)
    return text if "E" not in text else format(value, "f")


def symbol_in(instrument: common_pb2.InstrumentId, field: str = "instrument") -> tuple[str, str]:
    """(venue, symbol) of a required instrument id."""
    symbol = required(instrument.symbol, f"{field}.symbol", MAX_SYMBOL)
    venue = text(instrument.venue, f"{field}.venue", MAX_VENUE)
    return venue, symbol


@dataclass(frozen=True, slots=True)
class InstrumentFilter:
    """An optional instrument filter: each part given (venue, symbol) must match; None: any."""

    venue: str | None = None
    symbol: str | None = None

    def venue_matches(self, venue: str) -> bool:
        return self.venue is None or venue == self.venue


def instrument_filter(instrument: common_pb2.InstrumentId, present: bool) -> InstrumentFilter:
    if not present:
        return InstrumentFilter()
    venue = text(instrument.venue, "instrument.venue", MAX_VENUE)
    symbol = text(instrument.symbol, "instrument.symbol", MAX_SYMBOL)
    return InstrumentFilter(venue or None, symbol or None)


# -- orders in ------------------------------------------------------------------------------------


def order_request(spec: orders_pb2.OrderSpec, field: str = "order") -> m.OrderRequest:
    f = f"{field}."
    venue, symbol = symbol_in(spec.instrument, f"{f}instrument")
    side = _enum_in(m.Side, common_pb2.Side, "SIDE_", spec.side, f"{f}side")
    if side is None:
        raise _invalid(f"{f}side", ErrorReason.MISSING_FIELD, "is required")
    order_type = _enum_in(
        m.OrderType, common_pb2.OrderType, "ORDER_TYPE_", spec.order_type, f"{f}order_type"
    )
    if order_type is None:
        raise _invalid(f"{f}order_type", ErrorReason.MISSING_FIELD, "is required")
    qty = decimal(spec.order_qty, f"{f}order_qty")
    quote_qty = decimal(spec.cash_order_qty, f"{f}cash_order_qty")
    if (qty is None) == (quote_qty is None):
        raise _invalid(
            f"{f}order_qty",
            ErrorReason.MISSING_FIELD,
            "exactly one of order_qty and cash_order_qty is required",
        )
    tif = _enum_in(
        m.TimeInForce, common_pb2.TimeInForce, "TIME_IN_FORCE_", spec.time_in_force, f"{f}tif"
    )
    return m.OrderRequest(
        client_order_id=client_order_id(spec.client_order_id, f"{f}client_order_id"),
        symbol=symbol,
        venue=venue,
        side=side,
        order_type=order_type,
        qty=qty,
        quote_qty=quote_qty,
        price=decimal(spec.price, f"{f}price"),
        stop_price=decimal(spec.stop_price, f"{f}stop_price"),
        trailing_offset=decimal(spec.trailing_offset, f"{f}trailing_offset"),
        trailing_offset_unit=_enum_in(
            m.OffsetUnit,
            common_pb2.OffsetUnit,
            "OFFSET_UNIT_",
            spec.trailing_offset_unit,
            f"{f}trailing_offset_unit",
        )
        or m.OffsetUnit.ABSOLUTE,
        limit_offset=decimal(spec.limit_offset, f"{f}limit_offset"),
        limit_offset_unit=_enum_in(
            m.OffsetUnit,
            common_pb2.OffsetUnit,
            "OFFSET_UNIT_",
            spec.limit_offset_unit,
            f"{f}limit_offset_unit",
        )
        or m.OffsetUnit.ABSOLUTE,
        time_in_force=tif or m.TimeInForce.GTC,
        expire_time=time_in(spec.expire_time, spec.HasField("expire_time"), f"{f}expire_time"),
        start_time=time_in(spec.start_time, spec.HasField("start_time"), f"{f}start_time"),
        post_only=spec.post_only,
        reduce_only=spec.reduce_only,
        display_qty=decimal(spec.display_qty, f"{f}display_qty"),
        trigger_reference=_enum_in(
            m.TriggerReference,
            common_pb2.TriggerReference,
            "TRIGGER_REFERENCE_",
            spec.trigger_reference,
            f"{f}trigger_reference",
        ),
        leverage=decimal(spec.leverage, f"{f}leverage"),
        self_trade_prevention=_enum_in(
            m.SelfTradePrevention,
            common_pb2.SelfTradePrevention,
            "SELF_TRADE_PREVENTION_",
            spec.self_trade_prevention,
            f"{f}self_trade_prevention",
        ),
        deadline=time_in(spec.deadline, spec.HasField("deadline"), f"{f}deadline"),
        validate_only=spec.validate_only,
        fee_currency=_enum_in(
            m.FeeCurrency,
            common_pb2.FeeCurrency,
            "FEE_CURRENCY_",
            spec.fee_currency,
            f"{f}fee_currency",
        ),
        text=text(spec.text, f"{f}text"),
    )


def ord_status_in(value: int, field: str) -> m.OrdStatus:
    status = _enum_in(m.OrdStatus, orders_pb2.OrdStatus, "ORD_STATUS_", value, field)
    if status is None:
        raise _invalid(field, ErrorReason.INVALID_FIELD, "ORD_STATUS_UNSPECIFIED is not a status")
    return status


def amend_request(
    req: orders_pb2.AmendOrderRequest, client_id: str, session_id: str | None = None
) -> m.AmendRequest:
    return m.AmendRequest(
        client_order_id=client_id,
        session_id=session_id,
        qty=decimal(req.order_qty, "order_qty"),
        price=decimal(req.price, "price"),
        stop_price=decimal(req.stop_price, "stop_price"),
        display_qty=decimal(req.display_qty, "display_qty"),
        trailing_offset=decimal(req.trailing_offset, "trailing_offset"),
        limit_offset=decimal(req.limit_offset, "limit_offset"),
        post_only=req.post_only if req.HasField("post_only") else None,
        deadline=time_in(req.deadline, req.HasField("deadline"), "deadline"),
    )


def order_ref(client_id: str, venue_id: str) -> tuple[str, str]:
    """(client_order_id, venue_order_id) of a request naming an order by exactly one of them."""
    if bool(client_id) == bool(venue_id):
        raise _invalid(
            "client_order_id",
            ErrorReason.MISSING_FIELD,
            "exactly one of client_order_id and venue_order_id is required",
        )
    if client_id:
        return client_order_id(client_id), ""
    return "", text(venue_id, "venue_order_id", MAX_ID)


def transfer_request(req: accounts_pb2.TransferFundsRequest) -> m.TransferRequest:
    amount = decimal(req.amount, "amount")
    if amount is None:
        raise _invalid("amount", ErrorReason.MISSING_FIELD, "is required")
    if amount <= 0:
        raise _invalid("amount", ErrorReason.NON_POSITIVE_QUANTITY, "must be positive")
    return m.TransferRequest(
        asset=required(req.asset, "asset", MAX_SYMBOL),
        amount=amount,
        from_account=required(req.from_account, "from_account", MAX_ID),
        to_account=required(req.to_account, "to_account", MAX_ID),
        client_transfer_id=text(req.client_transfer_id, "client_transfer_id", MAX_ID),
    )


# -- out ------------------------------------------------------------------------------------------


def instrument_id(venue: str, symbol: str) -> common_pb2.InstrumentId:
    return common_pb2.InstrumentId(venue=venue, symbol=symbol)


def _fee(fee: m.Fee | None) -> common_pb2.Fee | None:
    return None if fee is None else common_pb2.Fee(asset=fee.asset, amount=dec(fee.amount))


def _reject(reject: m.RejectInfo | None) -> errors_pb2.RejectReason | None:
    if reject is None:
        return None
    return errors_pb2.RejectReason(
        code=errors_pb2.ErrorReason.Value(f"ERROR_REASON_{reject.reason.name}"),
        text=reject.text,
        venue_text=reject.venue_text,
    )


def _amended(current: Decimal | None, original: Decimal | None) -> Decimal | None:
    return current if current is not None else original


def order_spec(r: m.OrderRequest, o: m.Order | None = None) -> orders_pb2.OrderSpec:
    """The spec of an order: the request, with the current (amended) terms when `o` is given."""
    spec = orders_pb2.OrderSpec(
        client_order_id=r.client_order_id,
        instrument=instrument_id(o.venue if o else r.venue, r.symbol),
        side=_enum_out(common_pb2.Side, "SIDE_", r.side),
        order_type=_enum_out(common_pb2.OrderType, "ORDER_TYPE_", r.order_type),
        time_in_force=_enum_out(common_pb2.TimeInForce, "TIME_IN_FORCE_", r.time_in_force),
        order_qty=dec(o.qty if o else r.qty) if r.quote_qty is None else dec(r.qty),
        cash_order_qty=dec(r.quote_qty),
        price=dec(o.price if o else r.price),
        stop_price=dec(o.stop_price if o else r.stop_price),
        trigger_reference=_enum_out(
            common_pb2.TriggerReference, "TRIGGER_REFERENCE_", r.trigger_reference
        ),
        trailing_offset=dec(_amended(o.trailing_offset if o else None, r.trailing_offset)),
        trailing_offset_unit=_enum_out(
            common_pb2.OffsetUnit, "OFFSET_UNIT_", r.trailing_offset_unit
        ),
        limit_offset=dec(_amended(o.limit_offset if o else None, r.limit_offset)),
        limit_offset_unit=_enum_out(common_pb2.OffsetUnit, "OFFSET_UNIT_", r.limit_offset_unit),
        display_qty=dec(o.display_qty if o else r.display_qty),
        post_only=r.post_only,
        reduce_only=r.reduce_only,
        leverage=dec(r.leverage),
        self_trade_prevention=_enum_out(
            common_pb2.SelfTradePrevention, "SELF_TRADE_PREVENTION_", r.self_trade_prevention
        ),
        start_time=time_out(r.start_time),
        expire_time=time_out(r.expire_time),
        deadline=time_out(r.deadline),
        validate_only=r.validate_only,
        fee_currency=_enum_out(common_pb2.FeeCurrency, "FEE_CURRENCY_", r.fee_currency),
        text=r.text,
    )
    return spec


def order(o: m.Order, last_sequence: int = 0) -> orders_pb2.Order:
    return orders_pb2.Order(
        spec=order_spec(o.request, o),
        orig_client_order_id=o.orig_client_order_id or "",
        venue_order_id=o.venue_order_id or "",
        ord_status=_enum_out(orders_pb2.OrdStatus, "ORD_STATUS_", o.status),
        cum_qty=dec(o.cum_qty),
        leaves_qty=dec(o.leaves_qty),
        avg_px=dec(o.avg_px),
        fees=[f for f in (_fee(x) for x in o.fees) if f is not None],
        reject_reason=_reject(o.reject),
        created_time=time_out(o.created_at),
        updated_time=time_out(o.updated_at),
        last_sequence=last_sequence,
        account=o.account,
        session_id=o.session_id,
    )


def _enum_table(core: type[Enum], wrapper: Any, prefix: str) -> dict[str, int]:
    """Core member name -> proto number, for the members the proto enum has. Keyed by name
    because hashing an Enum member runs `Enum.__hash__` in Python; a str hashes in C."""
    known = set(wrapper.keys())
    return {
        member._name_: wrapper.Value(f"{prefix}{member._name_}")
        for member in core
        if f"{prefix}{member._name_}" in known
    }


_EXEC_TYPES = _enum_table(m.ExecType, executions_pb2.ExecType, "EXEC_TYPE_")
_ORD_STATUSES = _enum_table(m.OrdStatus, orders_pb2.OrdStatus, "ORD_STATUS_")
_SIDES = _enum_table(m.Side, common_pb2.Side, "SIDE_")
_ORDER_TYPES = _enum_table(m.OrderType, common_pb2.OrderType, "ORDER_TYPE_")
_TIFS = _enum_table(m.TimeInForce, common_pb2.TimeInForce, "TIME_IN_FORCE_")
_LIQUIDITIES = _enum_table(m.Liquidity, common_pb2.Liquidity, "LIQUIDITY_")


def _time_fields(value: datetime | None) -> dict[str, int] | None:
    """`time_out` as the field dict of a Timestamp (see `_report_fields`)."""
    if value is None:
        return None
    delta = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    return {
        "seconds": delta.days * 86400 + delta.seconds,
        "nanos": delta.microseconds * 1000,
    }


def _report_fields(r: m.ExecutionReport) -> dict[str, Any]:
    """The fields of an ExecutionReport message, submessages as field dicts.

    This is the hot path of every execution stream. Protobuf message constructors accept a
    dict for a message field and build the submessage in place; building Timestamp, Fee and
    InstrumentId messages first and passing them in costs a construction plus a copy each.
    """
    fee = r.fee
    liquidity = r.liquidity
    return {
        "sequence": r.sequence,
        "account_sequence": r.account_sequence,
        "session_id": r.session_id,
        "account": r.account,
        "exec_id": r.exec_id,
        "exec_type": _EXEC_TYPES[r.exec_type._name_],
        "ord_status": _ORD_STATUSES[r.ord_status._name_],
        "client_order_id": r.client_order_id,
        "orig_client_order_id": r.orig_client_order_id or "",
        "venue_order_id": r.venue_order_id or "",
        "instrument": {"venue": r.venue, "symbol": r.symbol},
        "side": _SIDES[r.side._name_],
        "order_type": _ORDER_TYPES[r.order_type._name_],
        "time_in_force": _TIFS[r.time_in_force._name_],
        "order_qty": dec(r.order_qty),
        "price": dec(r.price),
        "stop_price": dec(r.stop_price),
        "cum_qty": dec(r.cum_qty),
        "leaves_qty": dec(r.leaves_qty),
        "avg_px": dec(r.avg_px),
        "last_qty": dec(r.last_qty),
        "last_px": dec(r.last_px),
        "fee": None if fee is None else {"asset": fee.asset, "amount": dec(fee.amount)},
        "liquidity": 0 if liquidity is None else _LIQUIDITIES[liquidity._name_],
        "reject_reason": _reject(r.reject),
        "venue_time": _time_fields(r.venue_time),
        "gateway_time": _time_fields(r.gateway_time),
        "poss_resend": r.poss_resend,
        "trade_id": r.trade_id or "",
        "text": r.text,
    }


def execution_report(r: m.ExecutionReport) -> executions_pb2.ExecutionReport:
    return executions_pb2.ExecutionReport(**_report_fields(r))


def execution_response(r: m.ExecutionReport) -> executions_pb2.StreamExecutionsResponse:
    """`execution_report(r)` wrapped in a stream response, built in one step (no copy)."""
    fields: dict[str, Any] = {"execution_report": _report_fields(r)}
    return executions_pb2.StreamExecutionsResponse(**fields)


def execution_batch_response(
    reports: Sequence[m.ExecutionReport],
) -> executions_pb2.StreamExecutionsResponse:
    """The reports as one `execution_reports` batch message, built in one constructor call
    from field dicts (no per-report message and copy)."""
    fields: dict[str, Any] = {
        "execution_reports": {"reports": [_report_fields(r) for r in reports]}
    }
    return executions_pb2.StreamExecutionsResponse(**fields)


def fill(f: m.Fill) -> executions_pb2.Fill:
    return executions_pb2.Fill(
        trade_id=f.trade_id,
        exec_id=trade_exec_id(f.account, f.venue, f.trade_id),
        client_order_id=f.client_order_id,
        venue_order_id=f.venue_order_id,
        instrument=instrument_id(f.venue, f.symbol),
        side=_enum_out(common_pb2.Side, "SIDE_", f.side),
        qty=dec(f.qty),
        price=dec(f.price),
        fee=_fee(f.fee),
        liquidity=_enum_out(common_pb2.Liquidity, "LIQUIDITY_", f.liquidity),
        venue_time=time_out(f.venue_time),
        account=f.account,
        session_id=f.session_id,
    )


def instrument(i: m.Instrument) -> instruments_pb2.Instrument:
    return instruments_pb2.Instrument(
        id=instrument_id(i.venue, i.symbol),
        venue_symbol=i.venue_symbol,
        product_type=_enum_out(instruments_pb2.ProductType, "PRODUCT_TYPE_", i.product_type),
        base=i.base,
        quote=i.quote,
        settle=i.settle or "",
        tick_size=dec(i.tick_size),
        lot_size=dec(i.lot_size),
        min_qty=dec(i.min_qty),
        min_cost=dec(i.min_cost),
        contract_size=dec(i.contract_size),
        status=_enum_out(instruments_pb2.InstrumentStatus, "INSTRUMENT_STATUS_", i.status),
        expiry_time=time_out(i.expiry),
        max_leverage=dec(i.max_leverage),
    )


def balance(b: m.Balance) -> accounts_pb2.Balance:
    return accounts_pb2.Balance(
        asset=b.asset,
        wallet=b.wallet,
        available=dec(b.available),
        held=dec(b.held),
        total=dec(b.total),
    )


def position(p: m.Position, account: str) -> accounts_pb2.Position:
    return accounts_pb2.Position(
        instrument=instrument_id(p.venue, p.symbol),
        qty=dec(p.qty),
        entry_price=dec(p.entry_price),
        mark_price=dec(p.mark_price),
        liquidation_price=dec(p.liquidation_price),
        unrealized_pnl=dec(p.unrealized_pnl),
        realized_pnl=dec(p.realized_pnl),
        leverage=dec(p.leverage),
        margin=dec(p.margin),
        account=account,
    )


def subaccount(s: m.Subaccount) -> accounts_pb2.Subaccount:
    return accounts_pb2.Subaccount(
        account_id=s.account_id, name=s.name, venue=s.venue, venue_account_id=s.venue_account_id
    )


def transfer(t: m.Transfer, client_transfer_id: str) -> accounts_pb2.Transfer:
    return accounts_pb2.Transfer(
        transfer_id=t.transfer_id,
        client_transfer_id=client_transfer_id,
        asset=t.asset,
        amount=dec(t.amount),
        from_account=t.from_account,
        to_account=t.to_account,
        status=_enum_out(accounts_pb2.TransferStatus, "TRANSFER_STATUS_", t.status),
        time=time_out(t.time),
    )


def risk_limits(limits: RiskLimits, kill_switch: m.KillSwitch | None) -> accounts_pb2.RiskLimits:
    return accounts_pb2.RiskLimits(
        max_order_qty=dec(limits.max_order_qty),
        max_notional=dec(limits.max_notional),
        price_band_percent=dec(limits.price_band_pct),
        max_open_orders=limits.max_open_orders or 0,
        kill_switch_engaged=kill_switch is not None,
        kill_switch_reason=kill_switch.reason if kill_switch else "",
        kill_switch_engaged_by=kill_switch.engaged_by if kill_switch else "",
        kill_switch_engaged_time=time_out(kill_switch.engaged_at) if kill_switch else None,
        allow_no_reference_price=limits.allow_no_reference_price,
        reference_max_age=duration_out(limits.reference_max_age_s),
        reference_wait=duration_out(limits.reference_wait_s),
    )


def ticker(t: m.Ticker) -> market_data_pb2.Ticker:
    return market_data_pb2.Ticker(
        instrument=instrument_id(t.venue, t.symbol),
        bid=dec(t.bid),
        bid_qty=dec(t.bid_qty),
        ask=dec(t.ask),
        ask_qty=dec(t.ask_qty),
        last=dec(t.last),
        last_qty=dec(t.last_qty),
        open_24h=dec(t.open_24h),
        high_24h=dec(t.high_24h),
        low_24h=dec(t.low_24h),
        volume_24h=dec(t.volume_24h),
        vwap_24h=dec(t.vwap_24h),
        mark_price=dec(t.mark_price),
        index_price=dec(t.index_price),
        funding_rate=dec(t.funding_rate),
        open_interest=dec(t.open_interest),
        time=time_out(t.time),
    )


def _levels(levels: Iterable[m.BookLevel]) -> list[market_data_pb2.PriceLevel]:
    return [market_data_pb2.PriceLevel(price=dec(x.price), qty=dec(x.qty)) for x in levels]


def book(b: m.BookSnapshot | m.BookUpdate, sequence: int) -> market_data_pb2.StreamBookResponse:
    return market_data_pb2.StreamBookResponse(
        instrument=instrument_id(b.venue, b.symbol),
        snapshot=isinstance(b, m.BookSnapshot),
        bids=_levels(b.bids),
        asks=_levels(b.asks),
        checksum=b.checksum or 0,
        # Ports only emit checksum-verified books (MarketDataPort contract).
        checksum_verified=b.checksum is not None,
        sequence=sequence,
        time=time_out(b.time),
    )


def public_trade(t: m.PublicTrade) -> market_data_pb2.PublicTrade:
    return market_data_pb2.PublicTrade(
        trade_id=t.trade_id,
        instrument=instrument_id(t.venue, t.symbol),
        price=dec(t.price),
        qty=dec(t.qty),
        aggressor_side=_enum_out(common_pb2.Side, "SIDE_", t.side),
        time=time_out(t.time),
    )


def permission(p: m.Permission) -> Any:
    return sessions_pb2.Permission.Value(f"PERMISSION_{p.name}")


def rate_budget(b: m.RateBudget) -> accounts_pb2.RateBudget:
    return accounts_pb2.RateBudget(
        name=b.name,
        instrument=instrument_id(b.venue, b.symbol) if b.symbol is not None else None,
        limit=dec(b.limit),
        used=dec(b.used),
        headroom=dec(b.headroom),
        decay_per_second=dec(b.decay_per_second),
        updated_time=time_out(b.time),
    )


def retry_after(budgets: Iterable[m.RateBudget]) -> duration_pb2.Duration | None:
    """The longest retry delay of the budgets now refusing calls; None when none refuses."""
    delays = [b.retry_after_s for b in budgets if b.retry_after_s is not None]
    return duration_out(max(delays)) if delays else None
