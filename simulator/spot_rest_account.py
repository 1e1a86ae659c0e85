"""Spot REST private account methods: balances, queries, ledgers, WS token, subaccounts."""

from __future__ import annotations

from typing import Any

from simulator.accounts import KrakenApiKey
from simulator.context import WS_TOKEN_TTL_S, SimContext
from simulator.spot_params import Params


def _get_websockets_token(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    return {"token": ctx.ws_tokens.issue(key, ctx.now()), "expires": int(WS_TOKEN_TTL_S)}


ACCOUNT_METHODS: dict[str, Any] = {
    "GetWebSocketsToken": _get_websockets_token,
}
