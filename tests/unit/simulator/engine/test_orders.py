"""Order entry and matching: priority, fees, holds, flags, time in force, ids and errors."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from simulator.engine import (
    ExecType,
    ExecutionEvent,
    KrakenError,
    ManualClock,
    OrderParams,
    OrderStatus,
    OrderType,
    Side,
    SpotEngine,
    TimeInForce,
    TriggerRef,
)
from simulator.engine.pairs import PAIRS, PairDirectory
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal
TXID = re.compile(r"^O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$")
TRADE_TXID = re.compile(r"^T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$")


def exec_types(engine: SpotEngine, txid: str) -> list[str]:
    return [
        e.exec_type
        for e in engine.drain_events()
        if isinstance(e, ExecutionEvent) and e.order.txid == txid
    ]


def test_limit_order_rests_with_kraken_txid_and_descr(engine: SpotEngine) -> None:
    result = engine.add_order("A", limit(Side.BUY, "1.25", "27500.0"))
    assert result.txid is not None and TXID.match(result.txid)
    assert result.descr_order == "buy 1.25000000 XBTUSD @ limit 27500.0"
    assert engine.book_levels("XBTUSD", Side.BUY) == [(D("27500.0"), D("1.25000000"))]
    assert exec_types(engine, result.txid) == ["pending_new", "new"]


def test_validate_returns_descr_without_placing(engine: SpotEngine) -> None:
    params = OrderParams("XBTUSD", Side.SELL, OrderType.MARKET, "1", validate=True)
    result = engine.add_order("A", params)
    assert result.txid is None
    assert result.descr_order == "sell 1.00000000 XBTUSD @ market"
    assert engine.open_orders("A") == []


def test_price_time_priority_and_maker_taker_fees(engine: SpotEngine) -> None:
    first = engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    second = engine.add_order("C", limit(Side.SELL, "1", "100000.0"))
    engine.add_order("C", limit(Side.SELL, "1", "99999.9"))  # better price goes first
    taker = engine.add_order("B", market(Side.BUY, "1.5"))
    assert taker.order is not None and taker.order.status is OrderStatus.CLOSED
    a = engine.get_order(first.txid or "")
    c = engine.get_order(second.txid or "")
    assert a is not None and a.vol_exec == D("0.5")
    assert c is not None and c.vol_exec == 0
    fills = engine.trades_history("B").items
    assert [f.price for f in reversed(fills)] == [D("99999.9"), D("100000.0")]
    assert all(TRADE_TXID.match(f.txid) and not f.maker for f in fills)
    # maker 0.25 %, taker 0.40 % of cost, in quote (ZUSD, 4 decimals)
    assert a.fee == D("125.0000")  # 0.5 * 100000 * 0.0025
    assert taker.order.cost == D("99999.9000") + D("50000.0000")
    assert taker.order.fee == D("599.9996")
    balances = engine.balances("B")
    assert balances["ZUSD"] == D("1000000") - D("149999.9000") - D("599.9996")
    assert balances["XXBT"] == D("11.5")


def test_limit_buy_holds_quote_including_fee_and_releases_on_cancel(engine: SpotEngine) -> None:
    result = engine.add_order("A", limit(Side.BUY, "2", "50000.0"))
    assert engine.balance_ex("A")["ZUSD"].hold_trade == D("100000") + D("400")
    engine.add_order("B", limit(Side.SELL, "1", "50000.0"))
    # half filled as maker: the hold now covers 1 more at the limit plus its taker fee
    assert engine.balance_ex("A")["ZUSD"].hold_trade == D("50000") + D("200")
    engine.cancel_order("A", result.txid)
    assert engine.balance_ex("A")["ZUSD"].hold_trade == 0
    assert engine.balances("A")["ZUSD"] == D("1000000") - D("50000") - D("125")


def test_sell_holds_base(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "3", "120000.0"))
    assert engine.balance_ex("A")["XXBT"].hold_trade == D("3")
    with pytest.raises(KrakenError) as err:
        engine.add_order("A", limit(Side.SELL, "7.5", "120000.0"))
    assert err.value.code == "EOrder:Insufficient funds"


def test_insufficient_funds_for_buy(engine: SpotEngine) -> None:
    with pytest.raises(KrakenError, match="EOrder:Insufficient funds"):
        engine.add_order("A", limit(Side.BUY, "10", "100000.0"))


def test_post_only_rejected_when_it_would_take(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    with pytest.raises(KrakenError, match=r"^EOrder:Post only order$"):
        engine.add_order("B", limit(Side.BUY, "1", "100000.0", oflags=frozenset({"post"})))
    ok = engine.add_order("B", limit(Side.BUY, "1", "99999.9", oflags=frozenset({"post"})))
    assert ok.order is not None and ok.order.status is OrderStatus.OPEN


def test_ioc_cancels_remainder_and_fok_all_or_nothing(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    ioc = engine.add_order("B", limit(Side.BUY, "2", "100000.0", timeinforce=TimeInForce.IOC))
    assert ioc.order is not None
    assert ioc.order.status is OrderStatus.CANCELED and ioc.order.vol_exec == D(1)
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    fok = engine.add_order("B", limit(Side.BUY, "2", "100000.0", timeinforce=TimeInForce.FOK))
    assert fok.order is not None
    assert fok.order.status is OrderStatus.CANCELED and fok.order.vol_exec == 0
    assert engine.book_levels("XBTUSD", Side.SELL) == [(D("100000.0"), D(1))]
    fok2 = engine.add_order("B", limit(Side.BUY, "1", "100000.0", timeinforce=TimeInForce.FOK))
    assert fok2.order is not None and fok2.order.status is OrderStatus.CLOSED


def test_gtd_expires_on_tick(engine: SpotEngine, clock: ManualClock) -> None:
    params = limit(Side.BUY, "1", "90000.0", timeinforce=TimeInForce.GTD, expiretm="+60")
    txid = engine.add_order("A", params).txid or ""
    clock.advance(59)
    engine.tick()
    assert engine.get_order(txid).status is OrderStatus.OPEN  # type: ignore[union-attr]
    clock.advance(1)
    engine.tick()
    order = engine.get_order(txid)
    assert order is not None and order.status is OrderStatus.EXPIRED
    assert "expired" in exec_types(engine, txid)
    assert engine.balance_ex("A")["ZUSD"].hold_trade == 0
    assert engine.closed_orders("A").items[0].txid == txid


def test_gtd_needs_expiretm(engine: SpotEngine) -> None:
    with pytest.raises(KrakenError, match="EGeneral:Invalid arguments:expiretm"):
        engine.add_order("A", limit(Side.BUY, "1", "90000.0", timeinforce=TimeInForce.GTD))


def test_starttm_defers_activation(engine: SpotEngine, clock: ManualClock) -> None:
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    txid = engine.add_order("B", market(Side.BUY, "1", starttm="+30")).txid or ""
    assert engine.get_order(txid).status is OrderStatus.PENDING  # type: ignore[union-attr]
    clock.advance(30)
    engine.tick()
    assert engine.get_order(txid).status is OrderStatus.CLOSED  # type: ignore[union-attr]


def test_iceberg_shows_display_and_refills(engine: SpotEngine) -> None:
    params = OrderParams(
        "XBTUSD", Side.SELL, OrderType.ICEBERG, "1.5", "100000.0", displayvol="0.5"
    )
    txid = engine.add_order("A", params).txid or ""
    assert engine.book_levels("XBTUSD", Side.SELL) == [(D("100000.0"), D("0.5"))]
    engine.add_order("B", market(Side.BUY, "0.5"))
    assert engine.book_levels("XBTUSD", Side.SELL) == [(D("100000.0"), D("0.5"))]
    assert "iceberg_refill" in exec_types(engine, txid)
    engine.add_order("B", market(Side.BUY, "1"))
    assert engine.get_order(txid).status is OrderStatus.CLOSED  # type: ignore[union-attr]
    with pytest.raises(KrakenError, match="displayvol"):
        bad = OrderParams("XBTUSD", Side.SELL, OrderType.ICEBERG, "1.5", "1e5", displayvol="0.05")
        engine.add_order("A", bad)


def test_viqc_market_buy_spends_quote_amount(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    flags = frozenset({"viqc"})
    result = engine.add_order("B", market(Side.BUY, "1000", oflags=flags))
    assert result.descr_order == "buy 1000.00000000 XBTUSD @ market"
    order = result.order
    assert order is not None and order.status is OrderStatus.CLOSED
    assert order.vol_exec == D("0.01") and order.cost == D("1000.0000")
    with pytest.raises(KrakenError, match="viqc"):
        engine.add_order("B", limit(Side.BUY, "1000", "1.0", oflags=flags))


def test_fee_in_base_with_fcib(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "1", "100000.0"))
    result = engine.add_order("B", market(Side.BUY, "1", oflags=frozenset({"fcib"})))
    assert (
        result.order is not None
        and result.order.fee == D("0.004")
        and result.order.fee_asset == "XXBT"
    )
    assert engine.balances("B")["XXBT"] == D("10.996")
    assert engine.balances("B")["ZUSD"] == D("900000")


def test_cl_ord_id_rules(engine: SpotEngine) -> None:
    for good in (
        "0c8b3f6e-2a4d-4f0e-9b6a-3c2d1e0f9a8b",
        "0c8b3f6e2a4d4f0e9b6a3c2d1e0f9a8b",
        "my-order-18-chars!",
    ):
        engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", cl_ord_id=good))
    for bad in ("x" * 19, "tab\there"):
        with pytest.raises(KrakenError, match="EGeneral:Invalid arguments:cl_ord_id"):
            engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", cl_ord_id=bad))
    with pytest.raises(KrakenError):
        engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", cl_ord_id="my-order-18-chars!"))
    assert engine.cancel_order("A", cl_ord_id="my-order-18-chars!") == 1
    # unique only among open orders: reusable once the first is closed
    engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", cl_ord_id="my-order-18-chars!"))
    with pytest.raises(KrakenError, match="cl_ord_id"):
        engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", cl_ord_id="a", userref=1))


def test_cancel_by_userref_cancels_all_matching(engine: SpotEngine) -> None:
    for _ in range(3):
        engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", userref=42))
    engine.add_order("A", limit(Side.BUY, "0.001", "90000.0", userref=7))
    assert engine.cancel_order("A", "42") == 3
    assert [o.userref for o in engine.open_orders("A")] == [7]
    with pytest.raises(KrakenError, match=r"^EOrder:Unknown order$"):
        engine.cancel_order("A", "OAAAAA-AAAAA-AAAAAA")
    assert engine.cancel_all("A") == 1


def test_cancel_all_after_fires_on_tick(engine: SpotEngine, clock: ManualClock) -> None:
    engine.add_order("A", limit(Side.BUY, "0.001", "90000.0"))
    armed = engine.cancel_all_after("A", 60)
    assert armed.trigger_time == clock.now() + 60
    clock.advance(59)
    engine.tick()
    assert len(engine.open_orders("A")) == 1
    clock.advance(1)
    engine.tick()
    assert engine.open_orders("A") == []
    assert engine.cancel_all_after("A", 0).trigger_time is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            limit(Side.BUY, "1", "100000.05"),
            "EOrder:Invalid price:XBT/USD price can only be specified up to 1 decimals.",
        ),
        (
            limit(Side.BUY, "0.00001", "100000.0"),
            "EGeneral:Invalid arguments:volume minimum not met",
        ),
        (limit(Side.BUY, "1", "abc"), "EGeneral:Invalid arguments:price"),
        (limit(Side.BUY, "x", "1.0"), "EGeneral:Invalid arguments:volume"),
        (limit(Side.BUY, "1", "1.0", pair="NOPEUSD"), "EQuery:Unknown asset pair"),
        (OrderParams("XBTUSD", Side.BUY, OrderType.LIMIT, "1"), "EGeneral:Invalid arguments:price"),
        (
            limit(Side.BUY, "1", "1.0", oflags=frozenset({"fcib", "fciq"})),
            "EGeneral:Invalid arguments:oflags",
        ),
        (limit(Side.BUY, "0.001", "100.0"), "EOrder:Cost minimum not met"),
        (limit(Side.BUY, "10", "1.0", pair="USDTUSD", trigger=TriggerRef.INDEX), None),
    ],
)
def test_refusals_use_kraken_strings(
    engine: SpotEngine, params: OrderParams, code: str | None
) -> None:
    if code is None:  # index trigger on a plain limit order is harmless; on a stop it is not
        assert engine.add_order("A", params).txid is not None
        stop = OrderParams(
            "USDTUSD", Side.SELL, OrderType.STOP_LOSS, "10", "0.9", trigger=TriggerRef.INDEX
        )
        with pytest.raises(KrakenError, match=r"^EGeneral:Invalid arguments:Index unavailable$"):
            engine.add_order("A", stop)
        return
    with pytest.raises(KrakenError) as err:
        engine.add_order("A", params)
    assert err.value.code == code


def test_tick_size_check(clock: ManualClock) -> None:
    coarse = replace(PAIRS["XXBTZUSD"], tick_size=D("0.5"))
    engine = SpotEngine(
        clock=clock, market_maker=False, directory=PairDirectory({"XXBTZUSD": coarse})
    )
    engine.create_account("A", {"ZUSD": "1000000"})
    with pytest.raises(KrakenError, match=r"^EOrder:Tick size check failed$"):
        engine.add_order("A", limit(Side.BUY, "1", "50000.2"))
    assert engine.add_order("A", limit(Side.BUY, "1", "50000.5")).txid


def test_relative_price_resolves_against_last(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "0.5", "100000.0"))
    engine.add_order("B", market(Side.BUY, "0.5"))
    below = engine.add_order("B", limit(Side.BUY, "0.1", "-100"))
    assert below.order is not None and below.order.price == D("99900.0")
    pct = engine.add_order("B", limit(Side.BUY, "0.1", "#1%"))
    assert pct.order is not None and pct.order.price == D("99000.0")
    above = engine.add_order("A", limit(Side.SELL, "0.1", "#1%"))
    assert above.order is not None and above.order.price == D("101000.0")


def test_batch_is_all_or_nothing_at_validation(engine: SpotEngine) -> None:
    orders = [limit(Side.BUY, "0.001", "90000.0"), limit(Side.BUY, "0.001", "bad")]
    with pytest.raises(KrakenError, match="price"):
        engine.add_order_batch("A", "XBTUSD", orders)
    assert engine.open_orders("A") == []
    orders = [limit(Side.BUY, "0.001", "90000.0"), limit(Side.BUY, "10", "100000.0")]
    results = engine.add_order_batch("A", "XBTUSD", orders)
    assert not isinstance(results[0], KrakenError)
    assert isinstance(results[1], KrakenError) and results[1].code == "EOrder:Insufficient funds"


def test_trade_events_carry_execution_fields(engine: SpotEngine) -> None:
    maker = engine.add_order("A", limit(Side.SELL, "1", "100000.0", userref=5)).txid
    engine.drain_events()
    taker = engine.add_order("B", market(Side.BUY, "1", cl_ord_id="abc")).txid
    events = [e for e in engine.drain_events() if isinstance(e, ExecutionEvent)]
    trades = [e for e in events if e.exec_type == ExecType.TRADE]
    assert {e.order.txid for e in trades} == {maker, taker}
    for event in trades:
        assert event.fill is not None
        assert event.fill.trade_id == trades[0].fill.trade_id  # type: ignore[union-attr]
        assert event.fill.maker == (event.order.txid == maker)
    taker_events = [e.exec_type for e in events if e.order.txid == taker]
    assert taker_events == ["pending_new", "new", "trade", "filled"]
    assert [e.order.cl_ord_id for e in events if e.order.txid == taker][-1] == "abc"
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
