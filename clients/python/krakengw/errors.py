"""`KrakenGwError`: a failed call's gRPC status code plus the gateway's ErrorInfo reason.

The gateway sends errors as google.rpc.Status in the `grpc-status-details-bin` trailer, with
an ErrorInfo (reason = an `ERROR_REASON_*` name) and, for rate limits, a RetryInfo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

__all__ = ["STATUS_DETAILS_KEY", "KrakenGwError", "redact"]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
_REASON_PREFIX = "ERROR_REASON_"
_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every non-empty secret replaced, so a server echoing a token cannot leak it."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


class KrakenGwError(Exception):
    """A call to the gateway failed.

    `code` is the gRPC status code; `reason` the ErrorReason name without its prefix (e.g.
    "ORDER_NOT_FOUND", "" when the server sent none); `metadata` the ErrorInfo metadata;
    `retry_after` the RetryInfo delay, when the server says a retry later may succeed.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_after = retry_after

    def __str__(self) -> str:
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"KrakenGwError(code={self.code.name}, reason={self.reason!r}, "
            f"message={self.message!r})"
        )

    @classmethod
    def from_status(cls, status: status_pb2.Status, secrets: Iterable[str] = ()) -> KrakenGwError:
        """The error a google.rpc.Status describes (a call's trailer, or a batch item)."""
        code = _CODES_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN)
        return cls._build(code, status.message, status, tuple(secrets))

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, secrets: Iterable[str] = ()) -> KrakenGwError:
        """The error of a failed sync or asyncio call (both are grpc.Call objects)."""
        code_of = getattr(error, "code", None)
        code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
        details_of = getattr(error, "details", None)
        message = (details_of() if callable(details_of) else None) or ""
        status = _status_from_trailers(error)
        return cls._build(
            code, message or (status.message if status else ""), status, tuple(secrets)
        )

    @classmethod
    def _build(
        cls,
        code: grpc.StatusCode,
        message: str,
        status: status_pb2.Status | None,
        secrets: tuple[str, ...],
    ) -> KrakenGwError:
        info = error_details_pb2.ErrorInfo()
        retry = error_details_pb2.RetryInfo()
        has_info = has_retry = False
        for detail in status.details if status is not None else ():
            if detail.Is(info.DESCRIPTOR):
                has_info = detail.Unpack(info)
            elif detail.Is(retry.DESCRIPTOR):
                has_retry = detail.Unpack(retry)
        return cls(
            code,
            redact(message, secrets),
            reason=info.reason.removeprefix(_REASON_PREFIX) if has_info else "",
            domain=info.domain,
            metadata={k: redact(v, secrets) for k, v in info.metadata.items()},
            retry_after=retry.retry_delay.ToTimedelta() if has_retry else None,
        )


def _status_from_trailers(error: grpc.RpcError) -> status_pb2.Status | None:
    trailers_of = getattr(error, "trailing_metadata", None)
    trailers: Any = trailers_of() if callable(trailers_of) else None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:  # a malformed trailer must not hide the real error
                return None
    return None
