"""WS v2 `amend_order` on trailing orders, through the simulator's trading front end (no
socket): `trigger_price` + `trigger_price_type` pct|quote is the new trailing offset,
`limit_price` + `limit_price_type` a trailing-stop-limit's new limit offset."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator.accounts import parse_accounts
from simulator.context import SimContext, make_context
from simulator.engine import ManualClock, OrderType, Side
from simulator.engine.errors import KrakenError
from simulator.engine.model import Order
from simulator.spot.ws_trading import Caller, SpotWsTrading

D = Decimal
BALANCES = {"ZUSD": "10000000", "XXBT": "1000"}


@pytest.fixture
def ctx() -> SimContext:
    raw = {
        "accounts": [
            {
                "id": f"AA{i:012d}",
                "name": name,
                "tier": "pro",
                "balances": BALANCES,
                "keys": [{"key": f"k-{name}", "secret": "c2VjcmV0", "permissions": ["all"]}],
            }
            for i, name in enumerate(("trader", "maker"))
        ]
    }
    return make_context(
        accounts=parse_accounts(raw), clock=ManualClock(D("1700000000")), market_maker=False
    )


@pytest.fixture
def ws(ctx: SimContext) -> SpotWsTrading:
    pairs = {p.ws_symbol: p for p in ctx.pairs.pairs.values()}
    return SpotWsTrading(ctx, ctx.spot, pairs)


def caller(ctx: SimContext, name: str) -> Caller:
    keys = ctx.accounts.keys()
    key = next(k for k in keys if k.key == f"k-{name}")
    return Caller(key, key.account_id)


def trade_at(ws: SpotWsTrading, ctx: SimContext, price: int) -> None:
    """A last trade at `price`: the maker rests a sell, the trader buys it."""
    for name, side, kind in (("maker", "sell", "limit"), ("trader", "buy", "market")):
        order: dict[str, Any] = {"order_type": kind, "side": side, "order_qty": "0.01"}
        if kind == "limit":
            order["limit_price"] = price
        ws.call("add_order", caller(ctx, name), {**order, "symbol": "BTC/USD"})
    assert ctx.spot().last_price("XXBTZUSD") == price


def place(ws: SpotWsTrading, ctx: SimContext, order_type: str, **fields: Any) -> Order:
    params = {"order_type": order_type, "side": "sell", "order_qty": "0.5", "symbol": "BTC/USD"}
    (result,) = ws.call("add_order", caller(ctx, "trader"), params | fields)
    order = ctx.spot().get_order(result["order_id"])
    assert order is not None
    return order


def amend(ws: SpotWsTrading, ctx: SimContext, order: Order, **fields: Any) -> Order:
    (result,) = ws.call("amend_order", caller(ctx, "trader"), {"order_id": order.txid, **fields})
    assert result["amend_id"]
    amended = ctx.spot().get_order(order.txid)
    assert amended is not None and amended.amended
    return amended


QUOTE_100 = {"triggers": {"price": 100, "price_type": "quote"}}


@pytest.mark.parametrize(
    ("fields", "offset", "pct", "trigger"),
    [
        ({"trigger_price": D("1.5"), "trigger_price_type": "pct"}, D("1.5"), True, D("49250")),
        ({"trigger_price": 300, "trigger_price_type": "quote"}, D("300"), False, D("49700")),
        # Docs are silent on a trailing amend without a type: the number is the offset.
        ({"trigger_price": 250}, D("250"), False, D("49750")),
    ],
)
def test_trigger_price_is_the_new_trailing_offset(
    ws: SpotWsTrading,
    ctx: SimContext,
    fields: dict[str, Any],
    offset: Decimal,
    pct: bool,
    trigger: Decimal,
) -> None:
    trade_at(ws, ctx, 50000)
    order = place(ws, ctx, "trailing-stop", **QUOTE_100)
    assert order.price == D("49900")
    amended = amend(ws, ctx, order, **fields)
    assert (amended.trailing_offset, amended.trailing_pct, amended.price) == (offset, pct, trigger)


@pytest.mark.parametrize(
    ("fields", "offset", "pct"),
    [
        ({"limit_price": -80, "limit_price_type": "quote"}, D("-80"), False),
        ({"limit_price": D("-0.25"), "limit_price_type": "pct"}, D("-0.25"), True),
        ({"limit_price": 0, "limit_price_type": "quote"}, D("0"), False),
        # Untriggered: an untyped limit is an offset, as add_order's default (quote) has it.
        ({"limit_price": 30}, D("30"), False),
    ],
)
def test_limit_price_is_the_new_limit_offset(
    ws: SpotWsTrading, ctx: SimContext, fields: dict[str, Any], offset: Decimal, pct: bool
) -> None:
    trade_at(ws, ctx, 50000)
    order = place(
        ws, ctx, "trailing-stop-limit", limit_price=-50, limit_price_type="quote", **QUOTE_100
    )
    assert order.limit_offset == D("-50")
    amended = amend(ws, ctx, order, **fields)
    assert (amended.limit_offset, amended.limit_offset_pct) == (offset, pct)
    assert amended.trailing_offset == D("100")


def test_amended_trailing_stop_limit_fires_per_the_new_offsets(
    ws: SpotWsTrading, ctx: SimContext
) -> None:
    trade_at(ws, ctx, 50000)
    order = place(
        ws, ctx, "trailing-stop-limit", limit_price=-50, limit_price_type="quote", **QUOTE_100
    )
    amend(
        ws,
        ctx,
        order,
        trigger_price=1,
        trigger_price_type="pct",
        limit_price=-20,
        limit_price_type="quote",
    )
    trade_at(ws, ctx, 49600)  # below the old 49900 trigger, above the new 49500
    assert not ctx.spot().get_order(order.txid).triggered  # type: ignore[union-attr]
    trade_at(ws, ctx, 49500)
    fired = ctx.spot().get_order(order.txid)
    assert fired is not None and fired.triggered and fired.price2 == D("49480")
    assert fired.ordertype is OrderType.TRAILING_STOP_LIMIT and fired.side is Side.SELL


@pytest.mark.parametrize(
    "fields",
    [
        {"trigger_price": 100, "trigger_price_type": "percent"},
        {"limit_price": -20, "limit_price_type": "offset"},
        {"trigger_price": -100, "trigger_price_type": "quote"},
    ],
)
def test_bad_trailing_amends_are_refused(
    ws: SpotWsTrading, ctx: SimContext, fields: dict[str, Any]
) -> None:
    trade_at(ws, ctx, 50000)
    order = place(
        ws, ctx, "trailing-stop-limit", limit_price=-50, limit_price_type="quote", **QUOTE_100
    )
    with pytest.raises(KrakenError, match="Invalid arguments"):
        ws.call("amend_order", caller(ctx, "trader"), {"order_id": order.txid, **fields})
    assert not ctx.spot().get_order(order.txid).amended  # type: ignore[union-attr]
