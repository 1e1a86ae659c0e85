"""Spot REST private account methods: balances, queries, ledgers, WS token, subaccounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.accounts import KrakenAccount, KrakenApiKey
from simulator.context import WS_TOKEN_TTL_S, SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.model import Order
from simulator.spot.auth import REQUEST_SENDER
from simulator.spot.params import (
    Params,
    get_bool,
    get_int,
    get_list,
    get_str,
    int_param,
    invalid,
    require_str,
)
from simulator.spot.rest_format import fmt_asset, ledger_info, order_info, trade_info

_CLOSETIME = frozenset({"open", "close", "both"})


def _asset_amount(ctx: SimContext, asset_id: str, amount: Decimal) -> str:
    return fmt_asset(amount, ctx.pairs.assets.get(asset_id))


def _balance(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, str]:
    balances = ctx.spot().balances(key.account_id)
    return {asset: _asset_amount(ctx, asset, amount) for asset, amount in balances.items()}


def _balance_ex(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    return {
        asset: {
            "balance": _asset_amount(ctx, asset, entry.balance),
            "hold_trade": _asset_amount(ctx, asset, entry.hold_trade),
        }
        for asset, entry in ctx.spot().balance_ex(key.account_id).items()
    }


def _trade_balance(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, str]:
    tb = ctx.spot().trade_balance(key.account_id, get_str(params, "asset") or "ZUSD")
    out = {
        "eb": tb.eb, "tb": tb.tb, "m": tb.m, "uv": tb.uv, "n": tb.n,
        "c": tb.c, "v": tb.v, "e": tb.e, "mf": tb.mf,
    }  # fmt: skip
    wire = {name: f"{value:.4f}" for name, value in out.items()}
    if tb.ml is not None:  # Kraken omits the margin level without open positions
        wire["ml"] = f"{tb.ml:.4f}"
    return wire


def _order_map(ctx: SimContext, orders: list[Order], trades: bool) -> dict[str, Any]:
    return {o.txid: order_info(o, ctx.pairs.pairs[o.pair], trades=trades) for o in orders}


def _open_orders(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    orders = ctx.spot().open_orders(
        key.account_id, userref=get_int(params, "userref"), cl_ord_id=get_str(params, "cl_ord_id")
    )
    return {"open": _order_map(ctx, orders, get_bool(params, "trades"))}


def _closed_orders(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    closetime = get_str(params, "closetime") or "both"
    if closetime not in _CLOSETIME:
        raise invalid("closetime")
    page = ctx.spot().closed_orders(
        key.account_id,
        userref=get_int(params, "userref"),
        cl_ord_id=get_str(params, "cl_ord_id"),
        start=get_str(params, "start"),
        end=get_str(params, "end"),
        ofs=int_param(params, "ofs", 0),
        closetime=closetime,
    )
    result: dict[str, Any] = {"closed": _order_map(ctx, page.items, get_bool(params, "trades"))}
    if not get_bool(params, "without_count"):
        result["count"] = page.count
    return result


def _query_orders(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    txids = get_list(params, "txid")
    if not txids:
        raise invalid("txid")
    orders = ctx.spot().query_orders(key.account_id, txids, userref=get_int(params, "userref"))
    return _order_map(ctx, orders, get_bool(params, "trades"))


def _trades_history(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    page = ctx.spot().trades_history(
        key.account_id,
        start=get_str(params, "start"),
        end=get_str(params, "end"),
        ofs=int_param(params, "ofs", 0),
    )
    ledgers = get_bool(params, "ledgers")
    result: dict[str, Any] = {
        "trades": {
            f.txid: trade_info(f, ctx.pairs.pairs[f.pair], ledgers=ledgers) for f in page.items
        }
    }
    if not get_bool(params, "without_count"):
        result["count"] = page.count
    return result


def _query_trades(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    fills = ctx.spot().query_trades(key.account_id, get_list(params, "txid"))
    return {f.txid: trade_info(f, ctx.pairs.pairs[f.pair]) for f in fills}


def _ledgers(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    aclass = get_str(params, "aclass")
    if aclass not in (None, "currency"):
        return {"ledger": {}, "count": 0}
    page = ctx.spot().ledgers(
        key.account_id,
        assets=get_list(params, "asset"),
        kind=get_str(params, "type") or "all",
        start=get_str(params, "start"),
        end=get_str(params, "end"),
        ofs=int_param(params, "ofs", 0),
    )
    result: dict[str, Any] = {
        "ledger": {e.id: ledger_info(e, ctx.pairs.assets.get(e.asset)) for e in page.items}
    }
    if not get_bool(params, "without_count"):
        result["count"] = page.count
    return result


def _query_ledgers(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    entries = ctx.spot().query_ledgers(key.account_id, get_list(params, "id"))
    return {e.id: ledger_info(e, ctx.pairs.assets.get(e.asset)) for e in entries}


def _open_positions(ctx: SimContext, key: KrakenApiKey, params: Params) -> Any:
    # Spot accounts here trade without margin, so there is never an open position.
    return [] if get_str(params, "consolidation") == "market" else {}


def _get_websockets_token(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    token = ctx.ws_tokens.issue(key, ctx.now(), sender=REQUEST_SENDER.get())
    return {"token": token, "expires": int(WS_TOKEN_TTL_S)}


def _master(ctx: SimContext, key: KrakenApiKey) -> KrakenAccount:
    account = ctx.account_of(key)
    if not account.is_master:
        raise KrakenError("EGeneral:Permission denied")
    return account


def _create_subaccount(ctx: SimContext, key: KrakenApiKey, params: Params) -> bool:
    master = _master(ctx, key)
    username = require_str(params, "username")
    email = require_str(params, "email")
    state = ctx.spot().create_subaccount(master.account_id, username, email)
    ctx.accounts.add_account(
        KrakenAccount(state.id, username, master.tier, master_id=master.account_id)
    )
    if ctx.futures_engine is not None:
        ctx.futures_engine.open_account(state.id, {})
    return True


def _account_id(ctx: SimContext, ref: str, name: str) -> str:
    account = ctx.accounts.by_name_or_id(ref)
    if account is None:
        raise invalid(name)
    return account.account_id


def _account_transfer(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    master = _master(ctx, key)
    if (get_str(params, "asset_class") or "currency") != "currency":
        raise invalid("asset_class")
    result = ctx.spot().account_transfer(
        master.account_id,
        require_str(params, "asset"),
        require_str(params, "amount"),
        _account_id(ctx, require_str(params, "from"), "from"),
        _account_id(ctx, require_str(params, "to"), "to"),
    )
    return {"transfer_id": result.transfer_id, "status": result.status}


def _withdraw(ctx: SimContext, key: KrakenApiKey, params: Params) -> dict[str, Any]:
    """Funds leave the exchange; Kraken refuses withdrawals from subaccounts."""
    require_str(params, "key")
    entry = ctx.spot().withdraw(
        key.account_id, require_str(params, "asset"), require_str(params, "amount")
    )
    return {"refid": entry.id}


ACCOUNT_METHODS: dict[str, Any] = {
    "Balance": _balance,
    "BalanceEx": _balance_ex,
    "TradeBalance": _trade_balance,
    "OpenOrders": _open_orders,
    "ClosedOrders": _closed_orders,
    "QueryOrders": _query_orders,
    "TradesHistory": _trades_history,
    "QueryTrades": _query_trades,
    "Ledgers": _ledgers,
    "QueryLedgers": _query_ledgers,
    "OpenPositions": _open_positions,
    "GetWebSocketsToken": _get_websockets_token,
    "CreateSubaccount": _create_subaccount,
    "AccountTransfer": _account_transfer,
    "Withdraw": _withdraw,
}
