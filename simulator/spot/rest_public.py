"""Spot REST public methods (wire 4): Time, SystemStatus, Assets, AssetPairs and market data."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from simulator.context import SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.pairs import KrakenPair
from simulator.spot.params import Params, get_list, get_str

UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"

# AssetPairs `info=` subsets (wire 4): which fields each one returns.
_PAIR_INFO_FIELDS = {
    "leverage": ("leverage_buy", "leverage_sell"),
    "fees": ("fees", "fees_maker", "fee_volume_currency"),
    "margin": ("margin_call", "margin_stop"),
}


def _time(ctx: SimContext, params: Params) -> dict[str, Any]:
    now = int(ctx.now())
    # Kraken's rfc1123 uses a two-digit year: "Tue, 11 Nov 25 00:17:04 +0000".
    return {
        "unixtime": now,
        "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now)),
    }


def rfc3339_seconds(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _system_status(ctx: SimContext, params: Params) -> dict[str, Any]:
    return {"status": ctx.faults.system_status.value, "timestamp": rfc3339_seconds(ctx.now())}


def _assets(ctx: SimContext, params: Params) -> dict[str, Any]:
    names = get_list(params, "asset")
    aclass = get_str(params, "aclass")
    if aclass not in (None, "currency"):
        return {}
    if not names:
        return {a.id: a.as_wire() for a in ctx.pairs.assets.values()}
    out: dict[str, Any] = {}
    for name in names:
        asset = ctx.pairs.asset(name)
        if asset is None:
            raise KrakenError(UNKNOWN_ASSET)
        out[asset.id] = asset.as_wire()
    return out


def requested_pairs(ctx: SimContext, params: Params, *, required: bool = False) -> list[KrakenPair]:
    """The `pair` parameter (comma list of ids, altnames or slash names); all pairs when absent."""
    pairs: list[KrakenPair] = []
    for _, pair in _requested(ctx, params, required=required):
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def _requested(
    ctx: SimContext, params: Params, *, required: bool = False
) -> list[tuple[str, KrakenPair]]:
    """(name as asked, pair) per `pair` entry; (id, pair) for every pair when absent."""
    names = get_list(params, "pair")
    if not names:
        if required:
            raise KrakenError("EGeneral:Invalid arguments:pair")
        return [(pair.id, pair) for pair in ctx.pairs.pairs.values()]
    found: list[tuple[str, KrakenPair]] = []
    for name in names:
        pair = ctx.pairs.pair(name)
        if pair is None:
            raise KrakenError(UNKNOWN_PAIR)
        found.append((name, pair))
    return found


def asset_pairs_key(asked: str, pair: KrakenPair) -> str:
    """The result key Kraken files a pair under: a slash name (`BTC/USD`, `XBT/USD`) as the
    client wrote it (python-kraken-sdk reads `result["BTC/USD"]`), otherwise the pair id
    (`XBTUSD` and `XXBTZUSD` both give `XXBTZUSD`; wire 4)."""
    return asked if "/" in asked else pair.id


def _asset_pairs(ctx: SimContext, params: Params) -> dict[str, Any]:
    info = get_str(params, "info") or "info"
    if info != "info" and info not in _PAIR_INFO_FIELDS:
        raise KrakenError("EGeneral:Invalid arguments:info")
    aclass_base = get_str(params, "aclass_base")
    if aclass_base not in (None, "currency"):
        return {}
    out: dict[str, Any] = {}
    for asked, pair in _requested(ctx, params):
        wire = pair.as_wire()
        if info != "info":
            wire = {name: wire[name] for name in _PAIR_INFO_FIELDS[info] if name in wire}
        out[asset_pairs_key(asked, pair)] = wire
    return out


PUBLIC_METHODS: dict[str, Any] = {
    "Time": _time,
    "SystemStatus": _system_status,
    "Assets": _assets,
    "AssetPairs": _asset_pairs,
}
