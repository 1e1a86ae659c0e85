"""SessionService: Logon (leases the key), Heartbeat, Logout."""

from __future__ import annotations

import logging

from google.protobuf import timestamp_pb2
from grpc import aio

from gateway.api import convert
from gateway.api.context import caller
from gateway.api.deps import ApiDeps
from gateway.core.errors import ErrorReason, InvalidArgument, Unavailable
from gateway.sessions.registry import ActiveSession, EndReason, SessionEndHook
from krakengw.v1 import sessions_pb2, sessions_pb2_grpc

__all__ = ["SessionServicer", "cancel_on_disconnect_hook"]

log = logging.getLogger(__name__)

# Bounds on the heartbeat interval a client may ask for: tiny ones would spin the stream.
MIN_HEARTBEAT_S = 0.1
MAX_HEARTBEAT_S = 300.0


class SessionServicer(sessions_pb2_grpc.SessionServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    async def Logon(
        self, request: sessions_pb2.LogonRequest, context: aio.ServicerContext
    ) -> sessions_pb2.LogonResponse:
        if self._d.stopping.is_set():
            raise Unavailable("gateway is shutting down", ErrorReason.GATEWAY_SHUTTING_DOWN)
        active = self._d.sessions.logon(
            caller(),
            cancel_on_disconnect=request.cancel_on_disconnect,
            heartbeat_interval_s=_heartbeat_interval(request),
            takeover=request.takeover,
            client_name=convert.text(request.client_name, "client_name"),
        )
        try:
            return await self._logon_response(active)
        except BaseException:
            # A failed logon must not keep the lease it just took.
            await self._d.sessions.end(active, EndReason.LOGOUT)
            raise

    async def _logon_response(self, active: ActiveSession) -> sessions_pb2.LogonResponse:
        service = self._d.service
        account = active.account
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return sessions_pb2.LogonResponse(
            session_id=active.session_id,
            account=account.name,
            subaccount=account.subaccount or "",
            permissions=sorted(convert.permission(p) for p in active.permissions),
            risk_limits=convert.risk_limits(
                service.risk.limits(account.name), service.kill_switch(account.name)
            ),
            rate_budgets=[convert.rate_budget(b) for b in service.rate_budgets(active.context())],
            last_sequence=await service.last_sequence(active.context(drop_copy=False)),
            heartbeat_interval=convert.duration_out(active.heartbeat_interval_s),
            cancel_on_disconnect=active.cancel_on_disconnect,
            server_time=now,
            instance=self._d.placement(account.name)[0],
            logon_id=active.logon_id,
            venue_status=self._d.venue_status(account.name),
        )

    async def Heartbeat(
        self, request: sessions_pb2.HeartbeatRequest, context: aio.ServicerContext
    ) -> sessions_pb2.HeartbeatResponse:
        active = self._d.active()
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return sessions_pb2.HeartbeatResponse(
            test_request_id=convert.text(request.test_request_id, "test_request_id"),
            server_time=now,
            last_sequence=await self._d.service.last_sequence(active.context(drop_copy=False)),
        )

    async def Logout(
        self, request: sessions_pb2.LogoutRequest, context: aio.ServicerContext
    ) -> sessions_pb2.LogoutResponse:
        active = self._d.active()
        canceled = 0
        try:
            if active.cancel_on_disconnect:
                canceled = await self._d.service.cancel_all(active.context(), own_only=True)
        finally:
            await self._d.sessions.end(active, EndReason.LOGOUT)
        return sessions_pb2.LogoutResponse(canceled_count=canceled)


def _heartbeat_interval(request: sessions_pb2.LogonRequest) -> float | None:
    """The interval the client asked for (None: the server's default); refuses nonsense rather
    than quietly replacing it, so the client knows which timeout is in force."""
    if not request.HasField("heartbeat_interval"):
        return None
    d = request.heartbeat_interval
    valid = abs(d.nanos) < 1_000_000_000 and (
        d.seconds == 0 or d.nanos == 0 or (d.seconds > 0) == (d.nanos > 0)
    )
    seconds = d.seconds + d.nanos / 1e9
    if not valid or seconds < 0:
        raise InvalidArgument(
            "heartbeat_interval must be a valid, non-negative duration",
            ErrorReason.INVALID_FIELD,
            metadata={"field": "heartbeat_interval"},
        )
    if seconds == 0:
        return None
    if not MIN_HEARTBEAT_S <= seconds <= MAX_HEARTBEAT_S:
        raise InvalidArgument(
            f"heartbeat_interval must lie between {MIN_HEARTBEAT_S} s and {MAX_HEARTBEAT_S} s "
            "(or be zero for the gateway's default)",
            ErrorReason.INVALID_FIELD,
            metadata={"field": "heartbeat_interval"},
        )
    return seconds


def cancel_on_disconnect_hook(deps: ApiDeps) -> SessionEndHook:
    """The registry end hook: cancel the session's orders when it times out or the gateway
    stops (Logout does it itself, to report the count)."""

    async def hook(active: ActiveSession, reason: EndReason) -> None:
        if active.cancel_on_disconnect and reason is not EndReason.LOGOUT:
            count = await deps.service.cancel_all(active.context(), own_only=True)
            log.info(
                "cancel on disconnect",
                extra={"session_id": active.session_id, "canceled": count, "reason": str(reason)},
            )

    return hook
