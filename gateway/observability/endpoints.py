"""The operator endpoints of a gateway: Prometheus `/metrics` and the console, each on its
own port (both off unless configured), served by aiohttp on the gateway's event loop, so
every read of sessions, orders and budgets happens on the loop that owns them.

Also wires what runs regardless: the order-event log line per committed report.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.config import GatewayConfig
from gateway.console.auth import AdminAuth
from gateway.console.feed import ConsoleFeed
from gateway.console.read_model import GatewayReadModel
from gateway.console.server import ConsoleServer
from gateway.core.service import TradingService
from gateway.core.telemetry import NO_TELEMETRY, FanoutTelemetry, Telemetry
from gateway.journal.hub import ReportListener
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.order_log import log_order_event
from gateway.sessions.registry import SessionRegistry

__all__ = ["ObservableJournal", "OperatorEndpoints"]

log = logging.getLogger(__name__)


@runtime_checkable
class ObservableJournal(Protocol):
    """What the journals (SQLite, PostgreSQL) offer observers: committed reports, stream lag,
    commit timing."""

    telemetry: Telemetry

    def add_report_listener(self, listener: ReportListener) -> None: ...

    def stream_lags(self) -> dict[str, int]: ...


class OperatorEndpoints:
    def __init__(self, config: GatewayConfig, *, metrics: bool | None = None) -> None:
        self.config = config
        want_metrics = config.server.metrics_listen is not None if metrics is None else metrics
        self.metrics = GatewayMetrics() if want_metrics else None
        self.feed = ConsoleFeed() if config.console.listen else None
        sinks: list[Telemetry] = [s for s in (self.metrics, self.feed) if s is not None]
        # Venue adapters built after this take it; nothing at all when no endpoint is on.
        self.telemetry: Telemetry = FanoutTelemetry(sinks) if sinks else NO_TELEMETRY
        self.model: GatewayReadModel | None = None
        self.console: ConsoleServer | None = None
        self.metrics_port = 0
        self.console_port = 0
        self._metrics_runner: web.AppRunner | None = None

    def attach(
        self,
        service: TradingService,
        sessions: SessionRegistry,
        journal: object,
    ) -> None:
        """Connect to the built gateway (before it starts serving)."""
        lags = journal.stream_lags if isinstance(journal, ObservableJournal) else None
        self.model = GatewayReadModel(self.config, service, sessions, lags)
        if isinstance(journal, ObservableJournal):
            journal.add_report_listener(log_order_event)
            if self.metrics is not None:
                journal.add_report_listener(self.metrics.on_report)
                journal.telemetry = self.telemetry
            if self.feed is not None:
                journal.add_report_listener(self.feed.on_report)
        service.telemetry = self.telemetry
        if self.metrics is not None:
            self.metrics.watch(self.model)
        if self.feed is not None:
            self.console = ConsoleServer(
                self.model, self.feed, AdminAuth(self.config.console.admin_token_sha256)
            )

    async def start(self) -> None:
        listen = self.config.server.metrics_listen
        if self.metrics is not None and listen:
            self.metrics_port = await self._start_metrics(listen)
        if self.console is not None and self.config.console.listen:
            self.console_port = await self.console.start(self.config.console.listen)

    async def stop(self) -> None:
        if self.console is not None:
            await self.console.stop()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()

    async def _start_metrics(self, listen: str) -> int:
        metrics = self.metrics
        assert metrics is not None

        async def scrape(_request: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(metrics.registry),
                headers={"Content-Type": CONTENT_TYPE_LATEST},
            )

        app = web.Application()
        app.router.add_get("/metrics", scrape)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        host, _, port = listen.rpartition(":")
        await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port)).start()
        self._metrics_runner = runner
        bound = int(runner.addresses[0][1])
        log.info("metrics serving", extra={"port": bound})
        return bound
