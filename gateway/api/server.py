"""The grpc.aio server: servicers, interceptor, health, reflection, graceful stop."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.api.deps import ApiDeps
from gateway.api.interceptor import GatewayInterceptor
from gateway.api.metrics import ApiMetrics
from gateway.api.servicers.accounts import AccountServicer
from gateway.api.servicers.executions import ExecutionServicer
from gateway.api.servicers.market import InstrumentServicer, MarketDataServicer
from gateway.api.servicers.orders import OrderServicer
from gateway.api.servicers.sessions import SessionServicer
from gateway.config import TlsConfig
from gateway.sessions.auth import TokenAuthenticator
from krakengw.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    executions_pb2,
    executions_pb2_grpc,
    instruments_pb2,
    instruments_pb2_grpc,
    market_data_pb2,
    market_data_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
)

__all__ = ["CONTRACT_SERVICES", "VENUE_SERVICES", "GatewayServer"]

log = logging.getLogger(__name__)

CONTRACT_SERVICES: tuple[str, ...] = tuple(
    service.full_name
    for module in (
        sessions_pb2,
        orders_pb2,
        executions_pb2,
        accounts_pb2,
        instruments_pb2,
        market_data_pb2,
    )
    for service in module.DESCRIPTOR.services_by_name.values()
)

# The services that need the venue: NOT_SERVING while an account's venue is unreachable or in
# maintenance (sessions, executions and instruments are served from the gateway itself).
VENUE_SERVICES: tuple[str, ...] = tuple(
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in (
        (orders_pb2, "OrderService"),
        (accounts_pb2, "AccountService"),
        (market_data_pb2, "MarketDataService"),
    )
)

# Bounds per message: a hostile client cannot make the server buffer huge requests.
_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class GatewayServer:
    def __init__(
        self,
        deps: ApiDeps,
        authenticator: TokenAuthenticator,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.deps = deps
        self._server = aio.server(
            interceptors=[GatewayInterceptor(authenticator, metrics)],
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                # A second gateway must fail to bind a taken port, not share it silently.
                ("grpc.so_reuseport", 0),
            ],
        )
        sessions_pb2_grpc.add_SessionServiceServicer_to_server(SessionServicer(deps), self._server)
        orders_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(deps), self._server)
        executions_pb2_grpc.add_ExecutionServiceServicer_to_server(
            ExecutionServicer(deps), self._server
        )
        accounts_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(deps), self._server)
        instruments_pb2_grpc.add_InstrumentServiceServicer_to_server(
            InstrumentServicer(deps), self._server
        )
        market_data_pb2_grpc.add_MarketDataServiceServicer_to_server(
            MarketDataServicer(deps), self._server
        )
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (*CONTRACT_SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )

    async def start(
        self, listen: str, tls: TlsConfig | None = None, *, serving: bool = True
    ) -> int:
        """Bind `host:port` (port 0 picks a free one) and serve; returns the bound port.
        With `tls`, serve TLS only; with its `client_ca`, require client certificates. Without
        `serving`, health says NOT_SERVING until `set_serving` (start-up reconciliation)."""
        try:
            if tls is None:
                port: int = self._server.add_insecure_port(listen)
            else:
                credentials = grpc.ssl_server_credentials(
                    [(tls.private_key.reveal().encode(), tls.cert_chain)],
                    root_certificates=tls.client_ca,
                    require_client_auth=tls.client_ca is not None,
                )
                port = self._server.add_secure_port(listen, credentials)
        except RuntimeError as exc:  # grpc reports a taken or invalid address this way
            raise OSError(f"cannot listen on {listen} (address taken or invalid)") from exc
        if port == 0:
            raise OSError(f"cannot listen on {listen}")
        await self._server.start()
        if serving:
            await self.set_serving()
        else:
            await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        log.info("gateway listening", extra={"port": port})
        return port

    async def set_serving(self) -> None:
        if not self.deps.stopping.is_set():
            await self._set_health(health_pb2.HealthCheckResponse.SERVING)

    async def _set_health(self, status: int, names: Sequence[str] = CONTRACT_SERVICES) -> None:
        for name in ("", *names):
            await self._health.set(name, status)

    async def set_venue_serving(self, serving: bool) -> None:
        """The venue-bound services follow the venue (the server's overall status does not:
        the gateway itself is up)."""
        if self.deps.stopping.is_set():
            return
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in VENUE_SERVICES:
            await self._health.set(name, status)

    async def stop(self, grace_s: float) -> None:
        """Refuse new work, let streams and in-flight calls end within `grace_s`, then stop."""
        self.deps.stopping.set()
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        # Streams notice `stopping` within one heartbeat interval; unary calls just finish.
        await self._server.stop(grace_s)
        log.info("gateway stopped")

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()
