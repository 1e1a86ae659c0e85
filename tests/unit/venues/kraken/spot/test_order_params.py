"""Core OrderRequest -> Kraken AddOrder / WS v2 add_order params, and cl_ord_id mapping."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from gateway.venues.kraken.common.wire_format import encode_ws_message, fmt
from gateway.venues.kraken.spot.order_params import (
    CL_ORD_ID_NAMESPACE,
    build_add_order_batch_params,
    build_add_order_params,
    build_amend_order_params,
    build_ws_add_order_params,
    build_ws_amend_order_params,
    build_ws_batch_add_params,
    kraken_cl_ord_id,
)
from tests.fixtures import kraken_fixture

D = Decimal
BTC = Instrument(
    venue="kraken", symbol="BTC/USD", venue_symbol="XXBTZUSD", product_type=ProductType.SPOT,
    base="BTC", quote="USD", tick_size=D("0.1"), lot_size=D("0.00000001"),
)  # fmt: skip
T0 = datetime(2026, 5, 5, 10, 0, 0, tzinfo=UTC)


def req(order_type: OrderType, **kw: Any) -> OrderRequest:
    base: dict[str, Any] = {"client_order_id": "c-1", "symbol": "BTC/USD", "side": Side.BUY,
                            "order_type": order_type, "qty": D("1.25")}  # fmt: skip
    return OrderRequest(**(base | kw))


CASES: list[tuple[OrderRequest, dict[str, str]]] = [
    (req(OrderType.MARKET), {"ordertype": "market"}),
    (req(OrderType.LIMIT, price=D("37500")), {"ordertype": "limit", "price": "37500"}),
    (req(OrderType.STOP_LOSS, stop_price=D("30000.5")),
     {"ordertype": "stop-loss", "price": "30000.5"}),
    (req(OrderType.TAKE_PROFIT, stop_price=D("40000")),
     {"ordertype": "take-profit", "price": "40000"}),
    (req(OrderType.STOP_LOSS_LIMIT, stop_price=D("30000"), price=D("29900")),
     {"ordertype": "stop-loss-limit", "price": "30000", "price2": "29900"}),
    (req(OrderType.TAKE_PROFIT_LIMIT, stop_price=D("40000"), price=D("40100")),
     {"ordertype": "take-profit-limit", "price": "40000", "price2": "40100"}),
    (req(OrderType.TRAILING_STOP, trailing_offset=D("100")),
     {"ordertype": "trailing-stop", "price": "+100"}),
    (req(OrderType.TRAILING_STOP, trailing_offset=D("1.5"),
         trailing_offset_unit=OffsetUnit.PERCENT),
     {"ordertype": "trailing-stop", "price": "+1.5%"}),
    (req(OrderType.TRAILING_STOP_LIMIT, side=Side.SELL, trailing_offset=D("100"),
         limit_offset=D("50")),
     {"ordertype": "trailing-stop-limit", "type": "sell", "price": "+100", "price2": "-50"}),
    (req(OrderType.TRAILING_STOP_LIMIT, trailing_offset=D("2"), limit_offset=D("0.5"),
         trailing_offset_unit=OffsetUnit.PERCENT, limit_offset_unit=OffsetUnit.PERCENT),
     {"ordertype": "trailing-stop-limit", "price": "+2%", "price2": "+0.5%"}),
    (req(OrderType.ICEBERG, price=D("37500"), display_qty=D("0.1")),
     {"ordertype": "iceberg", "price": "37500", "displayvol": "0.1"}),
]  # fmt: skip


@pytest.mark.parametrize(("request_", "expected"), CASES)
def test_every_order_type(request_: OrderRequest, expected: dict[str, str]) -> None:
    params = build_add_order_params(request_, BTC)
    base = {"type": "buy", "volume": "1.25", "pair": "XXBTZUSD", "cl_ord_id": "c-1"}
    assert params == base | expected


def test_every_flag() -> None:
    request = req(
        OrderType.LIMIT, price=D("100.0"), post_only=True, time_in_force=TimeInForce.GTD,
        expire_time=T0, start_time=T0, reduce_only=True, trigger_reference=TriggerReference.INDEX,
        leverage=D("3"), self_trade_prevention=SelfTradePrevention.CANCEL_BOTH, deadline=T0,
        validate_only=True,
    )  # fmt: skip
    params = build_add_order_params(request, BTC, fee_preference="quote")
    assert params["oflags"] == "post,fciq"
    assert params["timeinforce"] == "GTD"
    assert params["expiretm"] == params["starttm"] == str(int(T0.timestamp()))
    assert params["reduce_only"] == "true" and params["validate"] == "true"
    assert params["trigger"] == "index" and params["leverage"] == "3"
    assert params["stptype"] == "cancel-both"
    assert params["deadline"] == "2026-05-05T10:00:00.000Z"
    assert params["price"] == "100"
    assert build_add_order_params(req(OrderType.MARKET), BTC, fee_preference="base")["oflags"] == (
        "fcib"
    )
    ioc = build_add_order_params(
        req(OrderType.LIMIT, price=D(1), time_in_force=TimeInForce.IOC), BTC
    )
    assert ioc["timeinforce"] == "IOC" and "oflags" not in ioc


def test_quote_qty_is_viqc_market_buy_only() -> None:
    params = build_add_order_params(req(OrderType.MARKET, qty=None, quote_qty=D("50")), BTC)
    assert params["volume"] == "50" and params["oflags"] == "viqc"
    with pytest.raises(InvalidArgument):
        build_add_order_params(req(OrderType.MARKET, side=Side.SELL, qty=None, quote_qty=D(1)), BTC)


@pytest.mark.parametrize(
    ("order_type", "missing"),
    [(OrderType.LIMIT, "price"), (OrderType.STOP_LOSS, "stop_price"),
     (OrderType.TAKE_PROFIT_LIMIT, "price"), (OrderType.TRAILING_STOP, "trailing_offset")],
)  # fmt: skip
def test_missing_price_fields(order_type: OrderType, missing: str) -> None:
    kw: dict[str, Any] = {"stop_price": D(1)} if order_type is OrderType.TAKE_PROFIT_LIMIT else {}
    with pytest.raises(InvalidArgument) as info:
        build_add_order_params(req(order_type, **kw), BTC)
    assert info.value.reason is ErrorReason.MISSING_FIELD
    assert info.value.metadata["field"] == missing


def test_mark_trigger_not_on_spot() -> None:
    request = req(OrderType.STOP_LOSS, stop_price=D(1), trigger_reference=TriggerReference.MARK)
    with pytest.raises(InvalidArgument):
        build_add_order_params(request, BTC)


@pytest.mark.parametrize(
    "client_id",
    ["O-20260505-000001", "x" * 18, "123e4567-e89b-12d3-a456-426614174000",
     "0123456789abcdef0123456789ABCDEF"],
)  # fmt: skip
def test_cl_ord_id_kept_when_it_fits(client_id: str) -> None:
    assert kraken_cl_ord_id(client_id).value == client_id
    assert not kraken_cl_ord_id(client_id).mapped


@pytest.mark.parametrize("client_id", ["x" * 19, "has space", "0123456789abcdef0123456789abcdeg"])
def test_cl_ord_id_mapped_to_uuid5(client_id: str) -> None:
    mapped = kraken_cl_ord_id(client_id)
    assert mapped.mapped
    assert mapped.value == str(uuid.uuid5(CL_ORD_ID_NAMESPACE, client_id))
    assert mapped == kraken_cl_ord_id(client_id)  # deterministic
    assert uuid.UUID(mapped.value).version == 5
    params = build_add_order_params(req(OrderType.MARKET, client_order_id=client_id), BTC)
    assert params["cl_ord_id"] == mapped.value
    assert "cl_ord_id" not in build_add_order_params(req(OrderType.MARKET), BTC, cl_ord_id="")


def test_ws_add_order_matches_fixture_shape() -> None:
    fixture = kraken_fixture("ws_add_order_request.json")["params"]
    request = req(OrderType.LIMIT, client_order_id=fixture["cl_ord_id"], qty=D("0.01"),
                  price=D("30000.0"), post_only=True)  # fmt: skip
    params = build_ws_add_order_params(request, BTC)
    for key in ("order_type", "side", "symbol", "cl_ord_id", "post_only"):
        assert params[key] == fixture[key]
    assert params["order_qty"] == D("0.01") and params["limit_price"] == D("30000.0")
    assert "time_in_force" not in params  # GTC is the default
    text = encode_ws_message({"method": "add_order", "params": params | {"token": "T"}})
    decoded = json.loads(text, parse_float=Decimal)
    assert decoded["params"]["order_qty"] == D("0.01")
    assert '"order_qty":0.01' in text and '"limit_price":30000' in text


def test_ws_triggers_and_trailing() -> None:
    stop = build_ws_add_order_params(
        req(OrderType.STOP_LOSS_LIMIT, stop_price=D(10), price=D(9),
            trigger_reference=TriggerReference.LAST), BTC)  # fmt: skip
    assert stop["triggers"] == {"price": D(10), "price_type": "static", "reference": "last"}
    assert stop["limit_price"] == D(9)
    trail = build_ws_add_order_params(
        req(OrderType.TRAILING_STOP_LIMIT, side=Side.SELL, trailing_offset=D("1"),
            trailing_offset_unit=OffsetUnit.PERCENT, limit_offset=D("20"),
            time_in_force=TimeInForce.IOC), BTC)  # fmt: skip
    assert trail["triggers"] == {"price": D(1), "price_type": "pct"}
    assert (trail["limit_price"], trail["limit_price_type"]) == (D(-20), "quote")
    assert trail["time_in_force"] == "ioc"
    cash = build_ws_add_order_params(req(OrderType.MARKET, qty=None, quote_qty=D(5)), BTC,
                                     include_symbol=False, fee_preference="base")  # fmt: skip
    assert cash["cash_order_qty"] == D(5) and "symbol" not in cash and "order_qty" not in cash
    assert cash["fee_preference"] == "base"


def test_amend_params() -> None:
    amend = AmendRequest(client_order_id="c-1", qty=D("2"), price=D("10.50"), post_only=True)
    limit = req(OrderType.LIMIT, price=D("10"))
    assert build_amend_order_params(amend, limit, txid="O1") == {
        "txid": "O1", "order_qty": "2", "limit_price": "10.5", "post_only": "true",
    }  # fmt: skip
    ws = build_ws_amend_order_params(amend, limit, cl_ord_id="c-1")
    assert ws == {"cl_ord_id": "c-1", "order_qty": D(2), "limit_price": D("10.50"),
                  "post_only": True}  # fmt: skip
    with pytest.raises(ValueError):
        build_amend_order_params(amend, limit)


TRAIL_QUOTE = req(OrderType.TRAILING_STOP, side=Side.SELL, trailing_offset=D("100"))
TRAIL_PCT = req(OrderType.TRAILING_STOP, trailing_offset=D("1"),
                trailing_offset_unit=OffsetUnit.PERCENT)  # fmt: skip
TSL_SELL_QUOTE = req(OrderType.TRAILING_STOP_LIMIT, side=Side.SELL, trailing_offset=D("100"),
                     limit_offset=D("50"))  # fmt: skip
TSL_BUY_PCT = req(OrderType.TRAILING_STOP_LIMIT, trailing_offset=D("2"), limit_offset=D("0.5"),
                  trailing_offset_unit=OffsetUnit.PERCENT,
                  limit_offset_unit=OffsetUnit.PERCENT)  # fmt: skip


@pytest.mark.parametrize(
    ("original", "amend", "rest", "ws"),
    [
        (TRAIL_QUOTE, {"trailing_offset": D("250.50")},
         {"trigger_price": "+250.5"},
         {"trigger_price": D("250.50"), "trigger_price_type": "quote"}),
        (TRAIL_PCT, {"trailing_offset": D("1.5")},
         {"trigger_price": "+1.5%"},
         {"trigger_price": D("1.5"), "trigger_price_type": "pct"}),
        # A sell's limit sits below the trigger (as AddOrder's price2 `-x`), a buy's above.
        (TSL_SELL_QUOTE, {"trailing_offset": D("200"), "limit_offset": D("75")},
         {"trigger_price": "+200", "limit_price": "-75"},
         {"trigger_price": D("200"), "trigger_price_type": "quote",
          "limit_price": D("-75"), "limit_price_type": "quote"}),
        (TSL_BUY_PCT, {"limit_offset": D("0.25")},
         {"limit_price": "+0.25%"},
         {"limit_price": D("0.25"), "limit_price_type": "pct"}),
        (TSL_SELL_QUOTE, {"limit_offset": D("0")},
         {"limit_price": "+0"},
         {"limit_price": D("0"), "limit_price_type": "quote"}),
        (TSL_BUY_PCT, {"qty": D("2"), "trailing_offset": D("3")},
         {"order_qty": "2", "trigger_price": "+3%"},
         {"order_qty": D("2"), "trigger_price": D("3"), "trigger_price_type": "pct"}),
    ],
)  # fmt: skip
def test_amend_trailing_offsets(
    original: OrderRequest, amend: dict[str, Any], rest: dict[str, str], ws: dict[str, Any]
) -> None:
    change = AmendRequest(client_order_id="c-1", **amend)
    assert build_amend_order_params(change, original, txid="O1") == {"txid": "O1"} | rest
    assert build_ws_amend_order_params(change, original, order_id="O1") == {"order_id": "O1"} | ws


@pytest.mark.parametrize("original", [TRAIL_QUOTE, TRAIL_PCT, TSL_SELL_QUOTE, TSL_BUY_PCT])
def test_amend_to_the_same_offsets_restates_add_order_terms(original: OrderRequest) -> None:
    same = AmendRequest(client_order_id="c-1", trailing_offset=original.trailing_offset,
                        limit_offset=original.limit_offset)  # fmt: skip
    placed = build_add_order_params(original, BTC)
    rest = build_amend_order_params(same, original, txid="O1")
    assert rest["trigger_price"] == placed["price"]
    assert rest.get("limit_price") == placed.get("price2")
    ws_placed = build_ws_add_order_params(original, BTC)
    ws = build_ws_amend_order_params(same, original, order_id="O1")
    assert (ws["trigger_price"], ws["trigger_price_type"]) == (
        ws_placed["triggers"]["price"], ws_placed["triggers"]["price_type"],
    )  # fmt: skip
    assert (ws.get("limit_price"), ws.get("limit_price_type")) == (
        ws_placed.get("limit_price"), ws_placed.get("limit_price_type"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("original", "amend", "field"),
    [
        (req(OrderType.LIMIT, price=D("10")), {"trailing_offset": D("5")}, "trailing_offset"),
        (req(OrderType.STOP_LOSS, stop_price=D("10")), {"trailing_offset": D("5")},
         "trailing_offset"),
        (TRAIL_QUOTE, {"limit_offset": D("5")}, "limit_offset"),
        (req(OrderType.STOP_LOSS_LIMIT, stop_price=D("10"), price=D("9")),
         {"limit_offset": D("5")}, "limit_offset"),
        (TRAIL_QUOTE, {"stop_price": D("49000")}, "stop_price"),
        (TSL_SELL_QUOTE, {"stop_price": D("49000")}, "stop_price"),
        (TRAIL_PCT, {"price": D("49000")}, "price"),
    ],
)  # fmt: skip
def test_amend_fields_meaningless_for_the_order_type_are_refused(
    original: OrderRequest, amend: dict[str, Any], field: str
) -> None:
    change = AmendRequest(client_order_id="c-1", **amend)
    for build in (
        lambda: build_amend_order_params(change, original, txid="O1"),
        lambda: build_ws_amend_order_params(change, original, order_id="O1"),
    ):
        with pytest.raises(InvalidArgument) as info:
            build()
        assert info.value.reason is ErrorReason.INVALID_FIELD
        assert info.value.metadata == {"field": field}


def test_fmt_never_uses_exponents() -> None:
    assert fmt(D("1E+1")) == "10"
    assert fmt(D("0.00000001")) == "0.00000001"
    assert fmt(D("1.2300")) == "1.23"
    assert fmt(D("0")) == "0"


def test_batches() -> None:
    a = req(OrderType.LIMIT, client_order_id="O-A", qty=D("0.01"), price=D("30000"))
    b = req(OrderType.LIMIT, client_order_id="O-B", side=Side.SELL, qty=D("0.01"),
            price=D("31000"), deadline=T0)  # fmt: skip
    rest = build_add_order_batch_params([a, b], BTC, deadline=T0)
    assert rest["pair"] == "XXBTZUSD" and rest["deadline"] == "2026-05-05T10:00:00.000Z"
    assert [o["cl_ord_id"] for o in rest["orders"]] == ["O-A", "O-B"]
    assert all("pair" not in o and "deadline" not in o for o in rest["orders"])
    ws = build_ws_batch_add_params([a, b], BTC)
    fixture = kraken_fixture("ws_batch_add_request.json")["params"]
    assert ws["symbol"] == fixture["symbol"]
    for got, want in zip(ws["orders"], fixture["orders"], strict=True):
        assert {k: got[k] for k in ("order_type", "side", "cl_ord_id")} == {
            k: want[k] for k in ("order_type", "side", "cl_ord_id")
        }
        assert "symbol" not in got
    with pytest.raises(InvalidArgument) as info:
        build_add_order_batch_params([a], BTC)
    assert info.value.reason is ErrorReason.BATCH_TOO_LARGE
    with pytest.raises(InvalidArgument):
        build_ws_batch_add_params([a] * 16, BTC)
    with pytest.raises(InvalidArgument):
        build_ws_batch_add_params([a, req(OrderType.MARKET, symbol="ETH/USD")], BTC)


decimals = st.decimals(min_value=D("0.00000001"), max_value=D("1e9"), places=8, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    order_type=st.sampled_from(list(OrderType)),
    side=st.sampled_from(list(Side)),
    qty=decimals,
    price=decimals,
    stop=decimals,
    offset=decimals,
    tif=st.sampled_from(list(TimeInForce)),
    client_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                      max_size=64),
)  # fmt: skip
def test_property_params_are_plain_decimal_strings(
    order_type: OrderType,
    side: Side,
    qty: Decimal,
    price: Decimal,
    stop: Decimal,
    offset: Decimal,
    tif: TimeInForce,
    client_id: str,
) -> None:
    request = req(order_type, side=side, qty=qty, price=price, stop_price=stop,
                  trailing_offset=offset, limit_offset=offset, time_in_force=tif,
                  client_order_id=client_id)  # fmt: skip
    params = build_add_order_params(request, BTC)
    for key in ("volume", "price", "price2"):
        if key in params:
            text = params[key].lstrip("+-").rstrip("%")
            assert "E" not in text and "e" not in text
            assert D(text) == abs(D(text))
    assert D(params["volume"]) == qty
    cl = params["cl_ord_id"]
    assert cl == client_id or kraken_cl_ord_id(client_id).mapped
    assert len(cl) <= 36
    ws = json.loads(encode_ws_message(build_ws_add_order_params(request, BTC)), parse_float=D)
    assert D(str(ws["order_qty"])) == qty


def test_ws_messages_keep_decimal_digits_and_strings_as_strings() -> None:
    text = encode_ws_message(
        {"a": D("-1E-8"), "b": D("1E+2"), "c": [D("40000.10")], "s": "x\x00dec:1", "u": "é"}
    )
    assert text == '{"a":-0.00000001,"b":100,"c":[40000.1],"s":"x\\u0000dec:1","u":"é"}'
    decoded = json.loads(text, parse_float=Decimal)
    assert decoded["c"] == [D("40000.1")] and decoded["s"] == "x\x00dec:1"
