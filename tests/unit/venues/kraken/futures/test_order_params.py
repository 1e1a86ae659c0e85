"""Core OrderRequest / AmendRequest -> Kraken Futures sendorder / editorder / batchorder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import (
    AmendRequest,
    Instrument,
    OffsetUnit,
    OrderRequest,
    OrderType,
    ProductType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerReference,
)
from gateway.venues.kraken.futures.order_params import (
    batch_cancel_element,
    batch_send_element,
    build_edit_order_params,
    build_send_order_params,
    encode_batch,
    kraken_futures_cli_ord_id,
    leverage_preference_params,
)

PF = Instrument(
    venue="krakenfutures",
    symbol="BTC/USD:USD",
    venue_symbol="PF_XBTUSD",
    product_type=ProductType.PERPETUAL,
    base="BTC",
    quote="USD",
    settle="USD",
    tick_size=Decimal("0.5"),
    lot_size=Decimal("0.0001"),
)


def req(order_type: OrderType = OrderType.LIMIT, **kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "client_order_id": "c-1",
        "symbol": "BTC/USD:USD",
        "side": Side.BUY,
        "order_type": order_type,
        "qty": Decimal("0.0100"),
    }
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


def send(request: OrderRequest) -> dict[str, str]:
    return build_send_order_params(request, PF, cli_ord_id="c-1")


def test_limit() -> None:
    assert send(req(price=Decimal("50000.0"))) == {
        "orderType": "lmt",
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "size": "0.01",
        "limitPrice": "50000",
        "cliOrdId": "c-1",
    }


@pytest.mark.parametrize(
    ("kw", "kind"),
    [
        ({"post_only": True}, "post"),
        ({"time_in_force": TimeInForce.IOC}, "ioc"),
        ({"time_in_force": TimeInForce.FOK}, "fok"),
    ],
)
def test_limit_flavours(kw: dict[str, object], kind: str) -> None:
    assert send(req(price=Decimal(1), **kw))["orderType"] == kind


def test_market_reduce_only_and_deadline() -> None:
    deadline = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    params = send(req(OrderType.MARKET, side=Side.SELL, reduce_only=True, deadline=deadline))
    assert params["orderType"] == "mkt" and params["side"] == "sell"
    assert "limitPrice" not in params and params["reduceOnly"] == "true"
    assert params["processBefore"] == "2026-01-02T03:04:05.678Z"


@pytest.mark.parametrize(
    ("order_type", "kind", "limit"),
    [
        (OrderType.STOP_LOSS, "stp", False),
        (OrderType.STOP_LOSS_LIMIT, "stp", True),
        (OrderType.TAKE_PROFIT, "take_profit", False),
        (OrderType.TAKE_PROFIT_LIMIT, "take_profit", True),
    ],
)
def test_stops(order_type: OrderType, kind: str, limit: bool) -> None:
    params = send(
        req(
            order_type,
            stop_price=Decimal(40000),
            price=Decimal(39900) if limit else None,
            trigger_reference=TriggerReference.MARK,
        )
    )
    assert params["orderType"] == kind and params["stopPrice"] == "40000"
    assert params["triggerSignal"] == "mark"
    assert ("limitPrice" in params) is limit


def test_trailing_stop_and_limit() -> None:
    plain = send(
        req(
            OrderType.TRAILING_STOP,
            trailing_offset=Decimal("1.5"),
            trailing_offset_unit=OffsetUnit.PERCENT,
            trigger_reference=TriggerReference.INDEX,
        )
    )
    assert plain["orderType"] == "trailing_stop"
    assert plain["trailingStopMaxDeviation"] == "1.5"
    assert plain["trailingStopDeviationUnit"] == "PERCENT"
    assert plain["triggerSignal"] == "index" and "limitPriceOffsetValue" not in plain
    with_limit = send(
        req(
            OrderType.TRAILING_STOP_LIMIT,
            trailing_offset=Decimal(100),
            limit_offset=Decimal(20),
        )
    )
    assert with_limit["trailingStopDeviationUnit"] == "QUOTE_CURRENCY"
    assert with_limit["limitPriceOffsetValue"] == "20"
    assert with_limit["limitPriceOffsetUnit"] == "QUOTE_CURRENCY"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (req(OrderType.ICEBERG, price=Decimal(1), display_qty=Decimal(1)), "display_qty"),
        (req(price=Decimal(1), time_in_force=TimeInForce.GTD), "time_in_force"),
        (req(OrderType.MARKET, qty=None, quote_qty=Decimal(5)), "quote_qty"),
        (req(price=Decimal(1), validate_only=True), "validate_only"),
        (
            req(price=Decimal(1), self_trade_prevention=SelfTradePrevention.CANCEL_BOTH),
            "self_trade_prevention",
        ),
        (req(price=Decimal(1), trigger_reference=TriggerReference.MARK), "trigger_reference"),
        (req(OrderType.MARKET, post_only=True), "post_only"),
        (req(OrderType.STOP_LOSS, stop_price=Decimal(1), price=Decimal(1)), "price"),
        (req(OrderType.STOP_LOSS), "stop_price"),
    ],
)
def test_refused_before_sending(request_: OrderRequest, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        send(request_)
    assert err.value.metadata["field"] == field


def test_iceberg_is_unsupported_order_type() -> None:
    with pytest.raises(InvalidArgument) as err:
        send(req(OrderType.ICEBERG, price=Decimal(1)))
    assert err.value.reason is ErrorReason.UNSUPPORTED_ORDER_TYPE


def test_cli_ord_id_mapping() -> None:
    plain = kraken_futures_cli_ord_id("strat-A_42")
    assert plain.value == "strat-A_42" and not plain.mapped
    odd = kraken_futures_cli_ord_id("order#1/ä")
    assert odd.mapped and len(odd.value) == 36
    assert kraken_futures_cli_ord_id("order#1/ä") == odd  # deterministic


def test_edit_params() -> None:
    original = req(price=Decimal(100))
    params = build_edit_order_params(
        AmendRequest(client_order_id="c-1", qty=Decimal(3), price=Decimal("101.5")),
        original,
        order_id="oid",
        cli_ord_id="c-1",
    )
    assert params == {"orderId": "oid", "size": "3", "qtyMode": "ABSOLUTE", "limitPrice": "101.5"}
    by_cli = build_edit_order_params(
        AmendRequest(client_order_id="c-1", price=Decimal(1)),
        original,
        order_id=None,
        cli_ord_id="x",
    )
    assert by_cli["cliOrdId"] == "x" and "orderId" not in by_cli
    with pytest.raises(InvalidArgument) as err:
        build_edit_order_params(
            AmendRequest(client_order_id="c-1", stop_price=Decimal(1)),
            original,
            order_id="oid",
            cli_ord_id="c-1",
        )
    assert err.value.metadata["field"] == "stop_price"


def test_batch_json_keeps_exact_numbers() -> None:
    element = batch_send_element(send(req(price=Decimal("50000.5"), reduce_only=True)), "0")
    text = encode_batch(
        [element, batch_cancel_element("oid", "c"), batch_cancel_element(None, "c")]
    )
    assert '"limitPrice":50000.5' in text and '"size":0.01' in text
    decoded = json.loads(text)["batchOrder"]
    assert decoded[0]["order"] == "send" and decoded[0]["order_tag"] == "0"
    assert decoded[0]["reduceOnly"] is True
    assert decoded[1] == {"order": "cancel", "order_id": "oid"}
    assert decoded[2] == {"order": "cancel", "cliOrdId": "c"}


def test_leverage_preference_is_isolated_margin_on_the_symbol() -> None:
    params = leverage_preference_params(PF, Decimal("12.50"))
    assert params == {"symbol": "PF_XBTUSD", "maxLeverage": "12.5"}
