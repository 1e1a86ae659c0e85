"""Kraken Futures order history (`/api/history/v2/orders` elements) -> the orders it closed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.core.errors import Unavailable
from gateway.core.model import OrdStatus
from gateway.venues.kraken.common.wire_scalars import KrakenParseError
from gateway.venues.kraken.futures.parse_history import parse_closed_orders
from gateway.venues.kraken.futures.parse_instruments import KrakenFuturesSymbols, parse_instrument
from gateway.venues.kraken.futures.rest import parse_futures_response

SYMBOLS = KrakenFuturesSymbols.of(
    [parse_instrument({"symbol": "PF_XBTUSD", "type": "flexible_futures", "tickSize": 1})]
)


def _order(uid: str, filled: str, *, qty: str = "0.03", cli: str = "") -> dict[str, Any]:
    return {
        "uid": uid,
        "accountUid": "acct",
        "tradeable": "PF_XBTUSD",
        "direction": "Buy",
        "quantity": qty,
        "filled": filled,
        "timestamp": 1_700_000_000_000,
        "limitPrice": "50000.5",
        "orderType": "Limit",
        "clientId": cli,
        "reduceOnly": False,
        "lastUpdateTimestamp": 1_700_000_001_000,
    }


def _element(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"uid": f"e-{kind}", "timestamp": 1_700_000_001_000, "event": {kind: body}}


def _placed(uid: str, cli: str = "") -> dict[str, Any]:
    body = {"order": _order(uid, "0", cli=cli), "reason": "new_user_order", "reducedQuantity": ""}
    return _element("OrderPlaced", body)


def _updated(uid: str, filled: str, reason: str) -> dict[str, Any]:
    body = {"oldOrder": _order(uid, "0"), "newOrder": _order(uid, filled), "reason": reason}
    return _element("OrderUpdated", body)


def test_the_last_event_of_each_order_decides_and_only_closed_ones_are_listed() -> None:
    elements = [
        _placed("filled", cli="my-1"),
        _updated("filled", "0.01", "partial_fill"),
        _updated("filled", "0.03", "full_fill"),
        _placed("partial"),
        _updated("partial", "0.01", "partial_fill"),  # still open
        _placed("open"),
        _placed("cancelled"),
        _updated("cancelled", "0.01", "partial_fill"),
        _element("OrderCancelled", {"order": _order("cancelled", "0.01"), "reason": "by_user"}),
        _element("OrderNotFound", {"orderId": "cancelled"}),  # changes nothing
        _element("OrderRejected", {"order": _order("rejected", "0"), "reason": "post_would_x"}),
    ]
    states = {s.venue_order_id: s for s in parse_closed_orders(elements, SYMBOLS)}
    assert set(states) == {"filled", "cancelled", "rejected"}
    filled = states["filled"]
    assert (filled.status, filled.cum_qty, filled.qty) == (
        OrdStatus.FILLED,
        Decimal("0.03"),
        Decimal("0.03"),
    )
    assert filled.client_order_id is None  # the update's order has no clientId ("")
    assert filled.symbol == "BTC/USD:USD" and filled.price == Decimal("50000.5")
    cancelled = states["cancelled"]
    assert (cancelled.status, cancelled.cum_qty, cancelled.text) == (
        OrdStatus.CANCELED,
        Decimal("0.01"),
        "by_user",
    )
    assert states["rejected"].status is OrdStatus.REJECTED


def test_an_order_reopened_by_a_later_event_is_not_closed() -> None:
    # Events come oldest first: only the last one of an order counts.
    elements = [_placed("a"), _updated("a", "0.03", "full_fill"), _placed("b")]
    assert [s.venue_order_id for s in parse_closed_orders(elements, SYMBOLS)] == ["a"]
    assert parse_closed_orders([_updated("a", "0.03", "full_fill"), _placed("a")], SYMBOLS) == []


def test_an_unknown_event_kind_or_a_bare_element_is_loud() -> None:
    with pytest.raises(KrakenParseError, match="OrderTeleported"):
        parse_closed_orders([_element("OrderTeleported", {"order": _order("x", "0")})], SYMBOLS)
    with pytest.raises(KrakenParseError):
        parse_closed_orders([{"uid": "e", "timestamp": 1, "event": {}}], SYMBOLS)
    with pytest.raises(KrakenParseError):
        parse_closed_orders([_element("OrderCancelled", {"reason": "x"})], SYMBOLS)


def test_an_order_of_a_contract_no_longer_listed_keeps_an_empty_symbol() -> None:
    order = _order("old", "0") | {"tradeable": "FI_XBTUSD_200925"}
    [state] = parse_closed_orders([_element("OrderCancelled", {"order": order})], SYMBOLS)
    assert state.symbol == "" and state.status is OrdStatus.CANCELED


def test_history_answers_have_no_result_envelope() -> None:
    bare = b'{"accountUid":"a","len":0,"elements":[],"serverTime":"2026-01-01T00:00:00Z"}'
    assert parse_futures_response(200, bare, history=True)["elements"] == []
    with pytest.raises(Unavailable):
        parse_futures_response(200, bare)  # the derivatives API always has its envelope
    with pytest.raises(Unavailable):
        parse_futures_response(503, b"{}", history=True)
