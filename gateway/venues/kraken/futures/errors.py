"""Kraken Futures refusals -> core GatewayErrors, from two explicit tables.

- `FUTURES_ERROR_TABLE`: the envelope's `error` string (`{"result":"error","error":"..."}`,
  wire 8.3). Unknown strings become `VenueRejected(VENUE_REJECTED_OTHER)` keeping Kraken's text.
- `FUTURES_STATUS_TABLE`: the outcome statuses inside `sendStatus` / `editStatus` /
  `cancelStatus` / `batchStatus[]` (wire 8.4). Per operation, `SEND_ACCEPTED`, `EDIT_ACCEPTED`,
  `CANCEL_ACCEPTED` say which statuses mean "done"; every other status must be in the table,
  and one that is in neither raises `KrakenParseError` (the adapter then settles by query).

Specs and the error building are the common classifier's (`common/errors.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    GatewayError,
    InvalidArgument,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.venues.kraken.common.errors import (
    UNKNOWN_ERROR_SPEC,
    KrakenErrorSpec,
    gateway_error,
)
from gateway.venues.kraken.common.errors import spec as _s
from gateway.venues.kraken.common.wire_scalars import KrakenParseError

R = ErrorReason
VENUE_NAME = "Kraken Futures"

_REJECT = VenueRejected
_AMBIGUOUS = _s(Unavailable, R.VENUE_UNAVAILABLE, retryable=True, ambiguous=True)
_TRANSFER = _s(_REJECT, R.TRANSFER_REJECTED)

FUTURES_ERROR_TABLE: Mapping[str, KrakenErrorSpec] = {
    "accountInactive": _s(_REJECT, R.ACCOUNT_LOCKED),
    "apiLimitExceeded": _s(
        ResourceExhausted, R.VENUE_RATE_LIMITED, retryable=True, retry_after=1.0
    ),
    "authenticationError": _s(Unauthenticated, R.VENUE_AUTH_FAILED),
    "insufficientFunds": _s(_REJECT, R.INSUFFICIENT_FUNDS),
    "invalidAccount": _TRANSFER,
    "invalidAmount": _TRANSFER,
    "invalidUnit": _TRANSFER,
    "invalidArgument": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "requiredArgumentMissing": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "Json Parse Error": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "Bad Request": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "notFound": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "contractNotFound": _s(InvalidArgument, R.UNKNOWN_SYMBOL),
    "marketUnavailable": _s(Unavailable, R.VENUE_UNAVAILABLE, retryable=True),
    # The front door refused (maintenance, HTTP 503): nothing was executed.
    "Unavailable": _s(Unavailable, R.VENUE_MAINTENANCE, retryable=True),
    # Our nonce lost a race: not executed, a fresh attempt may pass.
    "nonceBelowThreshold": _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True),
    "nonceDuplicate": _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True),
    # Kraken may have acted before failing: after a send, settle by query.
    "Server Error": _AMBIGUOUS,
    "unknownError": _AMBIGUOUS,
}

# Outcome statuses that are refusals (nothing was placed / edited / cancelled).
FUTURES_STATUS_TABLE: Mapping[str, KrakenErrorSpec] = {
    # Suspended markets take cancels only.
    "marketSuspended": _s(Unavailable, R.VENUE_CANCEL_ONLY),
    "marketIsPostOnly": _s(Unavailable, R.VENUE_POST_ONLY),
    "marketInactive": _s(_REJECT, R.MARKET_CLOSED),
    "invalidPrice": _s(_REJECT, R.VENUE_INVALID_PRICE),
    "outsidePriceCollar": _s(_REJECT, R.VENUE_INVALID_PRICE),
    "wouldIncreasePriceDislocation": _s(_REJECT, R.VENUE_INVALID_PRICE),
    "invalidSize": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "invalidOrderType": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "invalidSide": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "orderForEditNotAStop": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "cannotEditTriggerPriceOfTrailingStop": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "cannotEditLimitPriceOfTrailingStop": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "tooManySmallOrders": _s(_REJECT, R.VENUE_ORDERS_LIMIT),
    "tooManyOrders": _s(_REJECT, R.VENUE_ORDERS_LIMIT),
    "insufficientAvailableFunds": _s(_REJECT, R.INSUFFICIENT_MARGIN),
    "wouldCauseLiquidation": _s(_REJECT, R.INSUFFICIENT_MARGIN),
    "fixedLeverageTooHigh": _s(_REJECT, R.INSUFFICIENT_MARGIN),
    "maxPositionViolation": _s(_REJECT, R.VENUE_POSITIONS_LIMIT),
    "clientOrderIdAlreadyExist": _s(AlreadyExists, R.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST),
    "clientOrderIdTooBig": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "clientOrderIdInvalid": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "postWouldExecute": _s(_REJECT, R.POST_ONLY_WOULD_TAKE),
    # IOC / FOK / market order with nothing to trade against.
    "iocWouldNotExecute": _s(_REJECT, R.FOK_NOT_FILLED),
    "selfFill": _s(_REJECT, R.SELF_TRADE_PREVENTED),
    "wouldNotReducePosition": _s(_REJECT, R.REDUCE_ONLY_VIOLATION),
    "wouldProcessAfterSpecifiedTime": _s(_REJECT, R.DEADLINE_ELAPSED),
    "notFound": _s(_REJECT, R.UNKNOWN_ORDER),
    "orderForEditNotFound": _s(_REJECT, R.UNKNOWN_ORDER),
    # cancelorder on an order that already filled: closed, like Spot's unknown order.
    "filled": _s(_REJECT, R.UNKNOWN_ORDER),
}

# `cancelled` on a send: the order was placed and its rest cancelled at once (IOC remainder).
SEND_ACCEPTED = frozenset({"placed", "partiallyFilled", "filled", "cancelled"})
EDIT_ACCEPTED = frozenset({"edited"})
CANCEL_ACCEPTED = frozenset({"cancelled"})


def futures_error(code: str, *, after_send: bool = False) -> GatewayError:
    """The GatewayError for an envelope `error` string (ambiguous ones become OutcomeUnknown
    after a send)."""
    text = code.strip()
    found = FUTURES_ERROR_TABLE.get(text, UNKNOWN_ERROR_SPEC)
    return gateway_error(found, text, venue=VENUE_NAME, after_send=after_send)


def status_error(status: str, accepted: frozenset[str]) -> GatewayError | None:
    """None when `status` is in `accepted`; the refusal's error when it is in the table;
    KrakenParseError for a status in neither (never guessed)."""
    if status in accepted:
        return None
    spec = FUTURES_STATUS_TABLE.get(status)
    if spec is None:
        raise KrakenParseError(f"unknown Kraken Futures order status {status!r}")
    return gateway_error(spec, status, venue=VENUE_NAME)
