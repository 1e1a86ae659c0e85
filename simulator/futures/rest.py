"""Kraken Futures REST front end: `/derivatives/api/v3/*` and `/api/history/{v2,v3}/*` (wire 8).

Every call answers with Kraken's envelope (`result`, `serverTime`, payload or `error`).
Private calls are authenticated over the raw query string and body (`simulator.futures.auth`), then
charged to the key's cost budget (`simulator.futures.limits`). Parameters are accepted in the query
string, a form body, or both (clients differ, wire 8.1); batchorder's `json` field may arrive
URL-encoded or raw (CCXT sends it raw).

Timers (market steps, cancelallordersafter) run in the futures engine's `tick`, which the
venue hooks into the context's clock-driven tick (before each request and from the driver).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.futures_engine import KrakenFuturesRequestError
from simulator.futures.limits import KrakenFuturesBudget, derivatives_cost, history_cost
from simulator.futures.rest_account import ACCOUNT_ENDPOINTS, HISTORY_ENDPOINTS
from simulator.futures.rest_format import Json, error, iso_ms, success
from simulator.futures.rest_market import public_handler, public_history_handler
from simulator.futures.rest_trading import TRADING_ENDPOINTS, FuturesCall, parse_batch
from simulator.futures.venue import AUTH_ERROR, KrakenFuturesVenue, futures_venue
from simulator.wire.json_codec import encode

DERIVATIVES_PREFIX = "/derivatives/api/v3/"
# Account history is v2 (orders, executions, triggers) and v3 (account-log); the public market
# history is v3. Both versions serve the same handlers.
HISTORY_VERSIONS = ("v2", "v3")
_READ_PERMISSION = "futures_read"
_TRADE_PERMISSION = "futures_trade"

UNAVAILABLE = "Unavailable"  # system status maintenance (the fault plan's)
# Errors travel as HTTP 200 with `result: error`: python-kraken-sdk only maps the `error`
# string to its exceptions on a 200, CCXT reads the body whatever the status. Maintenance is
# the exception, a 503 like the venue's front door.
_HTTP_STATUS = {UNAVAILABLE: 503}


def _respond(payload: Json, status: int = 200) -> web.Response:
    return web.Response(text=encode(payload), status=status, content_type="application/json")


def _fail(venue: KrakenFuturesVenue, code: str) -> web.Response:
    return _respond(error(venue.engine.now_ms(), code), _HTTP_STATUS.get(code, 200))


def _parse_params(query: str, body: str) -> tuple[dict[str, str], dict[str, list[str]], str | None]:
    """(last-wins params, repeated params, batch JSON) from the query string and form body.

    batchorder's `json` field comes URL-encoded among other fields (PKS, APIGO) or as the raw
    JSON text making up the whole body (CCXT), which a form parser would cut at any `&`.
    """
    raw_batch: str | None = None
    form = body
    if body.startswith("json={"):
        raw_batch, form = body[len("json=") :], ""
    pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(form, keep_blank_values=True)
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    params = {k: v[-1] for k, v in multi.items()}
    return params, multi, raw_batch if raw_batch is not None else params.get("json")


class FuturesRestApi:
    def __init__(self, venue: KrakenFuturesVenue) -> None:
        self.venue = venue

    def _caller(self, request: web.Request, query: str, body: str, permission: str) -> KrakenApiKey:
        """The signing key, checked (wire 8.2) and allowed `permission`."""
        key = self.venue.authenticate(request.headers, query, body, request.path)
        if not key.allows(permission):
            raise KrakenFuturesRequestError(AUTH_ERROR)
        return key

    def _charge(self, budget: KrakenFuturesBudget, key: KrakenApiKey, cost: int) -> None:
        # `LimitsConfig(enforce=False)` (--no-rate-limits) turns the futures budgets off too.
        if not self.venue.ctx.limits.config.enforce:
            return
        if not budget.spend(key.key, cost, self.venue.now()):
            raise KrakenFuturesRequestError("apiLimitExceeded")

    async def derivatives(self, request: web.Request) -> web.Response:
        endpoint = request.path[len(DERIVATIVES_PREFIX) :].strip("/")
        query = request.rel_url.raw_query_string
        body = await request.text() if request.can_read_body else ""
        params, multi, batch_raw = _parse_params(query, body)
        engine = self.venue.engine
        status = self.venue.ctx.faults.system_status.value
        if status == "maintenance":
            return _fail(self.venue, UNAVAILABLE)
        try:
            public = public_handler(endpoint)
            if public is not None and request.method == "GET":
                return _respond(success(engine.now_ms(), public(engine, params, endpoint)))
            method = request.method
            trading = TRADING_ENDPOINTS.get((method, endpoint))
            account = ACCOUNT_ENDPOINTS.get((method, endpoint))
            if trading is None and account is None:
                return _respond(error(engine.now_ms(), "notFound"), 404)
            needed = _READ_PERMISSION if method == "GET" else _TRADE_PERMISSION
            key = self._caller(request, query, body, needed)
            batch = parse_batch(batch_raw) if endpoint == "batchorder" and batch_raw else None
            cost = derivatives_cost(method, endpoint, params, len(batch or []))
            self._charge(self.venue.budget, key, cost)
            call = FuturesCall(method, endpoint, params, multi, key.account_id, batch, status)
            if trading is not None:
                payload = trading(engine, call)
            else:
                assert account is not None
                payload = account(self.venue, call)
        except KrakenFuturesRequestError as exc:
            return _fail(self.venue, exc.code)
        return _respond(success(engine.now_ms(), payload))

    async def history(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"].strip("/")
        query = request.rel_url.raw_query_string
        body = await request.text() if request.can_read_body else ""
        params, multi, _ = _parse_params(query, body)
        handler = HISTORY_ENDPOINTS.get(endpoint)
        engine = self.venue.engine
        if self.venue.ctx.faults.system_status.value == "maintenance":
            return _fail(self.venue, UNAVAILABLE)
        public = public_history_handler(endpoint)
        if public is not None and request.method == "GET":
            try:
                payload = public(engine, params, endpoint)
            except KrakenFuturesRequestError as exc:
                return _fail(self.venue, exc.code)
            return _respond({**payload, "serverTime": iso_ms(engine.now_ms())})
        if handler is None or request.method != "GET":
            return _respond(error(engine.now_ms(), "notFound"), 404)
        try:
            key = self._caller(request, query, body, _READ_PERMISSION)
            self._charge(self.venue.history_budget, key, history_cost(endpoint, params))
            payload = handler(
                self.venue, FuturesCall("GET", endpoint, params, multi, key.account_id)
            )
        except KrakenFuturesRequestError as exc:
            return _fail(self.venue, exc.code)
        return _respond({**payload, "serverTime": iso_ms(engine.now_ms())})


SETTINGS_PATH = "/_sim/futures/settings"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _settings_json(venue: KrakenFuturesVenue) -> Json:
    return {"order_status_window_s": venue.order_status_window_s}


def _settings_handlers(venue: KrakenFuturesVenue) -> tuple[_Handler, _Handler]:
    """Test-only `GET`/`POST /_sim/futures/settings`: `{"order_status_window_s": 0}` lets a test
    see Kraken's 5-second orders/status window close without waiting for it."""

    async def get(request: web.Request) -> web.Response:
        return web.json_response(_settings_json(venue))

    async def post(request: web.Request) -> web.Response:
        try:
            raw = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "expected a JSON object"}, status=400)
        window = raw.get("order_status_window_s") if isinstance(raw, dict) else None
        if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
            return web.json_response(
                {"error": "order_status_window_s: a number of seconds >= 0"}, status=400
            )
        venue.order_status_window_s = float(window)
        return web.json_response(_settings_json(venue))

    return get, post


def register(app: web.Application, ctx: SimContext) -> None:
    """Add the futures REST routes (and the test-only settings endpoint) to the simulator's
    application."""
    venue = futures_venue(ctx)
    api = FuturesRestApi(venue)
    get_settings, set_settings = _settings_handlers(venue)
    app.router.add_get(SETTINGS_PATH, get_settings)
    app.router.add_post(SETTINGS_PATH, set_settings)
    app.router.add_route("*", DERIVATIVES_PREFIX + "{endpoint:.+}", api.derivatives)
    for version in HISTORY_VERSIONS:
        app.router.add_route("*", f"/api/history/{version}/{{endpoint:.+}}", api.history)
