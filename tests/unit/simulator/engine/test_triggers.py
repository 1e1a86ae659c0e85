"""Stop-loss, take-profit and trailing orders on last-trade and index references."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine import (
    OrderParams,
    OrderStatus,
    OrderType,
    Side,
    SpotEngine,
    TriggerRef,
)
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal


def trade_at(engine: SpotEngine, price: str, qty: str = "0.01") -> None:
    """Print a trade between C's resting order and B's market order at `price`."""
    engine.add_order("C", limit(Side.SELL, qty, price))
    engine.add_order("B", market(Side.BUY, qty))
    assert engine.trades_history("B").items[0].price == D(price)


def test_stop_loss_sell_fires_on_last_trade_at_or_below(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    engine.add_order("C", limit(Side.BUY, "1", "94000.0"))  # liquidity for the stop to hit
    stop = OrderParams("XBTUSD", Side.SELL, OrderType.STOP_LOSS, "0.5", "95000.0")
    result = engine.add_order("A", stop)
    assert result.descr_order == "sell 0.50000000 XBTUSD @ stop loss 95000.0"
    assert result.order is not None and result.order.status is OrderStatus.OPEN
    assert engine.balance_ex("A")["XXBT"].hold_trade == D("0.5")
    trade_at(engine, "95000.1")
    assert engine.get_order(result.txid or "").vol_exec == 0  # type: ignore[union-attr]
    trade_at(engine, "95000.0")
    order = engine.get_order(result.txid or "")
    assert order is not None and order.status is OrderStatus.CLOSED
    assert order.avg_price == D("94000.0") and "stopped" in order.misc


def test_take_profit_limit_rests_after_trigger(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    params = OrderParams(
        "XBTUSD", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, "0.5", "105000.0", "104000.0"
    )
    result = engine.add_order("A", params)
    assert result.descr_order == "sell 0.50000000 XBTUSD @ take profit 105000.0 -> limit 104000.0"
    trade_at(engine, "105000.0")
    order = engine.get_order(result.txid or "")
    assert order is not None and order.triggered and order.status is OrderStatus.OPEN
    assert engine.book_levels("XBTUSD", Side.SELL)[0] == (D("104000.0"), D("0.5"))
    assert "touched" in order.misc


def test_stop_loss_buy_market_after_trigger(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    engine.add_order("C", limit(Side.SELL, "1", "102000.0"))
    result = engine.add_order(
        "A", OrderParams("XBTUSD", Side.BUY, OrderType.STOP_LOSS, "1", "101000.0")
    )
    trade_at(engine, "101000.0")  # C's 0.01 at 101000 prints, the stop buys what is left above
    order = engine.get_order(result.txid or "")
    assert order is not None and order.status is OrderStatus.CLOSED
    assert order.avg_price == D("102000.0")
    assert engine.balance_ex("A")["ZUSD"].hold_trade == 0


def test_trailing_stop_follows_peak_then_fires(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    engine.add_order("C", limit(Side.BUY, "1", "90000.0"))
    params = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP, "0.5", "+1000")
    result = engine.add_order("A", params)
    assert result.descr_order == "sell 0.50000000 XBTUSD @ trailing stop +1000"
    assert result.order is not None and result.order.price == D("99000.0")
    trade_at(engine, "103000.0")
    assert engine.get_order(result.txid or "").price == D("102000.0")  # type: ignore[union-attr]
    trade_at(engine, "102500.0")  # down but above the trigger: no fire, trigger stays
    order = engine.get_order(result.txid or "")
    assert order is not None and order.status is OrderStatus.OPEN and order.price == D("102000.0")
    trade_at(engine, "102000.0")
    order = engine.get_order(result.txid or "")
    assert order is not None and order.status is OrderStatus.CLOSED


def test_trailing_stop_limit_percent_offsets(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    params = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP_LIMIT, "0.5", "+2%", "-500")
    result = engine.add_order("A", params)
    assert result.order is not None and result.order.price == D("98000.0")
    trade_at(engine, "98000.0")
    order = engine.get_order(result.txid or "")
    assert order is not None and order.triggered and order.price2 == D("97500.0")
    assert engine.book_levels("XBTUSD", Side.SELL)[0] == (D("97500.0"), D("0.5"))


def test_index_trigger_uses_reference_price(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    engine.add_order("C", limit(Side.BUY, "1", "90000.0"))
    params = OrderParams(
        "XBTUSD", Side.SELL, OrderType.STOP_LOSS, "0.5", "99000.0", trigger=TriggerRef.INDEX
    )
    txid = engine.add_order("A", params).txid or ""
    trade_at(engine, "98000.0")  # last trade below: index trigger does not care
    assert engine.get_order(txid).status is OrderStatus.OPEN  # type: ignore[union-attr]
    engine.publish_reference("XXBTZUSD", D("99000.0"))
    assert engine.get_order(txid).status is OrderStatus.CLOSED  # type: ignore[union-attr]


def test_amend_trailing_offsets_and_stop_trigger(engine: SpotEngine) -> None:
    trade_at(engine, "100000.0")
    params = OrderParams("XBTUSD", Side.SELL, OrderType.TRAILING_STOP_LIMIT, "0.5", "+1000", "-100")
    txid = engine.add_order("A", params).txid or ""
    amended = engine.amend_order("A", txid=txid, trigger_price="+2000", limit_price="+0")
    assert amended.order.price == D("98000.0") and amended.order.limit_offset == 0
    trade_at(engine, "98000.0")
    order = engine.get_order(txid)
    assert order is not None and order.triggered and order.price2 == D("98000.0")
    stop = OrderParams("XBTUSD", Side.SELL, OrderType.STOP_LOSS, "0.1", "90000.0")
    stop_txid = engine.add_order("A", stop).txid or ""
    moved = engine.amend_order("A", txid=stop_txid, trigger_price="-1%")
    assert moved.order.price == D("97020.0")  # 1 % below the last trade at 98000.0
