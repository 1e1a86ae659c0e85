"""Invalid input is refused with a specific reason and zero venue calls; risk limits; kill
switch. A hypothesis test throws random requests at submit: only GatewayErrors, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.core.errors import (
    ErrorReason,
    FailedPrecondition,
    GatewayError,
    Internal,
    InvalidArgument,
    RiskRejected,
    Unavailable,
)
from gateway.core.model import (
    AmendRequest,
    InstrumentStatus,
    OrderRequest,
    OrderType,
    OrdStatus,
    ReplaceRequest,
    Side,
    Ticker,
    TimeInForce,
)
from gateway.core.risk import RiskLimits
from gateway.core.service import TradingService
from gateway.core.validation import parse_decimal
from tests.support.venue_double import VenueDouble, with_status
from tests.unit.core.conftest import ACCOUNT, TRADER, limit

D = Decimal
PAST = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [
        ({"qty": D(0)}, ErrorReason.NON_POSITIVE_QUANTITY, "qty"),
        ({"qty": D("-1")}, ErrorReason.NON_POSITIVE_QUANTITY, "qty"),
        ({"qty": D("NaN")}, ErrorReason.INVALID_DECIMAL, "qty"),
        ({"qty": D("Infinity")}, ErrorReason.INVALID_DECIMAL, "qty"),
        ({"qty": None}, ErrorReason.MISSING_FIELD, "qty"),
        ({"qty": D("0.000000001")}, ErrorReason.QTY_OFF_LOT, "qty"),
        ({"qty": D("0.00005")}, ErrorReason.BELOW_MIN_QTY, "qty"),
        ({"qty": D("0.001"), "price": D("100.0")}, ErrorReason.BELOW_MIN_COST, "qty"),
        ({"price": D("100.05")}, ErrorReason.PRICE_OFF_TICK, "price"),
        ({"price": D(0)}, ErrorReason.NON_POSITIVE_PRICE, "price"),
        ({"price": None}, ErrorReason.MISSING_FIELD, "price"),
        ({"symbol": "NOPE/USD"}, ErrorReason.UNKNOWN_SYMBOL, "symbol"),
        ({"symbol": ""}, ErrorReason.MISSING_FIELD, "symbol"),
        ({"symbol": "X" * 65}, ErrorReason.FIELD_TOO_LONG, "symbol"),
        ({"client_order_id": ""}, ErrorReason.MISSING_FIELD, "client_order_id"),
        ({"client_order_id": "x" * 65}, ErrorReason.FIELD_TOO_LONG, "client_order_id"),
        ({"client_order_id": "has space"}, ErrorReason.INVALID_CLIENT_ORDER_ID, "client_order_id"),
        ({"order_type": OrderType.STOP_LOSS_LIMIT}, ErrorReason.MISSING_FIELD, "stop_price"),
        (
            {"order_type": OrderType.TRAILING_STOP, "price": None},
            ErrorReason.MISSING_FIELD,
            "trailing_offset",
        ),
        ({"order_type": OrderType.ICEBERG}, ErrorReason.MISSING_FIELD, "display_qty"),
        ({"order_type": OrderType.MARKET}, ErrorReason.INVALID_FIELD, "price"),
        ({"time_in_force": TimeInForce.GTD}, ErrorReason.MISSING_FIELD, "expire_time"),
        (
            {"time_in_force": TimeInForce.GTD, "expire_time": PAST},
            ErrorReason.INVALID_FIELD,
            "expire_time",
        ),
        (
            {"post_only": True, "time_in_force": TimeInForce.IOC},
            ErrorReason.INVALID_FIELD,
            "post_only",
        ),
        ({"quote_qty": D(10)}, ErrorReason.MISSING_FIELD, "qty"),
        ({"deadline": PAST}, ErrorReason.DEADLINE_PASSED, "deadline"),
    ],
)
async def test_invalid_requests_never_reach_the_venue(
    service: TradingService,
    venue: VenueDouble,
    overrides: dict[str, Any],
    reason: ErrorReason,
    field: str,
) -> None:
    with pytest.raises(InvalidArgument) as err:
        await service.submit(TRADER, limit(**overrides))
    assert err.value.reason is reason
    assert err.value.metadata["field"] == field
    assert venue.calls == []


async def test_quote_qty_market_buy_is_accepted(service: TradingService) -> None:
    order = await service.submit(
        TRADER,
        OrderRequest(
            client_order_id="q1",
            symbol="BTC/USD",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            quote_qty=D("25"),
        ),
    )
    assert order.status is OrdStatus.NEW


@pytest.mark.parametrize("text", ["", "abc", "1e999999", "NaN", "inf", "1" * 70, "1,5"])
def test_parse_decimal_refuses_garbage(text: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_decimal(text, "qty")
    assert err.value.reason is ErrorReason.INVALID_DECIMAL


def test_parse_decimal_keeps_exact_value() -> None:
    assert parse_decimal("0.10000000", "qty") == D("0.1")
    assert str(parse_decimal("0.10000000", "qty")) == "0.10000000"


async def test_risk_limits(service: TradingService, venue: VenueDouble) -> None:
    service.set_risk_limits(
        ACCOUNT,
        RiskLimits(
            max_order_qty=D(5), max_notional=D(1000), price_band_pct=D(10), max_open_orders=2
        ),
    )
    service.risk.references.update(
        "double", "BTC/USD", Ticker(venue="double", symbol="BTC/USD", last=D(100))
    )
    cases = [
        (limit("r1", qty=D(6)), ErrorReason.RISK_MAX_ORDER_QTY),
        (limit("r2", qty=D(5), price=D("201.0")), ErrorReason.RISK_MAX_NOTIONAL),
        (limit("r3", price=D("111.0")), ErrorReason.RISK_PRICE_BAND),
    ]
    for request, reason in cases:
        with pytest.raises(RiskRejected) as err:
            await service.submit(TRADER, request)
        assert err.value.reason is reason
    assert venue.calls == []
    await service.submit(TRADER, limit("ok1", price=D("109.0")))
    await service.submit(TRADER, limit("ok2"))
    with pytest.raises(RiskRejected) as err:
        await service.submit(TRADER, limit("r4"))
    assert err.value.reason is ErrorReason.RISK_MAX_OPEN_ORDERS
    assert venue.count("submit") == 2


async def test_amend_batch_and_replace_are_banded_against_the_reference(
    service: TradingService, venue: VenueDouble
) -> None:
    service.set_risk_limits(ACCOUNT, RiskLimits(price_band_pct=D(10)))
    with pytest.raises(RiskRejected) as err:  # no ticker source on this venue: no reference
        await service.submit(TRADER, limit("n1"))
    assert err.value.reason is ErrorReason.RISK_NO_REFERENCE_PRICE
    service.risk.references.update(
        "double", "BTC/USD", Ticker(venue="double", symbol="BTC/USD", last=D(100))
    )
    await service.submit(TRADER, limit("b1", price=D("105.0")))
    with pytest.raises(RiskRejected) as err:
        await service.amend(TRADER, AmendRequest(client_order_id="b1", price=D("150.0")))
    assert err.value.reason is ErrorReason.RISK_PRICE_BAND
    with pytest.raises(RiskRejected) as err:
        await service.replace(
            TRADER,
            ReplaceRequest(orig_client_order_id="b1", new_order=limit("b2", price=D("50.0"))),
        )
    assert err.value.reason is ErrorReason.RISK_PRICE_BAND
    results = await service.submit_batch(
        TRADER, [limit("b3", price=D("99.0")), limit("b4", price=D("80.0"))]
    )
    assert not isinstance(results[0], RiskRejected)
    assert isinstance(results[1], RiskRejected) and results[1].reason is ErrorReason.RISK_PRICE_BAND
    assert venue.count("amend") == venue.count("replace") == 0


async def test_kill_switch_cancels_open_orders_and_refuses_new(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit("k1"))
    await service.submit(TRADER, limit("k2"))
    assert await service.set_kill_switch(TRADER, True) == 2
    assert venue.count("cancel_all") == 1
    for cid in ("k1", "k2"):
        assert (await service.get_order(TRADER, cid)).status is OrdStatus.CANCELED
    with pytest.raises(FailedPrecondition) as err:
        await service.submit(TRADER, limit("k3"))
    assert err.value.reason is ErrorReason.KILL_SWITCH_ACTIVE
    assert venue.count("submit") == 2
    await service.set_kill_switch(TRADER, False)
    assert (await service.submit(TRADER, limit("k3"))).status is OrdStatus.NEW


_decimals = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=D("-10"), max_value=D("1000"), places=3),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    client_order_id=st.text(max_size=80),
    symbol=st.sampled_from(["BTC/USD", "ETH/USD", "BTC/USD:USD", "", "??", "X" * 70]),
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    tif=st.sampled_from(TimeInForce),
    qty=_decimals,
    quote_qty=_decimals,
    price=_decimals,
    stop_price=_decimals,
    trailing=_decimals,
    display=_decimals,
    post_only=st.booleans(),
    expire=st.one_of(st.none(), st.just(PAST), st.just(datetime.now(UTC) + timedelta(days=1))),
)
async def test_random_requests_only_raise_gateway_errors(
    service: TradingService,
    client_order_id: str,
    symbol: str,
    side: Side,
    order_type: OrderType,
    tif: TimeInForce,
    qty: Decimal | None,
    quote_qty: Decimal | None,
    price: Decimal | None,
    stop_price: Decimal | None,
    trailing: Decimal | None,
    display: Decimal | None,
    post_only: bool,
    expire: datetime | None,
) -> None:
    request = OrderRequest(
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        qty=qty,
        quote_qty=quote_qty,
        price=price,
        stop_price=stop_price,
        trailing_offset=trailing,
        display_qty=display,
        post_only=post_only,
        expire_time=expire,
    )
    try:
        order = await service.submit(TRADER, request)
    except Internal:
        raise
    except GatewayError:
        return
    assert order.status in (OrdStatus.NEW, OrdStatus.PENDING_NEW)


@pytest.mark.parametrize(
    ("status", "overrides", "error", "reason"),
    [
        (InstrumentStatus.MAINTENANCE, {}, Unavailable, ErrorReason.VENUE_MAINTENANCE),
        (InstrumentStatus.CANCEL_ONLY, {}, Unavailable, ErrorReason.VENUE_CANCEL_ONLY),
        (InstrumentStatus.POST_ONLY, {}, Unavailable, ErrorReason.VENUE_POST_ONLY),
        (InstrumentStatus.DELISTED, {}, FailedPrecondition, ErrorReason.INSTRUMENT_NOT_TRADING),
        (InstrumentStatus.POST_ONLY, {"post_only": True}, None, None),
    ],
)
async def test_instrument_status_gates_new_orders(
    service: TradingService,
    venue: VenueDouble,
    status: InstrumentStatus,
    overrides: dict[str, Any],
    error: type[GatewayError] | None,
    reason: ErrorReason | None,
) -> None:
    service.add_instruments([with_status(venue.instrument_list[0], status=status)])
    if error is None:
        assert (await service.submit(TRADER, limit(**overrides))).status is OrdStatus.NEW
        return
    with pytest.raises(error) as err:
        await service.submit(TRADER, limit(**overrides))
    assert err.value.reason is reason
    assert venue.calls == []
