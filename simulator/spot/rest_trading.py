"""Spot REST private trading: AddOrder(Batch), AmendOrder, EditOrder, cancels, CancelAll(After).

What every method checks and charges before the engine sees the request (permission, system
status, the per-pair trading counter, deadline, open-order limit) is simulator.spot.trading_policy,
shared with the WS v2 front end; this module parses REST parameters and maps the engine's results
to Kraken's REST shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.descr import fmt_price, fmt_volume
from simulator.engine.errors import KrakenError
from simulator.engine.model import (
    OFLAGS,
    AddResult,
    CloseParams,
    Order,
    OrderParams,
    OrderType,
    Side,
    StpType,
    TimeInForce,
    TriggerRef,
)
from simulator.engine.pairs import KrakenPair
from simulator.spot.dead_man import arm_dead_man_switch
from simulator.spot.params import (
    Params,
    get_bool,
    get_int,
    get_list,
    get_str,
    invalid,
    require_str,
)
from simulator.spot.trading_policy import SpotTradingPolicy, TradingAction, parse_deadline

UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ORDER = "EOrder:Unknown order"
MAX_BATCH_ADD = 15

E = TypeVar("E", bound=StrEnum)


def _pair(ctx: SimContext, params: Params) -> KrakenPair:
    pair = ctx.pairs.pair(require_str(params, "pair"))
    if pair is None:
        raise KrakenError(UNKNOWN_PAIR)
    return pair


def _enum(
    enum: type[E], params: Mapping[str, Any], name: str, default: E, *, upper: bool = False
) -> E:
    """An enum parameter, case-insensitive (clients send `GTC`, `gtc`, `Buy`)."""
    text = get_str(params, name)
    return default if text is None else _parse_enum(enum, text, name, upper)


def _required_enum(enum: type[E], params: Mapping[str, Any], name: str) -> E:
    return _parse_enum(enum, require_str(params, name), name, upper=False)


def _parse_enum(enum: type[E], text: str, name: str, upper: bool) -> E:
    try:
        return enum(text.upper() if upper else text.lower())
    except ValueError:
        raise invalid(name) from None


def _oflags(params: Mapping[str, Any]) -> frozenset[str]:
    flags = frozenset(f.strip().lower() for f in get_list(params, "oflags"))
    if not flags <= OFLAGS:
        raise invalid("oflags")
    return flags


def _close(params: Mapping[str, Any]) -> CloseParams | None:
    raw = params.get("close")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, Mapping):
        raise invalid("close")
    ordertype = _required_enum(OrderType, raw, "ordertype")
    return CloseParams(ordertype, get_str(raw, "price"), get_str(raw, "price2"))


def order_params(order: Mapping[str, Any], pair: KrakenPair, validate: bool) -> OrderParams:
    """An AddOrder request (or one AddOrderBatch entry) as the engine's OrderParams."""
    userref = get_int(order, "userref")
    cl_ord_id = get_str(order, "cl_ord_id")
    if userref is not None and cl_ord_id is not None:
        raise invalid("userref")
    return OrderParams(
        pair=pair.id,
        side=_required_enum(Side, order, "type"),
        ordertype=_required_enum(OrderType, order, "ordertype"),
        volume=require_str(order, "volume"),
        price=get_str(order, "price"),
        price2=get_str(order, "price2"),
        displayvol=get_str(order, "displayvol"),
        trigger=_enum(TriggerRef, order, "trigger", TriggerRef.LAST),
        oflags=_oflags(order),
        timeinforce=_enum(TimeInForce, order, "timeinforce", TimeInForce.GTC, upper=True),
        starttm=get_str(order, "starttm"),
        expiretm=get_str(order, "expiretm"),
        userref=userref,
        cl_ord_id=cl_ord_id,
        stptype=_enum(StpType, order, "stptype", StpType.CANCEL_NEWEST),
        leverage=get_str(order, "leverage"),
        reduce_only=get_bool(order, "reduce_only"),
        close=_close(order),
        validate=validate,
    )


def _find_open(
    ctx: SimContext, account_id: str, ref: str, *, by_cl_ord_id: bool = False
) -> list[Order]:
    """Open orders a reference names: txid, integer userref (all matching) or cl_ord_id."""
    engine = ctx.spot()
    if by_cl_ord_id:
        return engine.open_orders(account_id, cl_ord_id=ref)
    if ref.strip().lstrip("-").isdigit():
        return engine.open_orders(account_id, userref=int(ref))
    order = engine.get_order(ref)
    return [order] if order and order.account_id == account_id and order.is_open else []


def _descr(result: AddResult) -> dict[str, Any]:
    descr: dict[str, Any] = {"order": result.descr_order}
    if result.descr_close:
        descr["close"] = result.descr_close
    return descr


def _add_order(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    policy = SpotTradingPolicy(ctx)
    policy.permit(key, TradingAction.ADD)
    pair = _pair(ctx, params)
    account_id = key.account_id
    # The fixed +1 applies on receipt, even when the request then fails validation (wire 5.2).
    policy.charge_add(account_id, pair.id)
    validate = get_bool(params, "validate")
    request = order_params(params, pair, validate)
    policy.check_status(TradingAction.ADD, post_only="post" in request.oflags)
    policy.check_deadline(parse_deadline(params.get("deadline")))
    policy.check_open_orders(account_id, pair.id, 1, validate)
    result = ctx.spot().add_order(account_id, request)
    if validate:
        return {"descr": _descr(result)}
    return {"descr": _descr(result), "txid": [result.txid]}


def _add_order_batch(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    policy = SpotTradingPolicy(ctx)
    policy.permit(key, TradingAction.BATCH_ADD)
    pair = _pair(ctx, params)
    account_id = key.account_id
    raw_orders = params.get("orders")
    if not isinstance(raw_orders, list) or not 2 <= len(raw_orders) <= MAX_BATCH_ADD:
        raise invalid("orders")
    policy.charge_add(account_id, pair.id, len(raw_orders))
    validate = get_bool(params, "validate")
    requests = []
    for raw in raw_orders:
        if not isinstance(raw, Mapping):
            raise invalid("orders")
        requests.append(order_params({"pair": pair.id, **raw}, pair, validate))
    policy.check_status(
        TradingAction.BATCH_ADD, post_only=all("post" in r.oflags for r in requests)
    )
    policy.check_deadline(parse_deadline(params.get("deadline")))
    policy.check_open_orders(account_id, pair.id, len(requests), validate)
    # The engine validates the whole batch first, then reports per-order failures in place.
    results: list[dict[str, Any]] = []
    for outcome in ctx.spot().add_order_batch(account_id, pair.id, requests, validate):
        if isinstance(outcome, KrakenError):
            results.append({"error": outcome.code})
            continue
        entry: dict[str, Any] = {"descr": _descr(outcome)}
        if outcome.txid is not None:
            entry["txid"] = outcome.txid
        results.append(entry)
    return {"orders": results}


def _amend_order(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    account_id = key.account_id
    txid, cl_ord_id = get_str(params, "txid"), get_str(params, "cl_ord_id")
    if (txid is None) == (cl_ord_id is None):
        raise invalid("txid")
    post_only = get_bool(params, "post_only")
    policy = SpotTradingPolicy(ctx)
    policy.admit(key, TradingAction.AMEND, post_only=post_only)
    if cl_ord_id is not None:
        found = _find_open(ctx, account_id, cl_ord_id, by_cl_ord_id=True)
    else:
        found = _find_open(ctx, account_id, txid or "")
    policy.charge_change(account_id, TradingAction.AMEND, found[0] if found else None)
    policy.check_deadline(parse_deadline(params.get("deadline")))
    result = ctx.spot().amend_order(
        account_id,
        txid=txid,
        cl_ord_id=cl_ord_id,
        order_qty=get_str(params, "order_qty"),
        display_qty=get_str(params, "display_qty"),
        limit_price=get_str(params, "limit_price"),
        trigger_price=get_str(params, "trigger_price"),
        post_only=post_only,
    )
    return {"amend_id": result.amend_id}


def _edit_order(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    account_id = key.account_id
    pair = _pair(ctx, params)
    ref = require_str(params, "txid")
    oflags = _oflags(params) if params.get("oflags") not in (None, "") else None
    policy = SpotTradingPolicy(ctx)
    policy.admit(key, TradingAction.EDIT, post_only=bool(oflags and "post" in oflags))
    found = _find_open(ctx, account_id, ref)
    policy.charge_change(account_id, TradingAction.EDIT, found[0] if len(found) == 1 else None)
    policy.check_deadline(parse_deadline(params.get("deadline")))
    result = ctx.spot().edit_order(
        account_id,
        ref,
        pair.id,
        volume=get_str(params, "volume"),
        price=get_str(params, "price"),
        price2=get_str(params, "price2"),
        displayvol=get_str(params, "displayvol"),
        userref=get_int(params, "userref"),
        oflags=oflags,
        validate=get_bool(params, "validate"),
    )
    out: dict[str, Any] = {"status": "ok"}
    if result.txid is not None:
        out["txid"] = result.txid
    out["originaltxid"] = result.originaltxid
    out["volume"] = fmt_volume(result.volume, pair)
    out["price"] = fmt_price(result.price, pair) if result.price is not None else "0"
    out["price2"] = fmt_price(result.price2, pair) if result.price2 is not None else "0"
    out["orders_cancelled"] = result.orders_cancelled
    out["descr"] = {"order": result.descr_order}
    if result.newuserref is not None:
        out["newuserref"] = result.newuserref
    if result.olduserref is not None:
        out["olduserref"] = result.olduserref
    return out


def _cancel_order(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    policy = SpotTradingPolicy(ctx)
    policy.admit(key, TradingAction.CANCEL)
    account_id = key.account_id
    txid, cl_ord_id = get_str(params, "txid"), get_str(params, "cl_ord_id")
    if txid is None and cl_ord_id is None:
        raise invalid("txid")
    if cl_ord_id is not None and txid is None:
        orders = _find_open(ctx, account_id, cl_ord_id, by_cl_ord_id=True)
    else:
        orders = _find_open(ctx, account_id, txid or "")
    policy.charge_cancels(account_id, orders, batch=False)
    count = ctx.spot().cancel_order(account_id, txid=txid, cl_ord_id=None if txid else cl_ord_id)
    return {"count": count}  # as recorded (http_cancel_order_spot.json)


def _cancel_order_batch(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    policy = SpotTradingPolicy(ctx)
    policy.admit(key, TradingAction.BATCH_CANCEL)
    account_id = key.account_id
    ids = list(dict.fromkeys(_batch_refs(params.get("orders"))))
    cl_ord_ids = list(dict.fromkeys(get_list(params, "cl_ord_ids")))
    if not ids and not cl_ord_ids:
        raise invalid("orders")
    orders = {o.txid: o for ref in ids for o in _find_open(ctx, account_id, ref)}
    for ref in cl_ord_ids:
        orders.update((o.txid, o) for o in _find_open(ctx, account_id, ref, by_cl_ord_id=True))
    policy.charge_cancels(account_id, orders.values(), batch=True)
    return {"count": ctx.spot().cancel_orders(account_id, ids, cl_ord_ids)}


def _batch_refs(raw: Any) -> list[str]:
    """`orders` entries: plain ids, or objects `{"txid": ...}` as some clients send."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [part for part in raw.split(",") if part]
    if not isinstance(raw, list):
        raise invalid("orders")
    refs = []
    for item in raw:
        if isinstance(item, Mapping):
            item = item.get("txid") or item.get("userref")
        if item is None or isinstance(item, list | Mapping):
            raise invalid("orders")
        refs.append(str(item))
    return refs


def _cancel_all(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    SpotTradingPolicy(ctx).admit(key, TradingAction.CANCEL_ALL)
    return {"count": ctx.spot().cancel_all(key.account_id)}


def _cancel_all_orders_after(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    SpotTradingPolicy(ctx).admit(key, TradingAction.CANCEL_AFTER)
    timeout = get_int(params, "timeout")
    if timeout is None or not 0 <= timeout < 86400:
        raise invalid("timeout")
    return arm_dead_man_switch(ctx, key.account_id, timeout)


TRADING_METHODS: dict[str, Any] = {
    "AddOrder": _add_order,
    "AddOrderBatch": _add_order_batch,
    "AmendOrder": _amend_order,
    "EditOrder": _edit_order,
    "CancelOrder": _cancel_order,
    "CancelOrderBatch": _cancel_order_batch,
    "CancelAll": _cancel_all,
    "CancelAllOrdersAfter": _cancel_all_orders_after,
}
