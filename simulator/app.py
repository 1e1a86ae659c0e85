"""The simulator's one aiohttp application: every Kraken front end on one port, at the origin root.

Paths: Spot REST `/0/public/*` and `/0/private/*`; Futures REST `/derivatives/api/v3/*` and
`/api/history/*`; WebSockets `SPOT_WS_PUBLIC_PATH`, `SPOT_WS_PRIVATE_PATH`, `FUTURES_WS_PATH`
(see simulator/context.py); the test-only admin endpoint `/_sim/faults`.

Front-end modules plug in with `register(app: web.Application, ctx: SimContext) -> None`; they
add routes and, if they need background tasks, `app.on_startup` / `app.on_cleanup` hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from simulator.accounts import KrakenAccounts
from simulator.context import (
    FUTURES_WS_PATH,
    SPOT_WS_PRIVATE_PATH,
    SPOT_WS_PUBLIC_PATH,
    SimContext,
    make_context,
)
from simulator.engine.clock import Clock
from simulator.faults import FaultAction, FaultPlanError, FaultRule
from simulator.futures import rest as futures_rest
from simulator.futures import ws as futures_ws
from simulator.spot import rest as spot_rest
from simulator.spot import ws as spot_ws
from simulator.spot.limits import LimitsConfig
from simulator.wire.tls import write_self_signed

CTX_KEY = web.AppKey("krakengw_sim_ctx", SimContext)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(ctx: SimContext) -> web.Application:
    app = web.Application(middlewares=[_fault_middleware(ctx)], client_max_size=1 << 20)
    app[CTX_KEY] = ctx
    spot_rest.register(app, ctx)
    futures_rest.register(app, ctx)
    spot_ws.register(app, ctx)
    futures_ws.register(app, ctx)
    app.on_startup.append(_start_driver)
    app.on_cleanup.append(_stop_driver)
    app.router.add_get("/_sim/faults", _get_faults)
    app.router.add_post("/_sim/faults", _set_faults)
    app.router.add_delete("/_sim/faults", _clear_faults)
    return app


DRIVER_KEY = web.AppKey("krakengw_sim_driver", asyncio.Task[None])
DRIVER_INTERVAL_S = 0.1
SHUTDOWN_TIMEOUT_S = 1.0


async def _drive(ctx: SimContext) -> None:
    """Run due timers and the market maker while no request arrives (clock-driven, idempotent)."""
    while True:
        await asyncio.sleep(DRIVER_INTERVAL_S)
        ctx.tick()


async def _start_driver(app: web.Application) -> None:
    app[DRIVER_KEY] = asyncio.get_running_loop().create_task(_drive(app[CTX_KEY]))


async def _stop_driver(app: web.Application) -> None:
    task = app[DRIVER_KEY]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _fault_middleware(ctx: SimContext) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        ctx.tick()  # timers due at the clock's time run before the request sees the state
        rule = ctx.faults.http_action(request.path)
        if rule is None:
            return await handler(request)
        return await _apply_http_fault(rule, request, handler, ctx)

    return middleware


async def _apply_http_fault(
    rule: FaultRule, request: web.Request, handler: Handler, ctx: SimContext
) -> web.StreamResponse:
    if rule.action is FaultAction.DELAY:
        await asyncio.sleep(rule.delay_s)
        return await handler(request)
    if rule.action is FaultAction.HTTP_STATUS:
        return web.Response(status=rule.status, text=f"{rule.status} simulated fault\n")
    if rule.action is FaultAction.ERROR:
        return _venue_error(request.path, rule.error, ctx)
    response = await handler(request)
    if rule.action is FaultAction.DELAY_AFTER_ACCEPT:
        await asyncio.sleep(rule.delay_s)
        return response
    # drop_after_accept: the request takes effect, the client never sees the answer.
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response


def _venue_error(path: str, error: str, ctx: SimContext) -> web.Response:
    if path.startswith("/0/"):
        return spot_rest.envelope_response([error], None)
    server_time = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ctx.now()))
    body = {"result": "error", "serverTime": server_time, "error": error}
    return web.Response(body=json.dumps(body).encode(), content_type="application/json")


async def _get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[CTX_KEY].faults.to_json())


async def _set_faults(request: web.Request) -> web.Response:
    try:
        raw = await request.json()
        if not isinstance(raw, dict):
            raise FaultPlanError("expected a JSON object")
        request.app[CTX_KEY].faults.load_json(raw)
    except (json.JSONDecodeError, FaultPlanError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(request.app[CTX_KEY].faults.to_json())


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[CTX_KEY].faults.clear()
    return web.json_response(request.app[CTX_KEY].faults.to_json())


class SimulatorServer:
    """The whole simulator on one real socket, for tests and the CLI.

    async with SimulatorServer(port=0, seed=7) as sim:
        httpx.get(sim.base_url + "/0/public/Time")

    `tls=True` serves HTTPS and WSS on that socket with a self-signed certificate made at start
    (simulator/wire/tls.py), written to `tls_dir` or to a temporary directory removed at stop;
    `tls_cert_path` is the file a client trusts, and the URLs say `https://` / `wss://`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accounts: KrakenAccounts | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        limits: LimitsConfig | None = None,
        market_maker: bool = True,
        context: SimContext | None = None,
        tls: bool = False,
        tls_dir: Path | None = None,
    ) -> None:
        self.ctx = context or make_context(
            accounts=accounts, seed=seed, clock=clock, limits=limits, market_maker=market_maker
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.tls = tls
        self._tls_dir = tls_dir
        self._tls_temp_dir: Path | None = None
        self.tls_cert_path: Path | None = None

    async def start(self) -> None:
        self.app = build_app(self.ctx)
        # Requests still in flight at stop (e.g. a delay fault) are cancelled after a second.
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await self._runner.setup()
        ssl_context = self._make_tls() if self.tls else None
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=ssl_context)
        await site.start()
        self.port = self._bound_port(site)

    def _make_tls(self) -> ssl.SSLContext:
        directory = self._tls_dir
        if directory is None:
            directory = self._tls_temp_dir = Path(tempfile.mkdtemp(prefix="krakengw-sim-tls-"))
        files = write_self_signed(directory, self._host)
        self.tls_cert_path = files.cert_path
        return files.server_context()

    @staticmethod
    def _bound_port(site: web.TCPSite) -> int:
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tls_temp_dir is not None:
            shutil.rmtree(self._tls_temp_dir, ignore_errors=True)
            self._tls_temp_dir = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Origin of the Spot REST API (`/0/...`) and the Futures REST API (`/derivatives/...`)."""
        return f"{'https' if self.tls else 'http'}://{self._host}:{self.port}"

    @property
    def futures_base_url(self) -> str:
        return f"{self.base_url}/derivatives/api/v3"

    @property
    def spot_ws_public_url(self) -> str:
        return f"{self._ws_origin}{SPOT_WS_PUBLIC_PATH}"

    @property
    def spot_ws_private_url(self) -> str:
        return f"{self._ws_origin}{SPOT_WS_PRIVATE_PATH}"

    @property
    def futures_ws_url(self) -> str:
        return f"{self._ws_origin}{FUTURES_WS_PATH}"

    @property
    def _ws_origin(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self._host}:{self.port}"

    def urls(self) -> dict[str, str]:
        return {
            "spot_rest": self.base_url,
            "futures_rest": self.futures_base_url,
            "spot_ws_public": self.spot_ws_public_url,
            "spot_ws_private": self.spot_ws_private_url,
            "futures_ws": self.futures_ws_url,
            "faults_admin": f"{self.base_url}/_sim/faults",
        }
