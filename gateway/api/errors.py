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

from gateway.core import errors as core
from krakengw.v1 import errors_pb2

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

# Category (direct subclass of GatewayError) -> gRPC code. Subclasses inherit their category's.
_CATEGORIES: tuple[tuple[type[core.GatewayError], grpc.StatusCode], ...] = (
    (core.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (core.NotFound, grpc.StatusCode.NOT_FOUND),
    (core.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (core.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (core.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (core.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (core.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    # A definitive venue refusal: the request was valid, the venue's state refused it.
    (core.VenueRejected, grpc.StatusCode.FAILED_PRECONDITION),
    (core.Unavailable, grpc.StatusCode.UNAVAILABLE),
    # Sent, no definitive answer: the caller must not assume either outcome.
    (core.OutcomeUnknown, grpc.StatusCode.DEADLINE_EXCEEDED),
    (core.Internal, grpc.StatusCode.INTERNAL),
)


def _category(error: core.GatewayError) -> tuple[grpc.StatusCode, core.ErrorReason]:
    """The error's gRPC code and its category's default reason."""
    for cls, code in _CATEGORIES:
        if isinstance(error, cls):
            return code, cls.default_reason
    return grpc.StatusCode.INTERNAL, core.ErrorReason.INTERNAL


def status_code(error: core.GatewayError) -> grpc.StatusCode:
    return _category(error)[0]


_CONTRACT_REASONS = frozenset(errors_pb2.ErrorReason.keys())


def proto_reason(error: core.GatewayError) -> str:
    """The contract's ErrorReason name: the core reason's own name (the proto enum mirrors it),
    else its category's default reason should the two enums ever drift apart."""
    for candidate in (error.reason.name, _category(error)[1].name):
        if f"ERROR_REASON_{candidate}" in _CONTRACT_REASONS:
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
