"""Kraken Spot REST front end: `/0/public/<Method>` and `/0/private/<Method>` on the shared app.

Pipeline of a private call: parse body (form or JSON) -> API-Key/API-Sign/nonce
(simulator.spot.auth) -> key permission -> REST call counter -> the method's handler. Every
refusal is Kraken's envelope `{"error": ["<code>"]}` with HTTP 200, like the real API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.errors import KrakenError
from simulator.spot.auth import REQUEST_SENDER, peer_address, require_permission
from simulator.spot.dead_man import disarm_all
from simulator.spot.params import Params, invalid, parse_body
from simulator.spot.rest_account import ACCOUNT_METHODS
from simulator.spot.rest_fees import FEE_METHODS
from simulator.spot.rest_market import MARKET_METHODS
from simulator.spot.rest_public import PUBLIC_METHODS
from simulator.spot.rest_trading import TRADING_METHODS

PublicHandler = Callable[[SimContext, Params], Any]
PrivateHandler = Callable[[SimContext, KrakenApiKey, Params], Any]

UNKNOWN_METHOD = "EGeneral:Unknown method"


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: object) -> bytes:
    """Compact JSON as Kraken sends it; Decimals become strings (amounts are wire strings)."""
    return json.dumps(payload, separators=(",", ":"), default=_json_default).encode()


def envelope_response(errors: list[str], result: object) -> web.Response:
    payload: dict[str, Any] = {"error": errors}
    if not errors:
        payload["result"] = result
    return web.Response(body=dumps(payload), content_type="application/json")


class SpotRestApi:
    """The method tables and the request pipeline of one simulator."""

    def __init__(
        self,
        ctx: SimContext,
        public: Mapping[str, PublicHandler],
        private: Mapping[str, PrivateHandler],
    ) -> None:
        self._ctx = ctx
        self._public = dict(public)
        self._private = dict(private)

    async def public(self, request: web.Request) -> web.Response:
        handler = self._public.get(request.match_info["method"])
        if handler is None:
            return envelope_response([UNKNOWN_METHOD], None)
        params: Params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            try:
                params.update(parse_body(await request.read(), request.content_type))
            except (KrakenError, UnicodeDecodeError):
                return envelope_response(["EGeneral:Invalid arguments"], None)
        return self._run(lambda: handler(self._ctx, params))

    async def private(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        handler = self._private.get(method)
        if handler is None:
            return envelope_response([UNKNOWN_METHOD], None)
        if request.method != "POST":
            # Kraken answers a GET on a private method this way (wire 12, ccxt#7423).
            return envelope_response(["EGeneral:Invalid arguments"], None)
        body = await request.read()
        ctx = self._ctx

        def call() -> Any:
            try:
                params = parse_body(body, request.content_type)
            except UnicodeDecodeError as exc:
                raise invalid() from exc
            sender = request.headers.get("KrakenGW-Lease", "")
            key = ctx.spot_auth.authenticate(
                path=request.path,
                api_key=request.headers.get("API-Key"),
                api_sign=request.headers.get("API-Sign"),
                nonce=params.get("nonce"),
                body=body,
                now=ctx.now(),
                sender=sender,
                peer=peer_address(request.transport.get_extra_info("peername"))
                if request.transport is not None
                else "",
            )
            require_permission(key, method)
            tier = ctx.accounts.tier_of(key.account_id)
            ctx.limits.spend_rest(key.key, tier, method, ctx.now())
            named = REQUEST_SENDER.set(sender)
            try:
                return handler(ctx, key, params)
            finally:
                REQUEST_SENDER.reset(named)

        return self._run(call)

    @staticmethod
    def _run(call: Callable[[], Any]) -> web.Response:
        try:
            result = call()
        except KrakenError as exc:
            return envelope_response([exc.code], None)
        return envelope_response([], result)


def register(app: web.Application, ctx: SimContext) -> None:
    api = SpotRestApi(
        ctx,
        {**PUBLIC_METHODS, **MARKET_METHODS},
        {**ACCOUNT_METHODS, **FEE_METHODS, **TRADING_METHODS},
    )

    async def stop_timers(app: web.Application) -> None:
        disarm_all(ctx)

    app.on_cleanup.append(stop_timers)
    app.router.add_route("GET", "/0/public/{method}", api.public)
    app.router.add_route("POST", "/0/public/{method}", api.public)
    app.router.add_route("*", "/0/private/{method}", api.private)
