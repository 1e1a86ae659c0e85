"""Raw-stub helpers for requests the typed client would refuse to build (invalid input)."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo inside the google.rpc.Status trailer of a failed call."""
    trailers = error.trailing_metadata() or ()
    raw = next(v for k, v in trailers if k == STATUS_DETAILS_KEY)
    status = status_pb2.Status.FromString(raw)
    assert status.code == error.code().value[0]
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError("no ErrorInfo in the status details")
