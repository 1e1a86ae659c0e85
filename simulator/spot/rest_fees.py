"""Spot REST TradeVolume (fee tiers) and OrderAmends (amend history), wire 3.3 / 3.7."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.pairs import FeeSchedule
from simulator.spot.params import Params, get_bool, get_list, require_str
from simulator.spot.rest_public import requested_pairs


def _four(value: Decimal) -> str:
    return f"{value:.4f}"


def fee_tier(schedule: FeeSchedule, volume: Decimal) -> dict[str, Any]:
    """One `fees`/`fees_maker` entry: the tier `volume` falls in and the next one."""
    index = max(i for i, (threshold, _) in enumerate(schedule) if volume >= threshold)
    tier_volume, fee = schedule[index]
    following = schedule[index + 1] if index + 1 < len(schedule) else None
    return {
        "fee": _four(fee),
        "minfee": _four(min(pct for _, pct in schedule)),
        "maxfee": _four(max(pct for _, pct in schedule)),
        "nextfee": _four(following[1]) if following else None,
        "tiervolume": _four(tier_volume),
        "nextvolume": _four(following[0]) if following else None,
    }


def _trade_volume(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    volume = ctx.spot().trade_volume(key.account_id)
    result: dict[str, Any] = {"currency": "ZUSD", "volume": _four(volume)}
    if not get_list(params, "pair"):
        result["fees"] = result["fees_maker"] = None
        return result
    pairs = requested_pairs(ctx, params)
    result["fees"] = {p.id: fee_tier(p.fees, volume) for p in pairs}
    result["fees_maker"] = {p.id: fee_tier(p.fees_maker, volume) for p in pairs}
    if not get_bool(params, "fee-info", True):
        del result["fees"], result["fees_maker"]
    return result


def _order_amends(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    records = ctx.spot().order_amends(key.account_id, require_str(params, "order_id"))
    amends = []
    for r in records:
        entry: dict[str, Any] = {
            "amend_id": r.amend_id,
            "amend_type": r.amend_type,
            "order_qty": str(r.order_qty),
            "remaining_qty": str(r.remaining_qty),
            "post_only": r.post_only,
            "timestamp": int(r.timestamp * 1000),
        }
        if r.display_qty is not None:
            entry["display_qty"] = str(r.display_qty)
        if r.limit_price is not None:
            entry["limit_price"] = str(r.limit_price)
        if r.trigger_price is not None:
            entry["trigger_price"] = str(r.trigger_price)
        if r.reason is not None:
            entry["reason"] = r.reason
        amends.append(entry)
    return {"amends": amends, "count": len(amends)}


FEE_METHODS: dict[str, Any] = {"TradeVolume": _trade_volume, "OrderAmends": _order_amends}
