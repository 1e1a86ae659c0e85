"""Kraken Futures account endpoints (wire 8.5, 10): accounts, openorders, orders/status,
openpositions, fills, transfer, transfer/subaccount, subaccounts, leverage preferences, and
`/api/history/v2/*`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from simulator.accounts import KrakenAccount
from simulator.engine.futures_accounts import (
    FLEX_WALLET,
    INVERSE_XBT_WALLET,
    KrakenAccountLogEntry,
)
from simulator.engine.futures_engine import KrakenFuturesRequestError
from simulator.engine.futures_orders import (
    KrakenFuturesOrderEvent,
    KrakenOrderEventType,
)
from simulator.futures.params import parse_decimal
from simulator.futures.rest_format import (
    Json,
    accounts_json,
    fill_json,
    flex_wallet_json,
    history_order_json,
    iso_ms,
    open_order_json,
    order_status_json,
    position_json,
)
from simulator.futures.rest_market import execution_element, paging
from simulator.futures.rest_trading import FuturesCall
from simulator.futures.venue import KrakenFuturesVenue

MISSING = "requiredArgumentMissing"


def _usd_prices(venue: KrakenFuturesVenue, account_id: str) -> dict[str, Decimal]:
    account = venue.engine.account(account_id)
    return {code: venue.engine.usd_price(code) for code in account.flex}


def accounts(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    engine = venue.engine
    acct = engine.account(call.account_id)
    return {
        "accounts": accounts_json(
            acct,
            engine.margin(call.account_id, FLEX_WALLET),
            engine.margin(call.account_id, INVERSE_XBT_WALLET),
            _usd_prices(venue, call.account_id),
        )
    }


def openorders(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    orders = venue.engine.open_orders(call.account_id)
    return {"openOrders": [open_order_json(o) for o in orders]}


def openpositions(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    engine = venue.engine
    return {
        "openPositions": [
            position_json(p, engine.instrument(p.symbol)) for p in engine.positions(call.account_id)
        ]
    }


def _iso_to_ms(raw: str) -> int:
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise KrakenFuturesRequestError("invalidArgument") from None


def fills(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    raw = call.params.get("lastFillTime")
    since = _iso_to_ms(raw) if raw else None
    return {"fills": [fill_json(f) for f in venue.engine.fills(call.account_id, since)]}


def _amount(call: FuturesCall) -> Decimal:
    raw = call.params.get("amount")
    if not raw:
        raise KrakenFuturesRequestError(MISSING)
    amount = parse_decimal(raw)
    if amount is None:
        raise KrakenFuturesRequestError("invalidAmount")
    return amount


def _required(call: FuturesCall, *names: str) -> list[str]:
    values = [call.params.get(n, "") for n in names]
    if not all(values):
        raise KrakenFuturesRequestError(MISSING)
    return values


def transfer(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """Between the caller's own wallets (`cash`, `flex`, `fi_xbtusd`)."""
    src, dst, unit = _required(call, "fromAccount", "toAccount", "unit")
    venue.engine.transfer(
        call.account_id, call.account_id, src.lower(), dst.lower(), unit, _amount(call)
    )
    return {}


def _family_member(venue: KrakenFuturesVenue, master: KrakenAccount, ref: str) -> KrakenAccount:
    found = venue.ctx.accounts.by_name_or_id(ref)
    if found is None or (
        found.account_id != master.account_id and found.master_id != master.account_id
    ):
        raise KrakenFuturesRequestError("invalidAccount")
    return found


def _caller(venue: KrakenFuturesVenue, call: FuturesCall) -> KrakenAccount:
    account = venue.ctx.accounts.account(call.account_id)
    assert account is not None
    return account


def transfer_subaccount(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """Master key only: move funds between the master's and its subaccounts' wallets."""
    master = _caller(venue, call)
    if not master.is_master:
        raise KrakenFuturesRequestError("invalidAccount")
    from_user, to_user, src, dst, unit = _required(
        call, "fromUser", "toUser", "fromAccount", "toAccount", "unit"
    )
    venue.engine.transfer(
        _family_member(venue, master, from_user).account_id,
        _family_member(venue, master, to_user).account_id,
        src.lower(),
        dst.lower(),
        unit,
        _amount(call),
    )
    return {}


def subaccounts(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    master = _caller(venue, call)
    if not master.is_master:
        raise KrakenFuturesRequestError("invalidAccount")
    engine = venue.engine
    rows: list[Json] = []
    for sub in venue.ctx.accounts.subaccounts_of(master.account_id):
        engine.open_account(sub.account_id, sub.futures_balances)
        wallets = engine.account(sub.account_id)
        flex = flex_wallet_json(
            wallets, engine.margin(sub.account_id, FLEX_WALLET), _usd_prices(venue, sub.account_id)
        )
        flex.pop("type")
        flex["currencies"] = [{"currency": c, **v} for c, v in flex["currencies"].items()]
        inverse = engine.margin(sub.account_id, INVERSE_XBT_WALLET)
        rows.append(
            {
                "accountUid": sub.account_id,
                "email": f"{sub.name}@subaccount.invalid",
                "fullName": sub.name,
                "holdingAccounts": [
                    {"currency": c, "amount": a} for c, a in sorted(wallets.cash.items())
                ],
                "futuresAccounts": [
                    {"name": "f-xbt:usd", "availableMargin": inverse.available_margin}
                ],
                "flexAccount": flex,
            }
        )
    return {"masterAccountUid": master.account_id, "subaccounts": rows}


def leverage_get(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    prefs = [
        {"symbol": symbol, "maxLeverage": lev}
        for (account_id, symbol), lev in sorted(venue.leverage.items())
        if account_id == call.account_id
    ]
    return {"leveragePreferences": prefs}


def leverage_put(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    symbol = venue.engine.instrument(_required(call, "symbol")[0]).symbol
    raw = call.params.get("maxLeverage")
    if raw:
        leverage = parse_decimal(raw)
        if leverage is None or leverage <= 0:
            raise KrakenFuturesRequestError("invalidArgument")
        venue.leverage[(call.account_id, symbol)] = leverage
    else:
        venue.leverage.pop((call.account_id, symbol), None)
    return {}


def fee_volumes(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """USD volume traded per fee schedule (the simulator's whole run counts as 30 days)."""
    engine = venue.engine
    volumes: dict[str, Decimal] = {i.fee_schedule_uid: Decimal(0) for i in engine.instruments}
    for fill in engine.fills(call.account_id, limit=None):
        inst = engine.instrument(fill.symbol)
        usd = fill.size * inst.contract_size * (1 if inst.inverse else fill.price)
        volumes[inst.fee_schedule_uid] += usd
    return {"volumesByFeeSchedule": volumes}


def orders_status(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """`orders/status` by `orderIds` / `cliOrdIds`: like Kraken, only orders open or closed
    within the venue's `order_status_window_s` (Kraken: the last 5 seconds); older closed
    orders are left out of the answer, without an error."""
    engine = venue.engine
    oldest_ms = engine.now_ms() - int(venue.order_status_window_s * 1000)
    ids = call.multi.get("orderIds", [])
    clis = set(call.multi.get("cliOrdIds", []))
    found = []
    for order_id in ids:
        order = engine.order(order_id)
        if order is not None and order.account_id == call.account_id:
            found.append(order)
    if clis:
        found += [o for o in engine.all_orders(call.account_id) if o.cli_ord_id in clis]
    recent = [o for o in found if o.is_open or o.updated_ms >= oldest_ms]
    return {"orders": [order_status_json(o) for o in recent]}


ACCOUNT_ENDPOINTS: dict[tuple[str, str], Callable[[KrakenFuturesVenue, FuturesCall], Json]] = {
    ("GET", "accounts"): accounts,
    ("GET", "openorders"): openorders,
    ("GET", "orders/status"): orders_status,
    ("POST", "orders/status"): orders_status,
    ("GET", "openpositions"): openpositions,
    ("GET", "fills"): fills,
    ("GET", "feeschedules/volumes"): fee_volumes,
    ("POST", "transfer"): transfer,
    ("POST", "transfer/subaccount"): transfer_subaccount,
    ("GET", "subaccounts"): subaccounts,
    ("GET", "leveragepreferences"): leverage_get,
    ("PUT", "leveragepreferences"): leverage_put,
}


# ------------------------------------------------------------------ /api/history/v2


def _history_event(ev: KrakenFuturesOrderEvent) -> Json:
    order = history_order_json(ev.order)
    if ev.type is KrakenOrderEventType.PLACE:
        return {"OrderPlaced": {"order": order, "reason": "new_user_order", "reducedQuantity": ""}}
    if ev.type is KrakenOrderEventType.CANCEL:
        return {"OrderCancelled": {"order": order, "reason": "cancelled_by_user"}}
    if ev.type is KrakenOrderEventType.REJECT:
        return {"OrderRejected": {"order": order, "reason": (ev.reason or "").lower()}}
    if ev.type is KrakenOrderEventType.EDIT:
        assert ev.new_order is not None
        new = history_order_json(ev.new_order)
        return {"OrderUpdated": {"oldOrder": order, "newOrder": new, "reason": "edited_by_user"}}
    old = history_order_json(ev.order_prior_execution or ev.order)
    reason = "full_fill" if ev.order.remaining == 0 else "partial_fill"
    return {"OrderUpdated": {"oldOrder": old, "newOrder": order, "reason": reason}}


def _continued_from(params: Mapping[str, str]) -> int | None:
    """The position a `continuation_token` names (absent: None), or `invalidArgument`."""
    token = params.get("continuation_token")
    if token is None:
        return None
    try:
        return int(base64.b64decode(token, validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        raise KrakenFuturesRequestError("invalidArgument") from None


def history_orders(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """`GET /api/history/v2/orders`: the account's order events, newest first (`sort=asc`:
    oldest first), within `since`/`before` (ms), at most `count` (default 500) a page; a page
    that leaves events out carries a `continuationToken` for `continuation_token` (the same
    `sort` continues the listing)."""
    entries = venue.engine.history(call.account_id)
    since = paging(call.params, "since", 0)
    before = paging(call.params, "before", 2**63)
    count = paging(call.params, "count", 500)
    sort = call.params.get("sort", "desc").lower()
    if sort not in ("asc", "desc") or count < 1:
        raise KrakenFuturesRequestError("invalidArgument")
    # Positions in the account's event list (it only grows), so a token stays valid while
    # new events arrive.
    positions = [i for i, e in enumerate(entries) if since <= e.time_ms < before]
    if sort == "desc":
        positions.reverse()
    after = _continued_from(call.params)
    if after is not None:
        positions = [i for i in positions if (i < after if sort == "desc" else i > after)]
    picked = positions[:count]
    elements = []
    for i in picked:
        entry = entries[i]
        event = _history_event(entry.event)
        elements.append({"uid": entry.uid, "timestamp": entry.time_ms, "event": event})
    body: Json = {"accountUid": call.account_id, "len": len(elements), "elements": elements}
    if len(positions) > len(picked):
        body["continuationToken"] = base64.b64encode(str(picked[-1]).encode()).decode()
    return body


def _log_row(entry: KrakenAccountLogEntry) -> Json:
    trade = entry.trade
    return {
        "asset": entry.asset,
        "booking_uid": entry.booking_uid,
        "contract": trade.contract if trade else None,
        "date": iso_ms(entry.time_ms),
        "execution": trade.execution if trade else None,
        "fee": trade.fee if trade else None,
        "funding_rate": None,
        "id": entry.id,
        "info": entry.info,
        "margin_account": entry.margin_account,
        "mark_price": trade.mark_price if trade else None,
        "new_balance": entry.new_balance,
        "old_balance": entry.old_balance,
        "realized_funding": None,
        "realized_pnl": trade.realized_pnl if trade else None,
        "trade_price": trade.trade_price if trade else None,
    }


def account_log(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """`account-log`: balance changes, newest first; `since`/`before` (ms), `from`/`to` (ids),
    `count` (default 500), `sort` asc|desc."""
    since = paging(call.params, "since", 0)
    before = paging(call.params, "before", 2**63)
    first = paging(call.params, "from", 0)
    last = paging(call.params, "to", 2**63)
    rows = [
        e
        for e in venue.engine.ledger.account_log(call.account_id)
        if since <= e.time_ms < before and first <= e.id <= last
    ]
    sort = call.params.get("sort", "desc").lower()
    if sort not in ("asc", "desc"):
        raise KrakenFuturesRequestError("invalidArgument")
    if sort == "desc":
        rows.reverse()
    rows = rows[: paging(call.params, "count", 500)]
    return {"accountUid": call.account_id, "logs": [_log_row(e) for e in rows]}


def history_executions(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    """`executions`: the account's executions (both order sides shown), newest first."""
    since = paging(call.params, "since", 0)
    before = paging(call.params, "before", 2**63)
    rows = [
        e for e in venue.engine.account_executions(call.account_id) if since <= e.time_ms < before
    ]
    if call.params.get("sort", "desc").lower() != "asc":
        rows.reverse()
    rows = rows[: paging(call.params, "count", 500)]
    elements = [execution_element(e, public=False) for e in rows]
    return {"accountUid": call.account_id, "len": len(elements), "elements": elements}


def history_empty(venue: KrakenFuturesVenue, call: FuturesCall) -> Json:
    return {"accountUid": call.account_id, "len": 0, "elements": []}


HISTORY_ENDPOINTS: dict[str, Callable[[KrakenFuturesVenue, FuturesCall], Json]] = {
    "orders": history_orders,
    "triggers": history_empty,
    "executions": history_executions,
    "account-log": account_log,
}
