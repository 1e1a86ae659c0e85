"""Pair metadata, the generic book, the synthetic market and conditional closes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import (
    FLOW_ACCOUNT,
    INTERNAL_ACCOUNTS,
    MM_ACCOUNT,
    BookEvent,
    CloseParams,
    ManualClock,
    OrderBook,
    OrderParams,
    OrderStatus,
    OrderType,
    ReferencePriceEvent,
    Side,
    SpotEngine,
)
from simulator.engine.pairs import ASSETS, PAIRS, PairDirectory
from tests.fixtures import kraken_fixture
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal


def test_xbtusdt_metadata_matches_the_recorded_asset_pairs_payload() -> None:
    recorded = kraken_fixture("http_asset_pairs.json")["result"]["XBTUSDT"]
    assert PAIRS["XBTUSDT"].as_wire() == recorded


def test_required_pairs_and_lookup_by_every_spelling() -> None:
    directory = PairDirectory()
    for pair_id in ("XXBTZUSD", "XETHZUSD", "XETHXXBT", "XDGUSD", "USDTZUSD"):
        pair = PAIRS[pair_id]
        assert pair.base in ASSETS and pair.quote in ASSETS
        assert pair.tick_size == D(1).scaleb(-pair.pair_decimals)
        for name in pair.names():
            assert directory.pair(name.lower()) is pair
    assert directory.pair("BTC/USD") is PAIRS["XXBTZUSD"]
    assert directory.pair("DOGE/USD") is PAIRS["XDGUSD"]
    assert directory.asset("BTC") is ASSETS["XXBT"] and directory.asset("XDG") is ASSETS["XXDG"]
    assert PAIRS["XXBTZUSD"].taker_fee_pct(D(60000)) == D("0.24")
    assert PAIRS["XXBTZUSD"].maker_fee_pct() == D("0.25")


def test_book_price_time_priority_and_levels() -> None:
    book: OrderBook[str] = OrderBook()
    book.add("a", Side.BUY, D("10"), D("1"), "a")
    book.add("b", Side.BUY, D("11"), D("2"), "b")
    book.add("c", Side.BUY, D("11"), D("3"), "c")
    book.add("d", Side.SELL, D("12"), D("1"), "d")
    assert book.best_price(Side.BUY) == D("11") and book.best_price(Side.SELL) == D("12")
    assert book.levels(Side.BUY) == [(D("11"), D("5")), (D("10"), D("1"))]
    assert book.first_at(Side.BUY, D("11")) == ("b", "b")
    assert book.set_qty("b", D("1")) == D("4")
    assert book.requeue("b", D("1")) == D("4")
    assert book.items_at(Side.BUY, D("11")) == ["c", "b"]
    assert book.remove("a") == 0
    assert book.levels(Side.BUY, depth=1) == [(D("11"), D("4"))]
    with pytest.raises(KeyError):
        book.add("c", Side.BUY, D("1"), D("1"), "c")


def test_market_maker_keeps_both_sides_and_moves_with_the_walk(
    mm_engine: SpotEngine, clock: ManualClock
) -> None:
    bids = mm_engine.book_levels("XBTUSD", Side.BUY)
    asks = mm_engine.book_levels("XBTUSD", Side.SELL)
    assert len(bids) == 5 and len(asks) == 5 and bids[0][0] < asks[0][0]
    result = mm_engine.add_order("A", market(Side.BUY, "1.2"))
    assert result.order is not None and result.order.status is OrderStatus.CLOSED
    references = set()
    for _ in range(30):
        clock.advance(1)
        mm_engine.tick()
        references.add(mm_engine.reference_price("XBTUSD"))
    assert len(references) > 3
    assert len(mm_engine.book_levels("XBTUSD", Side.SELL)) == 5  # liquidity came back
    events = mm_engine.drain_events()
    assert any(isinstance(e, ReferencePriceEvent) for e in events)
    assert any(isinstance(e, BookEvent) and e.pair == "XXBTZUSD" for e in events)


def test_synthetic_market_is_deterministic_per_seed() -> None:
    def walk(seed: int) -> list[Decimal]:
        clock = ManualClock(D("1700000000"))
        engine = SpotEngine(seed=seed, clock=clock)
        out = []
        for _ in range(20):
            clock.advance(1)
            engine.tick()
            out.append(engine.reference_price("ETHUSD"))
        return out

    assert walk(1) == walk(1)
    assert walk(1) != walk(2)


def test_conditional_close_is_placed_after_the_primary_fills(engine: SpotEngine) -> None:
    engine.add_order("C", limit(Side.SELL, "1", "100000.0"))
    close = CloseParams(OrderType.LIMIT, "110000.0")
    result = engine.add_order(
        "A", OrderParams("XBTUSD", Side.BUY, OrderType.MARKET, "1", close=close)
    )
    assert result.descr_close == "close position @ limit 110000.0"
    [child] = engine.open_orders("A")
    assert child.refid == result.txid and child.side is Side.SELL and child.volume == D("1")
    assert engine.book_levels("XBTUSD", Side.SELL) == [(D("110000.0"), D("1"))]


def test_noise_flow_prints_trades_against_the_maker(clock: ManualClock) -> None:
    engine = SpotEngine(seed=3, clock=clock, flow_pct=100)
    for _ in range(5):
        clock.advance(1)
        engine.tick()
    trades = engine.recent_trades("ETH/USD")
    assert len(trades) == 5
    assert engine.stats["XETHZUSD"].trades == 5
    assert FLOW_ACCOUNT in INTERNAL_ACCOUNTS and MM_ACCOUNT in INTERNAL_ACCOUNTS
    quiet = SpotEngine(seed=3, clock=ManualClock(clock.now()))
    quiet.tick()
    assert quiet.recent_trades("ETH/USD") == []
