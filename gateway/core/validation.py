"""Checks of a request against its instrument, before anything reaches a venue. Each failure is
an InvalidArgument with a specific reason and the offending field in metadata["field"]."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext

from gateway.core.errors import ErrorReason, FailedPrecondition, InvalidArgument, Unavailable
from gateway.core.model import (
    LIMIT_PRICE_TYPES,
    STOP_LIMIT_TYPES,
    STOP_TYPES,
    TRAILING_TYPES,
    AmendRequest,
    Instrument,
    InstrumentStatus,
    Order,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)

MAX_ID_LENGTH = 64
# How far ahead a start or expire time may lie: beyond it the time is a mistake (a year 9999
# typo), not a plan, and is refused before the venue sees it.
MAX_SCHEDULE_AHEAD = timedelta(days=365)
MAX_SYMBOL_LENGTH = 64
# Printable ASCII without spaces: ids travel through logs, URLs and venue fields.
_ID_PATTERN = re.compile(r"[\x21-\x7e]+")


def _invalid(reason: ErrorReason, field: str, message: str) -> InvalidArgument:
    return InvalidArgument(message, reason, metadata={"field": field})


def parse_decimal(text: str, field: str) -> Decimal:
    """Parse a decimal string from the wire; for the API layer. Empty, NaN, infinities,
    exponents beyond any sane range and non-numbers are INVALID_DECIMAL."""
    if len(text) > 64:
        raise _invalid(ErrorReason.INVALID_DECIMAL, field, f"{field}: decimal string too long")
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise _invalid(ErrorReason.INVALID_DECIMAL, field, f"{field}: not a decimal") from None
    check_decimal(value, field)
    return value


def check_decimal(value: Decimal, field: str) -> None:
    if not value.is_finite():
        raise _invalid(ErrorReason.INVALID_DECIMAL, field, f"{field}: must be a finite decimal")
    if abs(value.adjusted()) > 40:
        raise _invalid(ErrorReason.INVALID_DECIMAL, field, f"{field}: magnitude out of range")


def check_id(value: str, field: str) -> None:
    if not value:
        raise _invalid(ErrorReason.MISSING_FIELD, field, f"{field} is required")
    if len(value) > MAX_ID_LENGTH:
        raise _invalid(
            ErrorReason.FIELD_TOO_LONG, field, f"{field} longer than {MAX_ID_LENGTH} characters"
        )
    if not _ID_PATTERN.fullmatch(value):
        raise _invalid(
            ErrorReason.INVALID_CLIENT_ORDER_ID, field, f"{field} must be printable ASCII"
        )


def check_symbol_text(symbol: str) -> None:
    if not symbol:
        raise _invalid(ErrorReason.MISSING_FIELD, "symbol", "symbol is required")
    if len(symbol) > MAX_SYMBOL_LENGTH:
        raise _invalid(ErrorReason.FIELD_TOO_LONG, "symbol", "symbol is too long")


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    # Wide precision: check_decimal bounds magnitudes, so the quotient always fits.
    with localcontext() as ctx:
        ctx.prec = 120
        return value % step == 0


def _positive_qty(value: Decimal, field: str) -> None:
    check_decimal(value, field)
    if value <= 0:
        raise _invalid(ErrorReason.NON_POSITIVE_QUANTITY, field, f"{field} must be > 0")


def _positive_price(value: Decimal, field: str, instrument: Instrument) -> None:
    check_decimal(value, field)
    if value <= 0:
        raise _invalid(ErrorReason.NON_POSITIVE_PRICE, field, f"{field} must be > 0")
    if instrument.tick_size > 0 and not _is_multiple(value, instrument.tick_size):
        raise _invalid(
            ErrorReason.PRICE_OFF_TICK,
            field,
            f"{field} {value} is not a multiple of tick size {instrument.tick_size}",
        )


def _lot_qty(value: Decimal, field: str, instrument: Instrument) -> None:
    _positive_qty(value, field)
    if instrument.lot_size > 0 and not _is_multiple(value, instrument.lot_size):
        raise _invalid(
            ErrorReason.QTY_OFF_LOT,
            field,
            f"{field} {value} is not a multiple of lot size {instrument.lot_size}",
        )


def _min_qty_and_cost(qty: Decimal, price: Decimal | None, instrument: Instrument) -> None:
    if qty < instrument.min_qty:
        raise _invalid(
            ErrorReason.BELOW_MIN_QTY, "qty", f"qty {qty} below minimum {instrument.min_qty}"
        )
    if price is not None and instrument.min_cost > 0:
        cost = qty * price * instrument.contract_size
        if cost < instrument.min_cost:
            raise _invalid(
                ErrorReason.BELOW_MIN_COST,
                "qty",
                f"order cost {cost} below minimum {instrument.min_cost}",
            )


def check_tradable(instrument: Instrument, request: OrderRequest | None = None) -> None:
    """Refuse new orders the instrument's trading status forbids: venue states are
    Unavailable (retry later), a delisted instrument is FailedPrecondition."""
    status = instrument.status
    meta = {"symbol": instrument.symbol, "status": status.value}
    if status is InstrumentStatus.DELISTED:
        raise FailedPrecondition(
            f"{instrument.symbol} is delisted", ErrorReason.INSTRUMENT_NOT_TRADING, metadata=meta
        )
    if status is InstrumentStatus.MAINTENANCE:
        raise Unavailable(
            f"{instrument.symbol} is in maintenance", ErrorReason.VENUE_MAINTENANCE, metadata=meta
        )
    if status is InstrumentStatus.CANCEL_ONLY:
        raise Unavailable(
            f"{instrument.symbol} is cancel-only", ErrorReason.VENUE_CANCEL_ONLY, metadata=meta
        )
    if request is None:
        return
    if status is InstrumentStatus.POST_ONLY and not request.post_only:
        raise Unavailable(
            f"{instrument.symbol} accepts post-only orders only",
            ErrorReason.VENUE_POST_ONLY,
            metadata=meta,
        )
    if status is InstrumentStatus.LIMIT_ONLY and request.order_type is not OrderType.LIMIT:
        raise Unavailable(
            f"{instrument.symbol} accepts limit orders only",
            ErrorReason.INSTRUMENT_NOT_TRADING,
            metadata=meta,
        )
    if status is InstrumentStatus.REDUCE_ONLY and not request.reduce_only:
        raise Unavailable(
            f"{instrument.symbol} accepts reduce-only orders only",
            ErrorReason.INSTRUMENT_NOT_TRADING,
            metadata=meta,
        )


def validate_order(request: OrderRequest, instrument: Instrument, now: datetime) -> None:
    """Raise InvalidArgument (or FailedPrecondition for a non-trading instrument)."""
    check_id(request.client_order_id, "client_order_id")
    kind = request.order_type
    if (request.qty is None) == (request.quote_qty is None):
        raise _invalid(
            ErrorReason.MISSING_FIELD, "qty", "exactly one of qty and quote_qty is required"
        )
    if request.quote_qty is not None:
        _positive_qty(request.quote_qty, "quote_qty")
        if kind is not OrderType.MARKET or request.side is not Side.BUY:
            raise _invalid(
                ErrorReason.INVALID_FIELD, "quote_qty", "quote_qty is only for market buys"
            )
    if request.qty is not None:
        _lot_qty(request.qty, "qty", instrument)
    if kind in LIMIT_PRICE_TYPES:
        if request.price is None:
            raise _invalid(ErrorReason.MISSING_FIELD, "price", f"{kind.value} needs a price")
        _positive_price(request.price, "price", instrument)
    elif request.price is not None and kind not in TRAILING_TYPES:
        raise _invalid(ErrorReason.INVALID_FIELD, "price", f"{kind.value} takes no price")
    if kind in STOP_TYPES | STOP_LIMIT_TYPES:
        if request.stop_price is None:
            raise _invalid(
                ErrorReason.MISSING_FIELD, "stop_price", f"{kind.value} needs a stop_price"
            )
        _positive_price(request.stop_price, "stop_price", instrument)
    if kind in TRAILING_TYPES:
        if request.trailing_offset is None:
            raise _invalid(
                ErrorReason.MISSING_FIELD, "trailing_offset", f"{kind.value} needs an offset"
            )
        _positive_qty(request.trailing_offset, "trailing_offset")
        if kind is OrderType.TRAILING_STOP_LIMIT and request.limit_offset is None:
            raise _invalid(
                ErrorReason.MISSING_FIELD, "limit_offset", "TRAILING_STOP_LIMIT needs limit_offset"
            )
    if request.limit_offset is not None:
        check_decimal(request.limit_offset, "limit_offset")
    if kind is OrderType.ICEBERG and request.display_qty is None:
        raise _invalid(ErrorReason.MISSING_FIELD, "display_qty", "ICEBERG needs display_qty")
    if request.display_qty is not None:
        _lot_qty(request.display_qty, "display_qty", instrument)
        if request.qty is not None and request.display_qty > request.qty:
            raise _invalid(ErrorReason.INVALID_FIELD, "display_qty", "display_qty exceeds qty")
    if request.time_in_force is TimeInForce.GTD:
        if request.expire_time is None:
            raise _invalid(ErrorReason.MISSING_FIELD, "expire_time", "GTD needs expire_time")
        if request.expire_time <= now:
            raise _invalid(ErrorReason.INVALID_FIELD, "expire_time", "expire_time is in the past")
    elif request.expire_time is not None:
        raise _invalid(ErrorReason.INVALID_FIELD, "expire_time", "expire_time needs GTD")
    for name, when in (("start_time", request.start_time), ("expire_time", request.expire_time)):
        if when is not None and when - now > MAX_SCHEDULE_AHEAD:
            raise _invalid(
                ErrorReason.INVALID_FIELD,
                name,
                f"{name} lies more than {MAX_SCHEDULE_AHEAD.days} days ahead",
            )
    if (
        request.start_time is not None
        and request.expire_time is not None
        and request.expire_time <= request.start_time
    ):
        raise _invalid(
            ErrorReason.INVALID_FIELD, "expire_time", "expire_time is not after start_time"
        )
    if request.post_only and (
        kind is OrderType.MARKET or request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
    ):
        raise _invalid(
            ErrorReason.INVALID_FIELD, "post_only", "post_only needs a resting limit order"
        )
    if request.leverage is not None:
        _positive_qty(request.leverage, "leverage")
    if request.deadline is not None and request.deadline <= now:
        raise _invalid(ErrorReason.DEADLINE_PASSED, "deadline", "deadline already passed")
    if request.qty is not None:
        _min_qty_and_cost(request.qty, request.price, instrument)
    check_tradable(instrument, request)


def validate_amend(request: AmendRequest, order: Order, instrument: Instrument) -> None:
    check_id(request.client_order_id, "client_order_id")
    if (
        request.qty is None
        and request.price is None
        and request.stop_price is None
        and request.display_qty is None
        and request.trailing_offset is None
        and request.limit_offset is None
        and request.post_only is None
    ):
        raise _invalid(ErrorReason.MISSING_FIELD, "qty", "amend changes nothing")
    if request.qty is not None:
        _lot_qty(request.qty, "qty", instrument)
        if request.qty <= order.cum_qty:
            raise _invalid(ErrorReason.INVALID_FIELD, "qty", "new qty must exceed the filled qty")
        _min_qty_and_cost(request.qty, request.price or order.price, instrument)
    if request.price is not None:
        _positive_price(request.price, "price", instrument)
    if request.stop_price is not None:
        _positive_price(request.stop_price, "stop_price", instrument)
    if request.display_qty is not None:
        _lot_qty(request.display_qty, "display_qty", instrument)
    kind = order.request.order_type
    if request.trailing_offset is not None:
        if kind not in TRAILING_TYPES:
            raise _invalid(
                ErrorReason.INVALID_FIELD, "trailing_offset", f"{kind.value} has no trailing offset"
            )
        _positive_qty(request.trailing_offset, "trailing_offset")
    if request.limit_offset is not None:
        if kind is not OrderType.TRAILING_STOP_LIMIT:
            raise _invalid(
                ErrorReason.INVALID_FIELD, "limit_offset", f"{kind.value} has no limit offset"
            )
        check_decimal(request.limit_offset, "limit_offset")
