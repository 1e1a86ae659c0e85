"""AmendOrder on trailing orders, in REST's spelling: `trigger_price` `+x` / `+x%` is the new
trailing offset (the trigger then trails by it), `limit_price` `+/-x[%]` a trailing-stop-limit's
new limit offset from the trigger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import OrderParams, OrderStatus, OrderType, Side, SpotEngine
from simulator.engine.errors import KrakenError
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal


def trade_at(engine: SpotEngine, price: str, qty: str = "0.01") -> None:
    """Print a trade between C's resting order and B's market order at `price`."""
    engine.add_order("C", limit(Side.SELL, qty, price))
    engine.add_order("B", market(Side.BUY, qty))
    assert engine.trades_history("B").items[0].price == D(price)


def test_percent_offset_amend_then_trigger_trails_by_the_new_offset(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    engine.add_order("C", limit(Side.BUY, "1", "90000.0"))  # liquidity for the stop to hit
    placed = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP, "0.5", "+1000")
    txid = engine.add_order("A", placed).txid or ""
    amended = engine.amend_order("A", txid=txid, trigger_price="+2%").order
    assert (amended.trailing_offset, amended.trailing_pct) == (D("2"), True)
    assert amended.price == D("98000.0") and "amended" in amended.misc
    trade_at(engine, "104000.0")  # new peak: the trigger follows 2 % below it
    assert engine.get_order(txid).price == D("101920.0")  # type: ignore[union-attr]
    trade_at(engine, "102000.0")  # would have fired at the old +1000 offset (103000)
    assert engine.get_order(txid).status is OrderStatus.OPEN  # type: ignore[union-attr]
    trade_at(engine, "101920.0")
    order = engine.get_order(txid)
    assert order is not None and order.status is OrderStatus.CLOSED
    assert order.avg_price == D("90000.0")


def test_quote_offset_amend_of_a_buy_trailing_stop(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    placed = OrderParams("XBTUSD", Side.BUY, OrderType.TRAILING_STOP, "0.5", "+2%")
    txid = engine.add_order("A", placed).txid or ""
    assert engine.get_order(txid).price == D("102000.0")  # type: ignore[union-attr]
    amended = engine.amend_order("A", txid=txid, trigger_price="+500").order
    assert (amended.trailing_offset, amended.trailing_pct) == (D("500"), False)
    assert amended.price == D("100500.0")
    trade_at(engine, "99000.0")  # a buy trails the lowest price
    assert engine.get_order(txid).price == D("99500.0")  # type: ignore[union-attr]


def test_trailing_stop_limit_limit_offset_amend(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    params = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP_LIMIT, "0.5", "+1000", "-100")
    txid = engine.add_order("A", params).txid or ""
    amended = engine.amend_order("A", txid=txid, trigger_price="+1%", limit_price="-0.5%").order
    assert (amended.limit_offset, amended.limit_offset_pct) == (D("-0.5"), True)
    assert amended.price == D("99000.0")
    trade_at(engine, "99000.0")
    order = engine.get_order(txid)
    assert order is not None and order.triggered
    assert order.price2 == D("98505.0")  # 0.5 % below the 99000.0 trigger
    assert engine.book_levels("XBTUSD", Side.SELL)[0] == (D("98505.0"), D("0.5"))


def test_query_shows_the_amended_offsets_as_given(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    params = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP_LIMIT, "0.5", "+1000", "-100")
    txid = engine.add_order("A", params).txid or ""
    engine.amend_order("A", txid=txid, trigger_price="+1.5%", limit_price="-25")
    order = engine.get_order(txid)
    assert order is not None and (order.price_text, order.price2_text) == ("+1.5%", "-25")


@pytest.mark.parametrize(
    ("ordertype", "change"),
    [
        (OrderType.TRAILING_STOP, {"trigger_price": "-1000"}),  # offsets are distances
        (OrderType.TRAILING_STOP, {"trigger_price": "+0"}),
        (OrderType.TRAILING_STOP, {"limit_price": "-100"}),  # no limit to move
        (OrderType.TRAILING_STOP_LIMIT, {"limit_price": "99000.0"}),  # still an offset
    ],
)
def test_meaningless_trailing_amends_are_refused(
    engine: SpotEngine, ordertype: OrderType, change: dict[str, str]
) -> None:
    trade_at(engine, "100000.0")
    price2 = "-100" if ordertype is OrderType.TRAILING_STOP_LIMIT else None
    params = OrderParams("XBTUSD", Side.SELL, ordertype, "0.5", "+1000", price2)
    txid = engine.add_order("A", params).txid or ""
    with pytest.raises(KrakenError, match="Invalid arguments"):
        engine.amend_order("A", txid=txid, **change)  # type: ignore[arg-type]
    order = engine.get_order(txid)
    assert order is not None and order.trailing_offset == D("1000") and not order.amended
