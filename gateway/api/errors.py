"""GatewayError -> gRPC status code + google.rpc.Status(ErrorInfo) in `grpc-status-details-bin`.

The one mapping table of the API layer. The ErrorInfo `reason` is a name of the contract's
`ErrorReason` enum (e.g. "ERROR_REASON_PRICE_OFF_TICK"), `domain` is "krakengw", and the core's
finer reason is kept in `metadata["gateway_reason"]`.
"""

from __future__ import annotations

import math

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from krakengw.v1 import errors_pb2

from gateway.core import errors as core

__all__ = [
    "DOMAIN",
    "STATUS_DETAILS_KEY",
    "internal_status",
    "proto_reason",
    "status_code",
    "to_rpc_status",
]

DOMAIN = "krakengw"
STATUS_DETAILS_KEY = "grpc-status-details-bin"

# Category (direct subclass of GatewayError) -> gRPC code and the contract reason used when
# neither the core reason's name nor an alias exists in the contract. Subclasses inherit.
_CATEGORIES: tuple[tuple[type[core.GatewayError], grpc.StatusCode, str], ...] = (
    (core.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
    (core.NotFound, grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND"),
    (core.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_CLIENT_ORDER_ID"),
    (core.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED"),
    (core.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED"),
    (core.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION, "ORDER_NOT_OPEN"),
    (core.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
    # A definitive venue refusal: the request was valid, the venue's state refused it.
    (core.VenueRejected, grpc.StatusCode.FAILED_PRECONDITION, "VENUE_REJECTED"),
    (core.Unavailable, grpc.StatusCode.UNAVAILABLE, "VENUE_UNAVAILABLE"),
    # Sent, no definitive answer: the caller must not assume either outcome.
    (core.OutcomeUnknown, grpc.StatusCode.DEADLINE_EXCEEDED, "OUTCOME_UNKNOWN"),
    (core.Internal, grpc.StatusCode.INTERNAL, "INTERNAL"),
)

# Core reasons whose proto name differs (the two enums evolve separately; by-name wins first).
_ALIASES: dict[str, str] = {
    "NON_POSITIVE_QUANTITY": "INVALID_QUANTITY",
    "NON_POSITIVE_PRICE": "INVALID_PRICE",
    "UNKNOWN_SYMBOL": "UNKNOWN_INSTRUMENT",
    "QTY_OFF_LOT": "QUANTITY_OFF_LOT",
    "BELOW_MIN_QTY": "BELOW_MIN_QUANTITY",
    "DEADLINE_PASSED": "DEADLINE_EXCEEDED",
    "DEADLINE_ELAPSED": "DEADLINE_EXCEEDED",
    "SESSION_NOT_FOUND": "NOT_LOGGED_ON",
    "SESSION_ALREADY_ACTIVE": "SESSION_IN_USE",
    "KEY_LEASED": "KEY_IN_USE",
    "DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST": "DUPLICATE_CLIENT_ORDER_ID",
    "VENUE_AUTH_FAILED": "VENUE_REJECTED",
    "KILL_SWITCH_ACTIVE": "KILL_SWITCH_ENGAGED",
    "ORDER_NOT_AMENDABLE": "ORDER_NOT_OPEN",
    "ORDER_NOT_CANCELABLE": "ORDER_NOT_OPEN",
    "ORDER_PENDING": "ORDER_NOT_OPEN",
    "CANCEL_PENDING": "ORDER_NOT_OPEN",
    "UNKNOWN_ORDER": "ORDER_NOT_FOUND",
    "INSTRUMENT_NOT_TRADING": "VENUE_CANCEL_ONLY",
    "RECONCILING": "VENUE_UNAVAILABLE",
    "RISK_MAX_ORDER_QTY": "RISK_MAX_ORDER_QUANTITY",
    "RISK_NO_REFERENCE_PRICE": "RISK_PRICE_BAND",
    "VENUE_RATE_LIMITED": "RATE_LIMITED",
    "VENUE_LOCKOUT": "RATE_LIMITED",
    "INSUFFICIENT_MARGIN": "INSUFFICIENT_FUNDS",
    "SELF_TRADE_PREVENTED": "SELF_TRADE",
    "VENUE_BUSY": "VENUE_UNAVAILABLE",
    "GATEWAY_SHUTTING_DOWN": "VENUE_UNAVAILABLE",
    "VENUE_CONNECTION_LOST": "OUTCOME_UNKNOWN",
    "VENUE_RESPONSE_UNPARSEABLE": "OUTCOME_UNKNOWN",
    "ILLEGAL_TRANSITION": "INVALID_STATE_TRANSITION",
    "JOURNAL_FAILURE": "INTERNAL",
}


def _category(error: core.GatewayError) -> tuple[grpc.StatusCode, str]:
    for cls, code, fallback in _CATEGORIES:
        if isinstance(error, cls):
            return code, fallback
    return grpc.StatusCode.INTERNAL, "INTERNAL"


def status_code(error: core.GatewayError) -> grpc.StatusCode:
    return _category(error)[0]


def proto_reason(error: core.GatewayError) -> str:
    """The contract's ErrorReason name for an error: by name, else alias, else category's."""
    known = errors_pb2.ErrorReason.keys()
    name = error.reason.name
    for candidate in (name, _ALIASES.get(name, ""), _category(error)[1]):
        if candidate and f"ERROR_REASON_{candidate}" in known:
            return f"ERROR_REASON_{candidate}"
    return "ERROR_REASON_UNSPECIFIED"


def to_rpc_status(error: core.GatewayError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = status_code(error)
    info = error_details_pb2.ErrorInfo(
        reason=proto_reason(error),
        domain=DOMAIN,
        metadata={**error.metadata, "gateway_reason": error.reason.name},
    )
    if error.venue_text:
        info.metadata["venue_text"] = error.venue_text
    details = [_pack(info)]
    if error.retry_after is not None and error.retry_after > 0:
        frac, whole = math.modf(error.retry_after)
        delay = duration_pb2.Duration(seconds=int(whole), nanos=int(frac * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    status = status_pb2.Status(code=code.value[0], message=error.message, details=details)
    return code, status


def internal_status(ref: str) -> tuple[grpc.StatusCode, status_pb2.Status]:
    """For unexpected exceptions: no exception text (it could carry anything), just a log ref."""
    info = error_details_pb2.ErrorInfo(
        reason="ERROR_REASON_INTERNAL", domain=DOMAIN, metadata={"ref": ref}
    )
    status = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal gateway error (log ref {ref})",
        details=[_pack(info)],
    )
    return grpc.StatusCode.INTERNAL, status


def _pack(message: error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed
