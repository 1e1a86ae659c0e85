"""Kraken Spot error strings (wire 1.4, and the WS v2 method/subscribe errors) -> core
GatewayErrors, through the shared classifier of `kraken.common.errors`.

Spot errors read `<E|W><Category>:<description>[:<detail>]`: `KRAKEN_SPOT_ERROR_TABLE` holds full
strings and `Category:description` heads (so `EGeneral:Invalid arguments:volume` keeps `volume`
as the `detail` metadata), `KRAKEN_SPOT_WS_ERROR_PREFIXES` WS v2's plain-text messages. Anything
unknown becomes a `VenueRejected(VENUE_REJECTED_OTHER)` that keeps Kraken's text.
`kraken_error(..., after_send=True)` turns ambiguous errors (the venue may have acted) into
`OutcomeUnknown`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    GatewayError,
    Internal,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.venues.kraken.common.errors import (
    KrakenErrorSpec,
    classify,
    gateway_error,
    spec,
)

R = ErrorReason

LOCKOUT_RETRY_AFTER_S = 900.0  # ~15 min per Kraken (wire 5.3)


_s = spec
_REJECT = VenueRejected
_MARGIN = _s(_REJECT, R.INSUFFICIENT_MARGIN)
_AUTH = _s(Unauthenticated, R.VENUE_AUTH_FAILED)
_VENUE_RATE = _s(ResourceExhausted, R.VENUE_RATE_LIMITED, retryable=True, retry_after=1.0)
_AMBIGUOUS = _s(Unavailable, R.VENUE_UNAVAILABLE, retryable=True, ambiguous=True)
_FUNDING = _s(_REJECT, R.TRANSFER_REJECTED)

# Keys are full strings or `E<Category>:<description>` heads (detail stripped).
KRAKEN_SPOT_ERROR_TABLE: Mapping[str, KrakenErrorSpec] = {
    "EGeneral:Invalid arguments": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "EGeneral:Permission denied": _s(PermissionDenied, R.VENUE_PERMISSION_DENIED),
    "EGeneral:Temporary lockout": _s(
        ResourceExhausted, R.VENUE_LOCKOUT, retry_after=LOCKOUT_RETRY_AFTER_S
    ),
    "EGeneral:Internal error": _AMBIGUOUS,
    "EGeneral:Unknown method": _s(Internal, R.INTERNAL),
    "EGeneral:Too many requests": _VENUE_RATE,
    "EAPI:Invalid key": _AUTH,
    "EAPI:Invalid signature": _AUTH,
    # Our nonce lost a race or a prior process ran ahead: not executed, retry with a new nonce.
    "EAPI:Invalid nonce": _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True),
    "EAPI:Rate limit exceeded": _VENUE_RATE,
    "EAPI:Bad request": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "EAPI:Feature disabled": _s(PermissionDenied, R.VENUE_PERMISSION_DENIED),
    "EAuth:Failed": _AUTH,
    "EAuth:Account temporary disabled": _s(_REJECT, R.ACCOUNT_LOCKED),
    "EAuth:Account unconfirmed": _s(_REJECT, R.ACCOUNT_LOCKED),
    "EAuth:Rate limit exceeded": _VENUE_RATE,
    "EAuth:Too many requests": _VENUE_RATE,
    "ESession:Invalid session": _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True),
    "EService:Unavailable": _s(Unavailable, R.VENUE_UNAVAILABLE, retryable=True),
    "EService:Busy": _s(Unavailable, R.VENUE_BUSY, retryable=True),
    "EService:Market in cancel_only mode": _s(Unavailable, R.VENUE_CANCEL_ONLY),
    "EService:Market in post_only mode": _s(Unavailable, R.VENUE_POST_ONLY),
    "EService:Market in limit_only mode": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "EService:Market in reduce_only mode": _s(_REJECT, R.REDUCE_ONLY_VIOLATION),
    "EService:Deadline elapsed": _s(_REJECT, R.DEADLINE_ELAPSED),
    "EDatabase:Internal error": _AMBIGUOUS,
    "EOrder:Rate limit exceeded": _VENUE_RATE,
    "EOrder:Domain rate limit exceeded": _VENUE_RATE,
    "EOrder:Orders limit exceeded": _s(_REJECT, R.VENUE_ORDERS_LIMIT),
    "EOrder:Scheduled orders limit exceeded": _s(_REJECT, R.VENUE_ORDERS_LIMIT),
    "EOrder:Positions limit exceeded": _s(_REJECT, R.VENUE_POSITIONS_LIMIT),
    "EOrder:Insufficient funds": _s(_REJECT, R.INSUFFICIENT_FUNDS),
    "EOrder:Insufficient margin": _MARGIN,
    "EOrder:Margin allowance exceeded": _MARGIN,
    "EOrder:Margin level too low": _MARGIN,
    "EOrder:Margin position size exceeded": _s(_REJECT, R.VENUE_POSITIONS_LIMIT),
    "EOrder:Cannot open position": _s(_REJECT, R.VENUE_PERMISSION_DENIED),
    "EOrder:Cannot open opposing position": _s(_REJECT, R.VENUE_PERMISSION_DENIED),
    "EOrder:Order minimum not met": _s(_REJECT, R.VENUE_MIN_NOT_MET),
    "EOrder:Cost minimum not met": _s(_REJECT, R.VENUE_MIN_NOT_MET),
    "EOrder:Tick size check failed": _s(_REJECT, R.VENUE_INVALID_PRICE),
    "EOrder:Invalid price": _s(_REJECT, R.VENUE_INVALID_PRICE),
    "EOrder:Invalid order": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "EOrder:Unknown order": _s(_REJECT, R.UNKNOWN_ORDER),
    "EOrder:Unknown position": _s(_REJECT, R.VENUE_INVALID_ORDER),
    "EOrder:Post only order": _s(_REJECT, R.POST_ONLY_WOULD_TAKE),
    "EOrder:Cancel pending": _s(_REJECT, R.CANCEL_PENDING),
    # Not in Kraken's published list; the simulator sends it for a cl_ord_id already open.
    "EOrder:Duplicate cl_ord_id": _s(AlreadyExists, R.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST),
    "EOrder:Reduce only": _s(_REJECT, R.REDUCE_ONLY_VIOLATION),
    "EQuery:Unknown asset pair": _s(InvalidArgument, R.UNKNOWN_SYMBOL),
    "EQuery:Invalid asset pair": _s(InvalidArgument, R.UNKNOWN_SYMBOL),
    "EQuery:Unknown asset": _s(InvalidArgument, R.UNKNOWN_ASSET),
    "ETrade:Invalid request": _s(_REJECT, R.VENUE_INVALID_ARGUMENT),
    "ETrade:User Locked": _s(_REJECT, R.ACCOUNT_LOCKED),
    "EAccount:Invalid permissions": _s(PermissionDenied, R.VENUE_PERMISSION_DENIED),
    "EFunding:Unknown asset": _s(InvalidArgument, R.UNKNOWN_ASSET),
    "EFunding:Invalid amount": _FUNDING,
    "EFunding:Unknown withdraw key": _FUNDING,
    "EFunding:No funding method": _FUNDING,
    "EFunding:Max fee exceeded": _FUNDING,
    "EFunding:Too many addresses": _FUNDING,
    "EFunding:Invalid reference id": _FUNDING,
    "EFunding:Unknown reference id": _FUNDING,
    "EFunding:Insufficient funds": _s(_REJECT, R.INSUFFICIENT_FUNDS),
    "EBM:limit exceeded": _s(_REJECT, R.VENUE_REJECTED_OTHER),
}

# WS v2 messages without the E<Category> grammar, matched by prefix (case-sensitive as sent).
KRAKEN_SPOT_WS_ERROR_PREFIXES: tuple[tuple[str, KrakenErrorSpec], ...] = (
    ("Currency pair not supported", _s(InvalidArgument, R.UNKNOWN_SYMBOL)),
    ("Exceeded msg rate", _VENUE_RATE),
    ("Invalid session", _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True)),
    ("Token", _s(Unauthenticated, R.VENUE_AUTH_FAILED, retryable=True)),
    ("Malformed request", _s(Internal, R.INTERNAL)),
    ("Subscription depth not supported", _s(Internal, R.INTERNAL)),
    ("Unsupported field", _s(Internal, R.INTERNAL)),
)

_THROTTLED_HEAD = "EService: Throttled"  # note Kraken's space after the colon


def classify_kraken_error(text: str) -> tuple[KrakenErrorSpec, str]:
    """The spec for one Kraken Spot error string and its detail suffix ('' if none)."""
    return classify(text, KRAKEN_SPOT_ERROR_TABLE, KRAKEN_SPOT_WS_ERROR_PREFIXES)


def _throttled(text: str, now: Callable[[], float]) -> GatewayError | None:
    if not text.startswith(_THROTTLED_HEAD):
        return None
    tail = text[len(_THROTTLED_HEAD) :].strip(" :")
    retry_after = 1.0
    if tail.isdigit():
        retry_after = max(0.0, int(tail) - now())
    return ResourceExhausted(
        "Kraken is throttling concurrent requests",
        R.VENUE_RATE_LIMITED,
        retry_after=retry_after,
        venue_text=text,
    )


def kraken_error(
    text: str,
    *,
    after_send: bool = False,
    now: Callable[[], float] = time.time,
) -> GatewayError:
    """The GatewayError for one Kraken error string, keeping Kraken's text as `venue_text`.

    `after_send=True` for order-entry requests: ambiguous errors then become OutcomeUnknown,
    because the venue may have acted and only a query can tell.
    """
    throttled = _throttled(text.strip(), now)
    if throttled is not None:
        return throttled
    spec, detail = classify_kraken_error(text)
    return gateway_error(spec, text, venue="Kraken", detail=detail, after_send=after_send)


def kraken_errors(texts: list[str], *, after_send: bool = False) -> GatewayError:
    """The error for a REST `error` array: the first E-entry decides (warnings `W...` skipped)."""
    errors = [t for t in texts if not t.startswith("W")]
    if not errors:
        raise ValueError("no error strings (only warnings)")
    return kraken_error(errors[0], after_send=after_send)
