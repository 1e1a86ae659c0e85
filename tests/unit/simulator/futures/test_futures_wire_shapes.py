"""The simulator's futures payloads carry the fields of recorded Kraken payloads (fixtures)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from simulator.engine.clock import ManualClock
from simulator.engine.futures_engine import KrakenFuturesEngine
from simulator.engine.futures_events import (
    KrakenFuturesBookEvent,
    KrakenFuturesEvent,
    KrakenFuturesTradeEvent,
)
from simulator.engine.futures_orders import KrakenFuturesOrderRequest, KrakenFuturesOrderType
from simulator.engine.model import Side
from simulator.futures.rest_format import (
    fill_json,
    instrument_json,
    open_order_json,
    position_json,
    send_status,
    ticker_json,
)
from simulator.futures.ws_format import (
    ws_book_delta_json,
    ws_book_snapshot_json,
    ws_fill_json,
    ws_order_json,
    ws_ticker_json,
    ws_trade_json,
)
from simulator.wire.json_codec import encode
from tests.fixtures import kraken_fixture

ACCT = "AA00SHAPE"
D = Decimal


def engine_with_activity() -> tuple[KrakenFuturesEngine, list[KrakenFuturesEvent]]:
    engine = KrakenFuturesEngine(ManualClock(), seed=2)
    engine.open_account(ACCT, {"USD": D(100_000), "XBT": D(1)})
    events: list[KrakenFuturesEvent] = []
    engine.subscribe(events.append)
    mkt = KrakenFuturesOrderRequest(
        "PI_XBTUSD", Side.BUY, KrakenFuturesOrderType.MKT, D(500), cli_ord_id="c1"
    )
    engine.send_order(ACCT, mkt)
    bids, _, _ = engine.book_levels("PI_XBTUSD", 1)
    lmt = KrakenFuturesOrderRequest(
        "PI_XBTUSD", Side.SELL, KrakenFuturesOrderType.LMT, D(100), limit_price=bids[0][0] + 1000
    )
    engine.send_order(ACCT, lmt)
    return engine, events


def wire(payload: dict[str, Any]) -> dict[str, Any]:
    """What a client parses: the payload through the simulator's JSON codec."""
    return json.loads(encode(payload))  # type: ignore[no-any-return]


def test_instrument_and_ticker_fields_match_kraken() -> None:
    engine, _ = engine_with_activity()
    inst = engine.instrument("PI_XBTUSD")
    recorded = kraken_fixture("http_futures_instruments.json")["instruments"][0]
    assert set(wire(instrument_json(inst))) == set(recorded)
    ticker = wire(ticker_json(engine.ticker("PI_XBTUSD"), inst))
    assert set(ticker) == set(kraken_fixture("http_futures_tickers.json")["tickers"][0])
    ws_ticker = wire(ws_ticker_json(engine.ticker("PI_XBTUSD"), inst, engine.now_ms()))
    assert set(ws_ticker) == set(kraken_fixture("ws_futures_ticker.json"))


def test_rest_account_rows_match_kraken() -> None:
    engine, _ = engine_with_activity()
    [order] = engine.open_orders(ACCT)
    recorded_orders = kraken_fixture("http_futures_open_orders.json")["openOrders"]
    known = set().union(*(set(r) for r in recorded_orders)) | {"cliOrdId"}
    assert set(wire(open_order_json(order))) <= known
    [fill] = engine.fills(ACCT)
    recorded_fills = kraken_fixture("http_futures_fills.json")["fills"]
    assert set(wire(fill_json(fill))) == set(recorded_fills[1]) | {"cliOrdId"}
    [pos] = engine.positions(ACCT)
    recorded = kraken_fixture("http_futures_open_positions.json")["openPositions"][0]
    assert set(wire(position_json(pos, engine.instrument(pos.symbol)))) == set(recorded) | {
        "pnlCurrency"
    }


def test_send_status_carries_the_recorded_fields() -> None:
    engine = KrakenFuturesEngine(ManualClock(), seed=2)
    engine.open_account(ACCT, {"USD": D(100_000)})
    bids, _, _ = engine.book_levels("PF_XBTUSD", 1)
    result = engine.send_order(
        ACCT,
        KrakenFuturesOrderRequest(
            "PF_XBTUSD",
            Side.BUY,
            KrakenFuturesOrderType.LMT,
            D("0.01"),
            limit_price=bids[0][0] - 10,
            cli_ord_id="test-order-001",
        ),
    )
    status = wire(send_status(result))
    recorded = kraken_fixture("http_send_order_futures.json")["sendStatus"]
    assert set(recorded) <= set(status)
    assert status["cli_ord_id"] == status["cliOrdId"] == "test-order-001"
    [place] = status["orderEvents"]
    recorded_order = kraken_fixture("http_futures_order_events.json")["orderEvents"][0]["order"]
    assert set(place["order"]) == set(recorded_order)


def test_ws_fill_order_book_and_trade_fields_match_kraken() -> None:
    engine, events = engine_with_activity()
    [fill] = engine.fills(ACCT)
    recorded_fill = kraken_fixture("ws_futures_fills_delta.json")["fills"][0]
    assert set(wire(ws_fill_json(fill))) == set(recorded_fill)
    [order] = engine.open_orders(ACCT)
    assert set(wire(ws_order_json(order))) == set(
        kraken_fixture("ws_futures_open_orders_delta.json")["order"]
    )
    book = next(e for e in events if isinstance(e, KrakenFuturesBookEvent))
    assert set(wire(ws_book_delta_json(book))) == set(kraken_fixture("ws_futures_book_delta.json"))
    bids, asks, seq = engine.book_levels("PI_XBTUSD")
    snapshot = wire(ws_book_snapshot_json("PI_XBTUSD", bids, asks, seq, engine.now_ms()))
    recorded = kraken_fixture("ws_futures_book_snapshot.json")
    assert set(snapshot) == set(recorded)
    assert set(snapshot["bids"][0]) == set(recorded["bids"][0])
    trade = next(e for e in events if isinstance(e, KrakenFuturesTradeEvent))
    assert set(wire(ws_trade_json(trade))) == set(kraken_fixture("ws_futures_trade.json"))


def test_public_execution_element_matches_kraken() -> None:
    from simulator.futures.rest_market import market_executions

    engine, _ = engine_with_activity()
    [element] = wire(market_executions(engine, {}, "market/PI_XBTUSD/executions"))["elements"]
    recorded = kraken_fixture("http_futures_public_executions.json")["elements"][0]
    assert set(element) == set(recorded)
    execution = element["event"]["Execution"]["execution"]
    recorded_execution = recorded["event"]["Execution"]["execution"]
    assert set(execution) == set(recorded_execution)
    assert set(execution["makerOrder"]) == set(recorded_execution["makerOrder"])
    assert set(execution["takerOrder"]) == set(recorded_execution["takerOrder"])
    assert execution["takerOrder"]["direction"] == "Buy"
