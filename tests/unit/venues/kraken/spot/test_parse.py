"""Wire -> core parsing with the shared fixtures and the documented executions sequence."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.core.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRestated,
    OrderTriggered,
)
from gateway.core.model import (
    BookSnapshot,
    BookUpdate,
    InstrumentStatus,
    Liquidity,
    OrderType,
    OrdStatus,
    ProductType,
    Side,
    TimeInForce,
)
from gateway.venues.kraken.common.l2_book import KrakenL2Book
from gateway.venues.kraken.common.symbols import KrakenSymbolMap
from gateway.venues.kraken.spot import parse as p
from tests.fixtures import kraken_fixture, kraken_ws_fixture

D = Decimal


def ws_fixture(name: str) -> Any:
    """WS v2 payloads decoded the way the WS client must: JSON numbers as Decimal."""
    return kraken_ws_fixture(name)


@pytest.fixture
def symbols() -> KrakenSymbolMap:
    result = kraken_fixture("http_asset_pairs.json")["result"]
    result |= kraken_fixture("http_asset_pairs_tokenized.json")["result"]
    result["XETHZUSD"] = {"altname": "ETHUSD", "wsname": "ETH/USD", "base": "XETH", "quote": "ZUSD"}
    result["ETHUSDT"] = {
        "altname": "ETHUSDT",
        "wsname": "ETH/USDT",
        "base": "XETH",
        "quote": "USDT",
    }
    return p.parse_asset_pairs(result)[1]


def test_instruments_from_asset_pairs() -> None:
    result = kraken_fixture("http_asset_pairs.json")["result"]
    result |= kraken_fixture("http_asset_pairs_tokenized.json")["result"]
    result["XXBTZUSD.d"] = dict(result["XBTUSDT"])
    instruments, symbols = p.parse_asset_pairs(result)
    by_symbol = {i.symbol: i for i in instruments}
    assert set(by_symbol) == {"BTC/USDT", "AAPLx/USD"}  # dark pool skipped
    btc = by_symbol["BTC/USDT"]
    assert btc.venue == "kraken" and btc.venue_symbol == "XBTUSDT"
    assert btc.product_type is ProductType.SPOT
    assert (btc.base, btc.quote) == ("BTC", "USDT")
    assert btc.tick_size == D("0.1")
    assert btc.lot_size == D("0.00000001")
    assert btc.min_qty == D("0.00005") and btc.min_cost == D("0.5")
    assert btc.status is InstrumentStatus.ONLINE
    assert by_symbol["AAPLx/USD"].tick_size == D("0.01")
    assert symbols.by_kraken("XBT/USDT").symbol == "BTC/USDT"


def test_instrument_status_and_tick_fallback() -> None:
    pair = {"altname": "XDGUSD", "wsname": "XDG/USD", "base": "XXDG", "quote": "ZUSD",
            "pair_decimals": 7, "lot_decimals": 8, "status": "brand_new_state"}  # fmt: skip
    inst = p.parse_instrument("XDGUSD", pair)  # type: ignore[arg-type]
    assert inst.symbol == "DOGE/USD"
    assert inst.tick_size == D("0.0000001")
    assert inst.status is InstrumentStatus.MAINTENANCE


def test_open_orders(symbols: KrakenSymbolMap) -> None:
    result = kraken_fixture("http_open_orders.json")["result"]
    states = {s.venue_order_id: s for s in p.parse_orders(result["open"], symbols)}
    limit = states["O26VBY-ISGAE-JP5TLU"]
    assert limit.status is OrdStatus.NEW
    assert limit.symbol == "BTC/USDT"
    assert (limit.qty, limit.cum_qty, limit.price, limit.stop_price) == (
        D("0.5"), D(0), D("29500.0"), None,
    )  # fmt: skip
    assert limit.avg_px is None
    stop = states["OYEQF4-FDE4C-NMUYUI"]
    assert stop.stop_price == D("1800.0") and stop.price is None
    assert stop.symbol == "ETH/USDT"


def test_closed_orders_and_partial(symbols: KrakenSymbolMap) -> None:
    result = kraken_fixture("http_closed_orders.json")["result"]
    states = p.parse_orders(result["closed"], symbols)
    assert [s.status for s in states] == [OrdStatus.FILLED, OrdStatus.FILLED]
    assert states[0].avg_px == D("29500.0") and states[0].cum_qty == D("0.5")
    assert states[0].venue_time is not None and states[0].venue_time.year == 2023
    partial = dict(result["closed"]["O5KZFT-GH3AD-LP6TLU"], status="open", vol_exec="0.1")
    state = p.parse_order_info("X", partial, symbols)  # type: ignore[arg-type]
    assert state.status is OrdStatus.PARTIALLY_FILLED


def test_unknown_order_status_fails_loudly(symbols: KrakenSymbolMap) -> None:
    info = dict(kraken_fixture("http_open_orders.json")["result"]["open"]["O26VBY-ISGAE-JP5TLU"])
    info["status"] = "half_open"
    with pytest.raises(p.KrakenParseError, match="half_open"):
        p.parse_order_info("X", info, symbols)  # type: ignore[arg-type]


def test_add_order_result() -> None:
    assert p.parse_add_order_result(kraken_fixture("http_add_order_spot.json")["result"]) == (
        "OUF4EM-FRGI2-MQMWZD"
    )
    assert p.parse_add_order_result({"descr": {"order": "buy ..."}}) is None


def test_trades_history(symbols: KrakenSymbolMap) -> None:
    result = kraken_fixture("http_trades_history.json")["result"]
    fills = p.parse_trades_history(result["trades"], symbols)
    assert [f.trade_id for f in fills] == ["TCCCTY-WJ6EO-4FP4VZ", "TDCVFQ-TPEG4-6X7LSZ"]
    first = fills[0]
    assert first.venue_order_id == "O26VBY-ISGAE-JP5TLU"
    assert (first.qty, first.price) == (D("0.5"), D("29500.50"))
    assert first.fee is not None and (first.fee.asset, first.fee.amount) == ("USDT", D("23.60"))
    assert first.liquidity is Liquidity.MAKER and fills[1].liquidity is Liquidity.TAKER


# The documented limit-sell sequence (wire 6.4), as Decimal-decoded JSON.
EXECUTIONS = [
    {"channel": "executions", "type": "update", "sequence": 8, "data": [{
        "order_id": "OK4GJX-KSTLS-7DZZO5", "cl_ord_id": "my-id-1", "symbol": "BTC/USD",
        "side": "sell", "order_type": "limit", "order_qty": D("0.005"),
        "limit_price": D("26599.9"), "time_in_force": "GTC", "order_status": "pending_new",
        "exec_type": "pending_new", "cum_qty": D(0), "cum_cost": D("0.0"),
        "fee_usd_equiv": D("0.0"), "fee_ccy_pref": "fciq", "limit_price_type": "static",
        "timestamp": "2023-09-22T10:33:05.709950Z", "order_userref": 0}]},
    {"channel": "executions", "type": "update", "sequence": 9, "data": [{
        "timestamp": "2023-09-22T10:33:05.709993Z", "order_status": "new", "exec_type": "new",
        "order_userref": 0, "order_id": "OK4GJX-KSTLS-7DZZO5"}]},
    {"channel": "executions", "type": "update", "sequence": 10, "data": [{
        "order_id": "OK4GJX-KSTLS-7DZZO5", "order_userref": 0, "exec_id": "TGBB7L-HT5LX-J3BZ4A",
        "exec_type": "trade", "trade_id": 62887576, "symbol": "BTC/USD", "side": "sell",
        "last_qty": D("0.005"), "last_price": D("26599.9"), "liquidity_ind": "t",
        "cost": D("132.9995"), "order_type": "limit", "timestamp": "2023-09-22T10:33:05.709993Z",
        "order_status": "partially_filled", "cum_qty": D("0.005"), "cum_cost": D("132.9995"),
        "avg_price": D("26599.9"), "fee_usd_equiv": D("0.3458"),
        "fees": [{"asset": "USD", "qty": D("0.3458")}]}]},
    {"channel": "executions", "type": "update", "sequence": 11, "data": [{
        "order_id": "OK4GJX-KSTLS-7DZZO5", "exec_type": "filled", "order_status": "filled",
        "timestamp": "2023-09-22T10:33:05.709993Z"}]},
]  # fmt: skip


def test_documented_executions_sequence() -> None:
    batches = [p.parse_executions_message(m) for m in EXECUTIONS]
    assert [b.sequence for b in batches] == [8, 9, 10, 11]
    pending, new, trade, filled = (b.executions[0] for b in batches)
    assert pending.event is None and pending.order_status is OrdStatus.PENDING_NEW
    assert (pending.side, pending.order_type, pending.time_in_force) == (
        Side.SELL, OrderType.LIMIT, TimeInForce.GTC,
    )  # fmt: skip
    assert pending.cl_ord_id == "my-id-1" and pending.symbol == "BTC/USD"
    assert isinstance(new.event, OrderAccepted)
    assert new.event.venue_order_id == "OK4GJX-KSTLS-7DZZO5"
    fill = trade.event
    assert isinstance(fill, OrderFilled)
    assert (fill.trade_id, fill.qty, fill.price) == (
        "TGBB7L-HT5LX-J3BZ4A",
        D("0.005"),
        D("26599.9"),
    )
    assert fill.fee is not None and (fill.fee.asset, fill.fee.amount) == ("USD", D("0.3458"))
    assert fill.liquidity is Liquidity.TAKER
    assert fill.venue_time is not None and fill.venue_time.microsecond == 709993
    assert trade.order_status is OrdStatus.PARTIALLY_FILLED and trade.avg_px == D("26599.9")
    assert filled.event is None and filled.order_status is OrdStatus.FILLED
    assert trade.ratecount is None
    counted = _one({"order_id": "O1", "exec_type": "new", "ratecount": 17})
    assert counted.ratecount == D(17)


def _one(entry: dict[str, Any]) -> p.KrakenSpotExecution:
    batch = p.parse_executions_message({"channel": "executions", "type": "update", "data": [entry]})
    return batch.executions[0]


def test_other_exec_types() -> None:
    base = {"order_id": "O1", "cl_ord_id": "c1", "timestamp": "2024-01-01T00:00:00.123456789Z"}
    canceled = _one(base | {"exec_type": "canceled", "order_status": "canceled",
                            "reason": "User requested"})  # fmt: skip
    assert isinstance(canceled.event, OrderCanceled) and canceled.event.text == "User requested"
    assert isinstance(_one(base | {"exec_type": "expired"}).event, OrderExpired)
    amended = _one(base | {"exec_type": "amended", "order_qty": D("2"), "limit_price": D("10.5"),
                           "triggers": {"price": D("9"), "reference": "last"}})  # fmt: skip
    assert isinstance(amended.event, OrderAmended)
    assert (amended.event.qty, amended.event.price, amended.event.stop_price) == (
        D(2), D("10.5"), D(9),
    )  # fmt: skip
    restated = _one(base | {"exec_type": "restated", "order_qty": D("1"), "reason": "x"})
    assert isinstance(restated.event, OrderRestated) and restated.event.qty == D(1)
    fired = _one(base | {"exec_type": "status", "triggers": {"status": "triggered",
                                                             "actual_price": D("5")}})  # fmt: skip
    assert isinstance(fired.event, OrderTriggered) and fired.event.trigger_price == D(5)
    assert _one(base | {"exec_type": "status", "triggers": {"status": "untriggered"}}).event is None
    assert _one(base | {"exec_type": "iceberg_refill"}).event is None


@pytest.mark.parametrize(
    "bad",
    [{"exec_type": "teleported"}, {"exec_type": "new", "order_status": "sleeping"},
     {"exec_type": "new", "order_type": "hyper-limit"}, {"exec_type": "trade", "last_qty": D(1),
      "last_price": D(1)}],
)  # fmt: skip
def test_unknown_executions_fail_loudly(bad: dict[str, Any]) -> None:
    with pytest.raises(p.KrakenParseError):
        _one({"order_id": "O1"} | bad)


def test_snapshot_orders_trades_and_ratecounter() -> None:
    msg = {"channel": "executions", "type": "snapshot", "sequence": 1, "data": [
        {"order_id": "O1", "cl_ord_id": "c1", "symbol": "BTC/USD", "side": "buy",
         "order_type": "limit", "order_qty": D("1"), "limit_price": D("100"),
         "order_status": "partially_filled", "cum_qty": D("0.4"), "avg_price": D("99"),
         "time_in_force": "GTC", "timestamp": "2024-01-01T00:00:00Z"},
        {"order_id": "O1", "exec_id": "T1", "exec_type": "trade", "last_qty": D("0.4"),
         "last_price": D("99"), "order_status": "partially_filled"},
        {"ratecount": D("12.5")},
    ]}  # fmt: skip
    batch = p.parse_executions_message(msg)
    assert batch.snapshot and batch.ratecounter == D("12.5")
    (state,) = batch.order_states
    assert (state.venue_order_id, state.status, state.qty, state.cum_qty, state.price) == (
        "O1", OrdStatus.PARTIALLY_FILLED, D(1), D("0.4"), D(100),
    )  # fmt: skip
    (trade,) = batch.executions
    assert isinstance(trade.event, OrderFilled) and trade.event.trade_id == "T1"


def test_balances() -> None:
    result = {"XXBT": {"balance": "3.46840030", "credit": "1.26844502",
                       "credit_used": "0.10002300", "hold_trade": "2.14560458"},
              "ZUSD": {"balance": "100.0"}}  # fmt: skip
    btc, usd = p.parse_balance_ex(result)  # type: ignore[arg-type]
    assert btc.asset == "BTC" and btc.held == D("2.14560458")
    assert btc.available == D("3.46840030") + D("1.26844502") - D("0.10002300") - D("2.14560458")
    assert (usd.asset, usd.available, usd.held) == ("USD", D("100.0"), D(0))
    plain = p.parse_balance(kraken_fixture("http_spot_balance.json")["result"])
    assert {b.asset: b.total for b in plain} == {"USD": D("200000.00"), "BTC": D("0.5"),
                                                 "ETH": D("2.0")}  # fmt: skip


def test_ws_balances() -> None:
    snap = {"channel": "balances", "type": "snapshot", "data": [
        {"asset": "BTC", "balance": D("1.2"), "wallets": [
            {"type": "spot", "id": "main", "balance": D("1.0")},
            {"type": "earn", "id": "flex", "balance": D("0.2")}]},
        {"asset": "XDG", "balance": D("5")}]}  # fmt: skip
    got = [(b.asset, b.wallet, b.total) for b in p.parse_ws_balances(snap)]
    assert got == [("BTC", "spot", D("1.0")), ("BTC", "earn:flex", D("0.2")),
                   ("DOGE", "spot", D(5))]  # fmt: skip
    upd = {"channel": "balances", "type": "update", "data": [
        {"asset": "USD", "wallet_type": "spot", "wallet_id": "main", "balance": D("7.5"),
         "amount": D("-1"), "ledger_id": "L1"}]}  # fmt: skip
    assert [(b.asset, b.total) for b in p.parse_ws_balances(upd)] == [("USD", D("7.5"))]


def test_trade_balance_and_positions(symbols: KrakenSymbolMap) -> None:
    tb = p.parse_trade_balance(kraken_fixture("http_spot_trade_balance.json")["result"])
    assert tb.equity == D("198499.67") and tb.unrealized_pnl == D("-250.75")
    assert tb.margin_level == D("1587.99")
    (pos,) = p.parse_open_positions(kraken_fixture("http_spot_open_positions.json")["result"],
                                    symbols)  # fmt: skip
    assert pos.symbol == "BTC/USD" and pos.qty == D("0.5")
    assert pos.entry_price == D(100000) and pos.margin == D("10000.00")
    short = [{"pair": "XXBTZUSD", "type": "sell", "vol": "2", "vol_closed": "0.5", "cost": "10"}]
    assert p.parse_open_positions(short, symbols)[0].qty == D("-1.5")  # type: ignore[arg-type]


def test_market_data(symbols: KrakenSymbolMap) -> None:
    ((pair, entry),) = kraken_fixture("http_ticker.json")["result"].items()
    t = p.parse_ticker(pair, entry, symbols)
    assert (t.symbol, t.bid, t.ask, t.last) == (
        "BTC/USDT", D("105944.20000"), D("105944.30000"), D("105899.40000"),
    )  # fmt: skip
    assert t.bid_qty == D("1.000") and t.volume_24h == D("163.28908096")
    ((pair, depth),) = kraken_fixture("http_order_book.json")["result"].items()
    book = p.parse_depth(pair, depth, symbols)
    assert book.bids[0].price == D("105944.20000") and book.asks[0].qty == D("0.136")
    assert len(book.bids) == len(book.asks) == 5
    wt = p.parse_ws_ticker(ws_fixture("ws_ticker_snapshot.json")["data"][0])
    assert wt.bid == D("105944.20") and wt.time is not None
    trades = [p.parse_ws_trade(d) for d in ws_fixture("ws_trade_update.json")["data"]]
    assert [(x.trade_id, x.side, x.qty) for x in trades] == [
        ("10218208", Side.BUY, D("0.00027625")), ("10218209", Side.SELL, D("0.00012460")),
    ]  # fmt: skip


def test_ws_book_messages_feed_the_l2_replica() -> None:
    snap = ws_fixture("ws_book_snapshot.json")["data"][0]
    parsed = p.parse_ws_book(snap, snapshot=True)
    assert isinstance(parsed, BookSnapshot) and parsed.bids[0].price == D("105944.20")
    update = ws_fixture("ws_book_update.json")["data"][0]
    assert isinstance(p.parse_ws_book(update, snapshot=False), BookUpdate)
    book = KrakenL2Book("BTC/USD", 10, price_decimals=1, qty_decimals=8)
    book.apply(p.ws_book_levels(snap, "asks"), p.ws_book_levels(snap, "bids"), snapshot=True,
               checksum=None)  # fmt: skip
    book.apply(p.ws_book_levels(update, "asks"), p.ws_book_levels(update, "bids"),
               snapshot=False, checksum=None)  # fmt: skip
    assert book.bids(1) == [(D("105944.20"), D("0.250"))]
    # NB: the fixtures' checksums are the MATIC/USD doc values, not checksums of their own data.
    assert book.checksum() != update["checksum"]


def test_timestamps_and_decimals() -> None:
    ts = p.parse_rfc3339("2024-05-01T12:00:00.123456789Z")
    assert ts is not None and ts.microsecond == 123456 and ts.tzinfo is not None
    assert p.parse_rfc3339(None) is None
    with pytest.raises(p.KrakenParseError):
        p.parse_rfc3339("yesterday")
    assert p.dec(0.1) == D("0.1")
    with pytest.raises(p.KrakenParseError):
        p.dec("abc")
    with pytest.raises(p.KrakenParseError):
        p.dec(True)
    assert p.parse_unix_time(0) is None


def test_ws_acks_and_batches() -> None:
    from gateway.core.errors import ErrorReason, VenueRejected

    ok = kraken_fixture("ws_add_order_response_success.json")
    assert p.ws_response_error(ok) is None
    failed = p.ws_response_error(kraken_fixture("ws_add_order_response_failure.json"))
    assert isinstance(failed, VenueRejected) and failed.reason is ErrorReason.INSUFFICIENT_FUNDS
    partial = kraken_fixture("ws_batch_add_response_partial.json")["result"]
    first, second = p.parse_batch_add_result(partial)
    assert first == "O1"
    assert isinstance(second, VenueRejected) and second.reason is ErrorReason.VENUE_INVALID_PRICE
    docs_form = [{"order_id": "OA", "cl_ord_id": "a"}, {"order_id": "OB"}]
    assert p.parse_batch_add_result(docs_form) == ["OA", "OB"]
    rest = {
        "orders": [
            {"txid": "OX", "descr": {"order": "buy"}},
            {"error": "EOrder:Insufficient funds"},
        ]
    }
    got = p.parse_batch_add_result(rest)
    assert got[0] == "OX" and isinstance(got[1], VenueRejected)
    assert p.parse_edit_order_result({"status": "ok", "txid": "ONEW", "originaltxid": "OOLD"}) == (
        "ONEW",
        "OOLD",
    )
    with pytest.raises(VenueRejected):
        p.parse_edit_order_result({"status": "err", "error_message": "EOrder:Invalid order"})


def test_trailing_orders_report_trigger_not_offset(symbols: KrakenSymbolMap) -> None:
    info = {"status": "open", "vol": "1", "vol_exec": "0", "stopprice": "29000.0",
            "limitprice": "28950.0", "descr": {"pair": "XBTUSDT", "type": "sell",
            "ordertype": "trailing-stop-limit", "price": "+1.5%", "price2": "-50"}}  # fmt: skip
    state = p.parse_order_info("O1", info, symbols)  # type: ignore[arg-type]
    assert (state.stop_price, state.price) == (D("29000.0"), D("28950.0"))
    untriggered = dict(info, stopprice="0", limitprice="0")
    state = p.parse_order_info("O1", untriggered, symbols)  # type: ignore[arg-type]
    assert (state.stop_price, state.price) == (None, None)
    triggers = {"price": D("1.5"), "price_type": "pct", "actual_price": D("29000")}
    ws = _one({"order_id": "O1", "exec_type": "amended", "order_type": "trailing-stop",
               "triggers": triggers})  # fmt: skip
    assert ws.stop_price == D("29000")
    assert isinstance(ws.event, OrderAmended) and ws.event.stop_price == D("29000")


def test_rest_envelope() -> None:
    from gateway.core.errors import (
        ErrorReason,
        OutcomeUnknown,
        ResourceExhausted,
        Unavailable,
        VenueRejected,
    )

    body = json.dumps(kraken_fixture("http_add_order_spot.json")).encode()
    assert p.parse_rest_response(200, body)["txid"] == ["OUF4EM-FRGI2-MQMWZD"]
    opentm = p.parse_rest_response(200, b'{"error":[],"result":{"t":1688583840.8648}}')["t"]
    assert opentm == D("1688583840.8648")
    warned = b'{"error":["WGeneral:Deprecated"],"result":{"ok":1}}'
    assert p.parse_rest_response(200, warned) == {"ok": 1}
    with pytest.raises(VenueRejected) as info:
        p.parse_rest_response(200, b'{"error":["EOrder:Insufficient funds"]}', after_send=True)
    assert info.value.reason is ErrorReason.INSUFFICIENT_FUNDS
    with pytest.raises(OutcomeUnknown):
        p.parse_rest_response(200, b'{"error":["EGeneral:Internal error"]}', after_send=True)
    with pytest.raises(OutcomeUnknown):
        p.parse_rest_response(502, b"<html>bad gateway</html>", after_send=True)
    with pytest.raises(Unavailable):
        p.parse_rest_response(502, b"<html>bad gateway</html>")
    with pytest.raises(OutcomeUnknown) as unknown:
        p.parse_rest_response(200, b'{"result":', after_send=True)
    assert unknown.value.reason is ErrorReason.VENUE_RESPONSE_UNPARSEABLE
    with pytest.raises(Unavailable):
        p.parse_rest_response(200, b"[]")
    with pytest.raises(ResourceExhausted):
        p.parse_rest_response(429, b"")


def test_pair_book_decimals() -> None:
    pair = kraken_fixture("http_asset_pairs.json")["result"]["XBTUSDT"]
    assert p.pair_book_decimals(pair) == (1, 8)


def test_ws_instrument_pair() -> None:
    pair = {"symbol": "DOGE/USD", "base": "DOGE", "quote": "USD", "status": "online",
            "qty_precision": 8, "qty_increment": D("0.00000001"), "price_precision": 7,
            "price_increment": D("0.0000001"), "cost_min": D("0.5"),
            "qty_min": D("50")}  # fmt: skip
    inst, pdec, qdec = p.parse_ws_instrument_pair(pair)  # type: ignore[arg-type]
    assert (inst.symbol, inst.base, inst.quote) == ("DOGE/USD", "DOGE", "USD")
    assert (inst.tick_size, inst.lot_size, inst.min_qty, inst.min_cost) == (
        D("0.0000001"), D("0.00000001"), D(50), D("0.5"),
    )  # fmt: skip
    assert (pdec, qdec) == (7, 8)
    halted, _, _ = p.parse_ws_instrument_pair({"symbol": "X/Y", "status": "work_in_progress"})
    assert halted.status is InstrumentStatus.MAINTENANCE and halted.tick_size == D("1E-8")
