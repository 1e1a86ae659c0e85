"""What `Client` and `AsyncClient` share: the service stubs of one channel, the bearer-token
metadata, and the conversion of protocol results into the client's return values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from krakengw.errors import KrakenGwError
from krakengw.models import Order
from krakengw.v1 import (
    accounts_pb2_grpc,
    executions_pb2_grpc,
    instruments_pb2_grpc,
    market_data_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    sessions_pb2_grpc,
)

__all__ = [
    "ALREADY_LOGGED_ON_REASONS",
    "LOGON_ID_MISMATCH",
    "SESSION_LOST_REASONS",
    "ClientCore",
    "Stubs",
    "channel_options",
]

# Reconnect quickly after a gateway restart: gRPC's default reconnect backoff grows to 120 s.
CHANNEL_DEFAULTS: dict[str, Any] = {
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.min_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 2000,
}

# The call metadata that binds a call to its logon (LogonResponse.logon_id).
LOGON_ID_METADATA = "krakengw-logon-id"

# Reasons after which logging on again (e.g. after a gateway restart) lets a stream resume.
SESSION_LOST_REASONS = frozenset({"SESSION_NOT_FOUND", "NOT_LOGGED_ON"})
# The call's logon id is not the live logon's (another logon of this client, or a takeover).
LOGON_ID_MISMATCH = "LOGON_ID_MISMATCH"
# Reasons a logon gives when the session is live already.
ALREADY_LOGGED_ON_REASONS = frozenset({"SESSION_ALREADY_ACTIVE", "SESSION_IN_USE"})


def channel_options(options: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The caller's channel options over the client's defaults."""
    return list({**CHANNEL_DEFAULTS, **dict(options)}.items())


class Stubs:
    """One stub per service, over one channel (sync or asyncio)."""

    def __init__(self, channel: Any) -> None:
        self.sessions = sessions_pb2_grpc.SessionServiceStub(channel)
        self.orders = orders_pb2_grpc.OrderServiceStub(channel)
        self.executions = executions_pb2_grpc.ExecutionServiceStub(channel)
        self.accounts = accounts_pb2_grpc.AccountServiceStub(channel)
        self.instruments = instruments_pb2_grpc.InstrumentServiceStub(channel)
        self.market_data = market_data_pb2_grpc.MarketDataServiceStub(channel)


class ClientCore:
    """Target, token and call options. The token lives only in the call metadata and is
    redacted from every error message; it never appears in repr or str."""

    def __init__(
        self, target: str, token: str, timeout: float | None, wait_for_ready: bool
    ) -> None:
        if not token or any(c.isspace() or not c.isprintable() for c in token):
            raise ValueError("token must be non-empty printable ASCII without spaces")
        self.target = target
        self._token = token
        self.unary_options: dict[str, Any] = {"timeout": timeout, "wait_for_ready": wait_for_ready}
        self.stream_options: dict[str, Any] = {"wait_for_ready": wait_for_ready}
        # A resuming stream waits for the gateway to come back rather than failing fast.
        self.resume_options: dict[str, Any] = {"wait_for_ready": True}
        self.logon_id: str | None = None
        self.set_logon_id(None)

    def set_logon_id(self, logon_id: str | None) -> None:
        """Every later call carries this logon's id (the gateway binds calls to the logon that
        made them, so the token alone cannot act in the session)."""
        self.logon_id = logon_id or None
        metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {self._token}"),)
        if self.logon_id is not None:
            metadata += ((LOGON_ID_METADATA, self.logon_id),)
        for options in (self.unary_options, self.stream_options, self.resume_options):
            options["metadata"] = metadata

    def __repr__(self) -> str:
        return f"ClientCore(target={self.target!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What error texts must never show."""
        return (self._token,) if self.logon_id is None else (self._token, self.logon_id)

    def error(self, error: grpc.RpcError) -> KrakenGwError:
        return KrakenGwError.from_rpc_error(error, secrets=self.secrets)

    def batch_results(
        self, results: Sequence[orders_pb2.OrderResult]
    ) -> list[Order | KrakenGwError]:
        return [
            KrakenGwError.from_status(r.error, secrets=self.secrets)
            if r.HasField("error")
            else Order.from_proto(r.order)
            for r in results
        ]
