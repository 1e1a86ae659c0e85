"""Kraken Futures payloads (recorded fixtures) -> core values, and the loud failures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    OutcomeUnknown,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.core.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderRestated,
    OrderTriggered,
)
from gateway.core.model import InstrumentStatus, Liquidity, OrdStatus, ProductType
from gateway.venues.kraken.common.wire_scalars import KrakenParseError
from gateway.venues.kraken.futures.errors import (
    FUTURES_STATUS_TABLE,
    SEND_ACCEPTED,
    futures_error,
    status_error,
)
from gateway.venues.kraken.futures.parse_account import (
    parse_accounts,
    parse_open_positions,
    parse_ws_positions,
)
from gateway.venues.kraken.futures.parse_fills import parse_rest_fill, parse_ws_fill
from gateway.venues.kraken.futures.parse_instruments import (
    KrakenFuturesSymbols,
    parse_instrument,
    parse_instruments,
    parse_ticker,
)
from gateway.venues.kraken.futures.parse_orders import (
    parse_batch_status,
    parse_cancel_status,
    parse_open_order,
    parse_order_status,
    parse_send_status,
    parse_ws_open_order_snapshot,
    parse_ws_open_orders,
)
from gateway.venues.kraken.futures.rest import parse_futures_response
from gateway.venues.kraken.futures.wire_values import KrakenFuturesOrderChange
from tests.fixtures import kraken_fixture, kraken_ws_fixture

SYMBOLS = KrakenFuturesSymbols.of(
    parse_instrument(row)  # type: ignore[misc]
    for row in [
        {"symbol": s, "type": "futures_inverse", "tickSize": 0.5, "contractValueTradePrecision": 0}
        for s in ("PI_XBTUSD", "PI_ETHUSD", "FI_XBTUSD_200925")
    ]
    + [{"symbol": "PF_ETHUSD", "type": "flexible_futures", "tickSize": 0.1}]
)


def test_instruments_fixture_unified_symbols_and_rules() -> None:
    instruments, symbols = parse_instruments(kraken_fixture("http_futures_instruments.json"))
    by_symbol = {i.symbol: i for i in instruments}
    inverse = by_symbol["BTC/USD:BTC"]
    assert inverse.venue == "krakenfutures" and inverse.venue_symbol == "PI_XBTUSD"
    assert inverse.product_type is ProductType.PERPETUAL
    assert (inverse.base, inverse.quote, inverse.settle) == ("BTC", "USD", "BTC")
    assert inverse.tick_size == Decimal("0.5") and inverse.lot_size == Decimal(1)
    assert inverse.max_leverage == Decimal(50)  # 1 / initialMargin 0.02
    linear = by_symbol["ETH/USD:USD"]
    assert linear.lot_size == Decimal("0.001") and linear.min_qty == Decimal("0.001")
    assert linear.settle == "USD"
    pepe = by_symbol["PEPE/USD:USD"]
    assert pepe.lot_size == Decimal(1000) and pepe.tick_size == Decimal("1E-10")
    assert symbols.unified("pi_xbtusd") == "BTC/USD:BTC"
    assert symbols.kraken("ETH/USD:USD") == "PF_ETHUSD"


def test_dated_future_and_untradable_rows() -> None:
    dated = parse_instrument(
        {
            "symbol": "FF_XBTUSD_250926",
            "type": "flexible_futures",
            "tickSize": 1,
            "contractValueTradePrecision": 4,
            "lastTradingTime": "2025-09-26T15:00:00.000Z",
            "tradeable": False,
        }
    )
    assert dated is not None and dated.symbol == "BTC/USD:USD-250926"
    assert dated.product_type is ProductType.FUTURE
    assert dated.expiry == datetime(2025, 9, 26, 15, tzinfo=UTC)
    assert dated.status is InstrumentStatus.CANCEL_ONLY
    assert parse_instrument({"symbol": "OF_ETHUSD_240101_1000_C", "type": "options"}) is None
    assert parse_instrument({"symbol": "rr_xbtusd", "type": "spot index"}) is None


def test_ticker_fixture() -> None:
    row = kraken_fixture("http_futures_tickers.json")["tickers"][0]
    symbols = KrakenFuturesSymbols({row["symbol"].upper(): "X/USD:USD"}, {})
    ticker = parse_ticker(row, symbols)
    assert ticker.venue == "krakenfutures" and ticker.symbol == "X/USD:USD"
    assert ticker.mark_price == Decimal(str(row["markPrice"]))
    if "openInterest" in row:
        assert ticker.open_interest == Decimal(str(row["openInterest"]))


def test_send_status_placed_and_refusals() -> None:
    placed = parse_send_status(kraken_fixture("http_send_order_futures.json"))
    assert placed.error is None and placed.status == "placed"
    assert placed.order_id == "c8a35168-8d52-4609-944f-3f32bb0d5c77"
    assert placed.cli_ord_id == "test-order-001"
    refused = parse_send_status({"sendStatus": {"status": "wouldNotReducePosition"}})
    assert isinstance(refused.error, VenueRejected)
    assert refused.error.reason is ErrorReason.REDUCE_ONLY_VIOLATION
    assert refused.error.venue_text == "wouldNotReducePosition"
    dup = parse_send_status({"sendStatus": {"status": "clientOrderIdAlreadyExist"}})
    assert isinstance(dup.error, AlreadyExists)
    with pytest.raises(KrakenParseError, match="brandNewStatus"):
        parse_send_status({"sendStatus": {"status": "brandNewStatus"}})


@pytest.mark.parametrize(
    ("status", "cls", "reason"),
    [
        ("postWouldExecute", VenueRejected, ErrorReason.POST_ONLY_WOULD_TAKE),
        ("iocWouldNotExecute", VenueRejected, ErrorReason.FOK_NOT_FILLED),
        ("insufficientAvailableFunds", VenueRejected, ErrorReason.INSUFFICIENT_MARGIN),
        ("maxPositionViolation", VenueRejected, ErrorReason.VENUE_POSITIONS_LIMIT),
        ("selfFill", VenueRejected, ErrorReason.SELF_TRADE_PREVENTED),
        ("marketSuspended", Unavailable, ErrorReason.VENUE_CANCEL_ONLY),
        ("marketIsPostOnly", Unavailable, ErrorReason.VENUE_POST_ONLY),
        ("wouldProcessAfterSpecifiedTime", VenueRejected, ErrorReason.DEADLINE_ELAPSED),
        ("invalidPrice", VenueRejected, ErrorReason.VENUE_INVALID_PRICE),
    ],
)
def test_status_table(status: str, cls: type, reason: ErrorReason) -> None:
    error = status_error(status, SEND_ACCEPTED)
    assert isinstance(error, cls) and error.reason is reason


def test_every_table_status_is_a_refusal_not_an_acceptance() -> None:
    assert not set(FUTURES_STATUS_TABLE) & SEND_ACCEPTED - {"filled"}


def test_cancel_status() -> None:
    ok = parse_cancel_status(kraken_fixture("http_cancel_order_futures.json"))
    assert ok.error is None and ok.order_id == "c8a35168-8d52-4609-944f-3f32bb0d5c77"
    for closed in ("notFound", "filled"):
        gone = parse_cancel_status({"cancelStatus": {"status": closed}})
        assert isinstance(gone.error, VenueRejected)
        assert gone.error.reason is ErrorReason.UNKNOWN_ORDER


def test_batch_status_per_instruction() -> None:
    payload = {
        "batchStatus": [
            {"status": "placed", "order_tag": "0", "order_id": "a"},
            {"status": "invalidSize", "order_tag": "1"},
            {"status": "cancelled", "order_id": "c"},
        ]
    }
    out = parse_batch_status(payload, ["send", "send", "cancel"])
    assert [o.error is None for o in out] == [True, False, True]
    assert out[0].order_tag == "0" and out[2].order_id == "c"
    with pytest.raises(KrakenParseError):
        parse_batch_status(payload, ["send"])


@pytest.mark.parametrize(
    ("code", "cls", "reason"),
    [
        ("apiLimitExceeded", ResourceExhausted, ErrorReason.VENUE_RATE_LIMITED),
        ("authenticationError", Unauthenticated, ErrorReason.VENUE_AUTH_FAILED),
        ("nonceBelowThreshold", Unauthenticated, ErrorReason.VENUE_AUTH_FAILED),
        ("Unavailable", Unavailable, ErrorReason.VENUE_MAINTENANCE),
        ("somethingNew", VenueRejected, ErrorReason.VENUE_REJECTED_OTHER),
    ],
)
def test_envelope_errors(code: str, cls: type, reason: ErrorReason) -> None:
    error = futures_error(code)
    assert isinstance(error, cls) and error.reason is reason and error.venue_text == code


def test_ambiguous_error_after_send_is_outcome_unknown() -> None:
    assert isinstance(futures_error("Server Error", after_send=True), OutcomeUnknown)
    assert isinstance(futures_error("Server Error"), Unavailable)


def test_response_envelope() -> None:
    ok = parse_futures_response(200, b'{"result":"success","x":27523.749993345933}')
    assert ok["x"] == Decimal("27523.749993345933")
    with pytest.raises(ResourceExhausted):
        parse_futures_response(200, b'{"result":"error","error":"apiLimitExceeded"}')
    with pytest.raises(Unavailable) as maint:
        parse_futures_response(503, b'{"result":"error","error":"Unavailable"}')
    assert maint.value.reason is ErrorReason.VENUE_MAINTENANCE
    with pytest.raises(OutcomeUnknown):
        parse_futures_response(502, b"<html>bad gateway</html>", after_send=True)
    with pytest.raises(Unavailable):
        parse_futures_response(502, b"<html>bad gateway</html>")
    with pytest.raises(OutcomeUnknown) as garbled:
        parse_futures_response(200, b"{not json", after_send=True)
    assert garbled.value.reason is ErrorReason.VENUE_RESPONSE_UNPARSEABLE


def test_open_orders_fixture() -> None:
    rows = kraken_fixture("http_futures_open_orders.json")["openOrders"]
    first, trigger, partial = (parse_open_order(r, SYMBOLS) for r in rows)
    assert first.status is OrdStatus.NEW and first.qty == Decimal(100) and first.cum_qty == 0
    assert trigger.stop_price == Decimal("1880.4")
    assert partial.status is OrdStatus.PARTIALLY_FILLED
    assert partial.qty == Decimal(7000) and partial.cum_qty == Decimal(2000)
    assert partial.client_order_id == "my-client-order-123"
    assert partial.symbol == "BTC/USD:BTC"
    with pytest.raises(KrakenParseError):
        parse_open_order({**rows[0], "status": "weird"}, SYMBOLS)


def test_order_status_row() -> None:
    row = {
        "order": {
            "orderId": "o1",
            "cliOrdId": "c1",
            "symbol": "PF_ETHUSD",
            "quantity": 2,
            "filled": 1,
            "limitPrice": 10.5,
            "lastUpdateTimestamp": "2024-01-15T10:30:45.123Z",
        },
        "status": "ENTERED_BOOK",
    }
    state = parse_order_status(row, SYMBOLS)
    assert state.status is OrdStatus.PARTIALLY_FILLED and state.cum_qty == Decimal(1)
    assert state.client_order_id == "c1" and state.symbol == "ETH/USD:USD"
    done = parse_order_status({**row, "status": "FULLY_EXECUTED"}, SYMBOLS)
    assert done.status is OrdStatus.FILLED


def test_fills_rest_and_ws() -> None:
    rest = [parse_rest_fill(r) for r in kraken_fixture("http_futures_fills.json")["fills"]]
    assert rest[0].trade_id == "cad76f07-814e-4dc6-8478-7867407b6bff"
    assert rest[0].liquidity is Liquidity.MAKER and rest[0].qty == Decimal(5000)
    assert rest[1].client_order_id == "my-order-ref-456" and rest[1].fee is not None
    assert rest[1].fee.asset == "ETH" and rest[1].fee.amount == Decimal("0.00685589")
    ws = parse_ws_fill(kraken_ws_fixture("ws_futures_fills_delta.json")["fills"][0])
    assert ws.qty == Decimal("0.001") and ws.price == Decimal("3162.0")
    assert ws.client_order_id == "b661bad0-7037-4b73-9e07-a65b515e4ef7"
    assert ws.venue_time == datetime.fromtimestamp(1765185437.003, UTC)
    snap = kraken_ws_fixture("ws_futures_fills_snapshot.json")["fills"]
    # The same fill (id) over REST and WS: one trade id, the core's de-dup key.
    assert parse_ws_fill(snap[0]).trade_id == rest[0].trade_id


def test_ws_open_orders_messages() -> None:
    new = parse_ws_open_orders(kraken_ws_fixture("ws_futures_open_orders_delta.json"))
    assert isinstance(new.event, OrderAccepted)
    assert new.event.venue_order_id == "59302619-41d2-4f0b-941f-7e7914760ad3"
    cancel = parse_ws_open_orders(kraken_ws_fixture("ws_futures_open_orders_cancel.json"))
    assert isinstance(cancel.event, OrderCanceled) and cancel.is_cancel
    full = parse_ws_open_orders(kraken_ws_fixture("ws_futures_open_orders_delta_full_fill.json"))
    assert full.event is None and full.change is KrakenFuturesOrderChange.NONE
    post = parse_ws_open_orders(kraken_ws_fixture("ws_futures_open_orders_cancel_post_only.json"))
    assert post.event is None  # the send's answer carries the rejection
    order = kraken_ws_fixture("ws_futures_open_orders_delta.json")["order"]
    edited = parse_ws_open_orders({"order": order, "is_cancel": False, "reason": "edited_by_user"})
    assert isinstance(edited.event, OrderAmended) and edited.event.qty == Decimal(304)
    clipped = parse_ws_open_orders(
        {"order": order, "is_cancel": False, "reason": "reduce_only_reduced"}
    )
    assert isinstance(clipped.event, OrderRestated)
    fired = parse_ws_open_orders(
        {"order": {**order, "stop_price": 10600}, "reason": "stop_order_triggered"}
    )
    assert isinstance(fired.event, OrderTriggered)
    assert fired.event.trigger_price == Decimal(10600)
    with pytest.raises(KrakenParseError, match="open_orders reason"):
        parse_ws_open_orders({"order": order, "reason": "mystery"})


def test_ws_open_orders_snapshot_row() -> None:
    row = kraken_ws_fixture("ws_futures_open_orders_snapshot.json")["orders"][0]
    state = parse_ws_open_order_snapshot(row, SYMBOLS)
    assert state.status is OrdStatus.NEW and state.qty == Decimal(1000)
    assert state.stop_price == Decimal(13789) and state.symbol == "BTC/USD:BTC"


def test_positions_rest_and_ws() -> None:
    rest = parse_open_positions(kraken_fixture("http_futures_open_positions.json"), SYMBOLS)
    assert [(p.symbol, p.qty) for p in rest] == [
        ("BTC/USD:BTC", Decimal(-8000)),
        ("ETH/USD:ETH", Decimal(12000)),
    ]
    assert rest[1].entry_price == Decimal("1750.25")
    ws = parse_ws_positions(
        {
            "positions": [
                {"instrument": "PF_ETHUSD", "balance": -1.5, "entry_price": 3000, "pnl": 2}
            ]
        },
        SYMBOLS,
    )
    assert ws[0].qty == Decimal("-1.5") and ws[0].unrealized_pnl == Decimal(2)


def test_accounts_wallets() -> None:
    payload = {
        "accounts": {
            "cash": {"type": "cashAccount", "balances": {"xbt": Decimal("0.5")}},
            "fi_xbtusd": {
                "type": "marginAccount",
                "currency": "xbt",
                "balances": {"xbt": Decimal("2")},
                "auxiliary": {"af": Decimal("1.5")},
            },
            "flex": {
                "type": "multiCollateralMarginAccount",
                "currencies": {
                    "USD": {"quantity": Decimal(1000), "available": Decimal(900)},
                },
            },
        }
    }
    rows = {(b.wallet, b.asset): b for b in parse_accounts(payload)}
    assert set(rows) == {
        ("futures:cash", "BTC"),
        ("futures:fi_xbtusd", "BTC"),
        ("futures:flex", "USD"),
    }
    assert rows[("futures:fi_xbtusd", "BTC")].held == Decimal("0.5")
    assert rows[("futures:flex", "USD")].available == Decimal(900)
