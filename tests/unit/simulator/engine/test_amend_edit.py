"""AmendOrder (in place) and EditOrder (new txid), and self-trade prevention."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import (
    ExecutionEvent,
    KrakenError,
    OrderParams,
    OrderStatus,
    OrderType,
    Side,
    SpotEngine,
    StpType,
)
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal


def test_amend_qty_down_keeps_priority_and_txid(engine: SpotEngine) -> None:
    first = engine.add_order("A", limit(Side.SELL, "1", "100000.0")).txid or ""
    engine.add_order("C", limit(Side.SELL, "1", "100000.0"))
    result = engine.amend_order("A", txid=first, order_qty="0.5")
    assert result.order.txid == first and result.order.volume == D("0.5")
    assert result.amend_id.startswith("T")
    assert engine.book_levels("XBTUSD", Side.SELL) == [(D("100000.0"), D("1.5"))]
    engine.add_order("B", market(Side.BUY, "0.5"))
    assert engine.get_order(first).status is OrderStatus.CLOSED  # type: ignore[union-attr]
    assert [r.amend_type for r in engine.order_amends("A", first)] == ["original", "user"]
    assert "amended" in engine.get_order(first).misc  # type: ignore[union-attr]


def test_amend_qty_up_loses_priority(engine: SpotEngine) -> None:
    first = engine.add_order("A", limit(Side.SELL, "1", "100000.0")).txid or ""
    second = engine.add_order("C", limit(Side.SELL, "1", "100000.0")).txid or ""
    engine.amend_order("A", txid=first, order_qty="2")
    assert engine.balance_ex("A")["XXBT"].hold_trade == D(2)
    engine.add_order("B", market(Side.BUY, "1"))
    assert engine.get_order(second).status is OrderStatus.CLOSED  # type: ignore[union-attr]
    assert engine.get_order(first).vol_exec == 0  # type: ignore[union-attr]


def test_amend_price_by_cl_ord_id_and_post_only(engine: SpotEngine) -> None:
    engine.add_order("C", limit(Side.BUY, "1", "99000.0"))
    engine.add_order("A", limit(Side.SELL, "1", "100000.0", cl_ord_id="mine"))
    with pytest.raises(KrakenError, match=r"^EOrder:Post only order$"):
        engine.amend_order("A", cl_ord_id="mine", limit_price="99000.0", post_only=True)
    result = engine.amend_order("A", cl_ord_id="mine", limit_price="99000.0")
    assert result.order.status is OrderStatus.CLOSED  # crossed and filled as taker
    with pytest.raises(KrakenError, match=r"^EOrder:Unknown order$"):
        engine.amend_order("A", cl_ord_id="mine", order_qty="2")


def test_amend_needs_funds_for_more(engine: SpotEngine) -> None:
    txid = engine.add_order("A", limit(Side.SELL, "1", "100000.0")).txid or ""
    with pytest.raises(KrakenError, match=r"^EOrder:Insufficient funds$"):
        engine.amend_order("A", txid=txid, order_qty="11")


def test_edit_creates_new_txid_and_cancels_original(engine: SpotEngine) -> None:
    original = engine.add_order("A", limit(Side.BUY, "1", "90000.0", userref=3)).txid or ""
    result = engine.edit_order("A", original, "XBTUSD", volume="2", price="91000.0", userref=4)
    assert result.txid is not None and result.txid != original
    assert result.originaltxid == original and result.orders_cancelled == 1
    assert result.descr_order == "buy 2.00000000 XBTUSD @ limit 91000.0"
    assert (result.newuserref, result.olduserref) == (4, 3)
    assert engine.get_order(original).status is OrderStatus.CANCELED  # type: ignore[union-attr]
    assert engine.book_levels("XBTUSD", Side.BUY) == [(D("91000.0"), D("2"))]
    assert engine.balance_ex("A")["ZUSD"].hold_trade == D("182000") + D("728")


def test_edit_refuses_cl_ord_id_orders_and_validate_changes_nothing(engine: SpotEngine) -> None:
    txid = engine.add_order("A", limit(Side.BUY, "1", "90000.0", cl_ord_id="c1")).txid or ""
    with pytest.raises(KrakenError, match=r"^EOrder:Invalid order$"):
        engine.edit_order("A", txid, "XBTUSD", volume="2")
    other = engine.add_order("A", limit(Side.BUY, "1", "90000.0")).txid or ""
    preview = engine.edit_order("A", other, "XBTUSD", volume="3", validate=True)
    assert preview.txid is None and preview.orders_cancelled == 0
    assert engine.get_order(other).status is OrderStatus.OPEN  # type: ignore[union-attr]


def test_edit_refuses_volume_below_executed(engine: SpotEngine) -> None:
    txid = engine.add_order("A", limit(Side.SELL, "1", "100000.0")).txid or ""
    engine.add_order("B", market(Side.BUY, "0.6"))
    with pytest.raises(KrakenError, match="volume"):
        engine.edit_order("A", txid, "XBTUSD", volume="0.5")
    result = engine.edit_order("A", txid, "XBTUSD", volume="0.9")
    assert result.order is not None and result.order.volume == D("0.3")


@pytest.mark.parametrize(
    ("stp", "maker_left", "taker_status"),
    [
        (StpType.CANCEL_NEWEST, OrderStatus.OPEN, OrderStatus.CANCELED),
        (StpType.CANCEL_OLDEST, OrderStatus.CANCELED, OrderStatus.CLOSED),
        (StpType.CANCEL_BOTH, OrderStatus.CANCELED, OrderStatus.CANCELED),
    ],
)
def test_self_trade_prevention(
    engine: SpotEngine, stp: StpType, maker_left: OrderStatus, taker_status: OrderStatus
) -> None:
    own = engine.add_order("A", limit(Side.SELL, "1", "100000.0")).txid or ""
    engine.add_order("C", limit(Side.SELL, "1", "100001.0"))
    params = OrderParams("XBTUSD", Side.BUY, OrderType.MARKET, "1", stptype=stp)
    taker = engine.add_order("A", params).txid or ""
    assert engine.get_order(own).status is maker_left  # type: ignore[union-attr]
    assert engine.get_order(taker).status is taker_status  # type: ignore[union-attr]
    assert engine.trades_history("A").count == (1 if taker_status is OrderStatus.CLOSED else 0)
    reasons = {
        e.reason for e in engine.drain_events() if isinstance(e, ExecutionEvent) and e.reason
    }
    assert "Self trade prevention" in reasons
