"""The operator console: an aiohttp app on the gateway's event loop, on its own port.

Read-only for anyone who can reach the port: sessions, accounts and venue status (dead man's
switch countdown, kill switch), open orders, the last execution reports (pushed as they are
journaled), rate budgets and venue latency (pushed once a second, one snapshot shared by every
page). With the admin token (`Authorization: Bearer <token>`; configured by its SHA-256, a
file or an environment variable, never logged) the page can engage or release an account's
kill switch and log a session out. The page and its libraries are served from the package
(`static/`), never from a CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from gateway.console.auth import AdminAuth
from gateway.console.feed import ConsoleFeed
from gateway.console.read_model import GatewayReadModel
from gateway.core.errors import GatewayError
from gateway.core.model import Order, Permission, SessionContext

__all__ = ["ConsoleServer"]

log = logging.getLogger(__name__)

TICK_S = 1.0
PING_S = 15.0
_LATENCY_SENT = 300
_REPORTS_SENT = 50
_ADMIN_PERMISSIONS = frozenset({Permission.READ, Permission.TRADE})

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, default=str),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _order_json(o: Order) -> dict[str, Any]:
    return {
        "client_order_id": o.client_order_id,
        "venue_order_id": o.venue_order_id or "",
        "session_id": o.session_id,
        "symbol": o.symbol,
        "side": o.side.name,
        "order_type": o.request.order_type.name,
        "status": o.status.name,
        "qty": str(o.qty),
        "price": None if o.price is None else str(o.price),
        "cum_qty": str(o.cum_qty),
    }


class ConsoleServer:
    def __init__(self, model: GatewayReadModel, feed: ConsoleFeed, auth: AdminAuth) -> None:
        self.model = model
        self.feed = feed
        self.auth = auth
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._tick: asyncio.Task[None] | None = None
        self._static = Path(str(resources.files("gateway.console") / "static"))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", self._static, follow_symlinks=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/admin", self._admin)
        app.router.add_post("/api/accounts/{account}/kill-switch", self._kill_switch)
        app.router.add_post("/api/sessions/{session_id}/logout", self._logout)
        return app

    async def start(self, listen: str) -> int:
        host, _, port = listen.rpartition(":")
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host.strip("[]") or "127.0.0.1", int(port))
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._tick = asyncio.create_task(self._run_tick())
        log.info("console serving", extra={"port": self.port, "admin": self.auth.enabled})
        return self.port

    async def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
        self.feed.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- state ----------------------------------------------------------------------------
    async def snapshot(self) -> dict[str, Any]:
        m = self.model
        accounts = []
        for row in m.accounts():
            orders = await m.open_orders(row.account)
            accounts.append(
                {
                    "account": row.account,
                    "venue_kind": row.venue_kind,
                    "kill_switch": row.kill_switch,
                    "leased_by": row.leased_by,
                    "venues": [
                        {
                            "venue": v.venue,
                            "key_id": v.key_id,
                            "connected": v.connected,
                            "system_status": v.system_status,
                            "dead_man_armed": v.dead_man_armed,
                            "dead_man_timeout_s": v.dead_man_timeout_s,
                            "dead_man_expires_in_s": v.dead_man_expires_in_s,
                        }
                        for v in row.venues
                    ],
                    "open_orders": [_order_json(o) for o in orders],
                }
            )
        history = dict(self.feed.budget_series())
        budgets = []
        for b in m.budgets():
            key = (b.account, b.key_id, b.budget.name, b.budget.symbol or "")
            budgets.append(
                {
                    "account": b.account,
                    "key_id": b.key_id,
                    "budget": b.budget.name,
                    "pair": b.budget.symbol or "",
                    "used": str(b.budget.used),
                    "limit": str(b.budget.limit),
                    "history": history.get(key, []),
                }
            )
        return {
            "time": time.time(),
            "sessions": [
                {
                    "session_id": s.session_id,
                    "account": s.account,
                    "since": s.since.isoformat(),
                    "leased": s.leased,
                    "heartbeat_age_s": round(s.heartbeat_age_s, 1),
                    "heartbeat_timeout_s": s.heartbeat_timeout_s,
                    "cancel_on_disconnect": s.cancel_on_disconnect,
                    "drop_copy": s.drop_copy,
                    "open_streams": s.open_streams,
                }
                for s in m.sessions()
            ],
            "accounts": accounts,
            "budgets": budgets,
            "latency": [list(p) for p in list(self.feed.latency)[-_LATENCY_SENT:]],
            "reports": list(self.feed.reports)[-_REPORTS_SENT:],
            "admin_enabled": self.auth.enabled,
        }

    def _sample_budgets(self) -> None:
        for b in self.model.budgets():
            key = (b.account, b.key_id, b.budget.name, b.budget.symbol or "")
            self.feed.sample_budget(key, float(b.budget.used), float(b.budget.limit))

    async def _run_tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self._sample_budgets()
                if self.feed.client_count:
                    self.feed.publish("state", await self.snapshot())
            except Exception:
                log.exception("console tick failed")

    # -- handlers -------------------------------------------------------------------------
    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.update(_HEADERS)
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self._static / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.StreamResponse:
        return _json(await self.snapshot())

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        admin = self.auth.check(request.headers.get("Authorization"))
        return _json({"enabled": self.auth.enabled, "admin": admin})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        response.headers.update(_HEADERS)
        await response.prepare(request)
        queue = self.feed.subscribe()
        try:
            await response.write(_event("state", await self.snapshot()))
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), PING_S)
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if item is None:
                    break
                await response.write(_event(*item))
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.feed.unsubscribe(queue)
        return response

    def _require_admin(self, request: web.Request) -> None:
        if not self.auth.enabled:
            raise web.HTTPForbidden(text="no admin token is configured for the console")
        if not self.auth.check(request.headers.get("Authorization")):
            log.warning("console admin refused", extra={"path": request.path})
            raise web.HTTPUnauthorized(
                text="admin token required", headers={"WWW-Authenticate": "Bearer"}
            )

    async def _kill_switch(self, request: web.Request) -> web.StreamResponse:
        self._require_admin(request)
        account = request.match_info["account"]
        if account not in self.model.config.accounts:
            raise web.HTTPNotFound(text="unknown account")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        active = body.get("active") if isinstance(body, dict) else None
        if not isinstance(active, bool):
            raise web.HTTPBadRequest(text='body must be {"active": true|false}')
        ctx = SessionContext(session_id="console", account=account, permissions=_ADMIN_PERMISSIONS)
        try:
            canceled = await self.model.service.set_kill_switch(ctx, active, "operator console")
        except GatewayError as exc:
            return _json({"error": exc.reason.name, "message": str(exc)}, status=409)
        log.warning(
            "console kill switch",
            extra={"account": account, "active": active, "canceled": canceled},
        )
        return _json({"account": account, "kill_switch": active, "canceled": canceled})

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        self._require_admin(request)
        session_id = request.match_info["session_id"]
        if self.model.registry.get(session_id) is None:
            raise web.HTTPNotFound(text="no such live session")
        await self.model.registry.logout(session_id)
        log.warning("console logged a session out", extra={"session_id": session_id})
        return _json({"session_id": session_id, "logged_out": True})


def _event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data, default=str) + b"\n\n"
