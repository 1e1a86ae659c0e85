"""Amending a trailing order's offsets: the new offsets become the order's current terms (the
request keeps what was placed); offsets on orders that have none are refused before the venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.api import convert
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import (
    AmendRequest,
    OffsetUnit,
    OrderRequest,
    OrderType,
    OrdStatus,
    Side,
)
from gateway.core.service import TradingService
from krakengw.v1 import common_pb2
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import TRADER, limit

D = Decimal


def trailing_stop_limit(client_order_id: str = "t1") -> OrderRequest:
    return limit(
        client_order_id,
        side=Side.SELL,
        order_type=OrderType.TRAILING_STOP_LIMIT,
        price=None,
        trailing_offset=D("2"),
        trailing_offset_unit=OffsetUnit.PERCENT,
        limit_offset=D("5"),
    )


async def test_amended_offsets_are_the_orders_current_terms(
    service: TradingService, venue: VenueDouble
) -> None:
    placed = await service.submit(TRADER, trailing_stop_limit())
    assert placed.status is OrdStatus.NEW
    order = await service.amend(
        TRADER, AmendRequest(client_order_id="t1", trailing_offset=D("3.5"), limit_offset=D("7"))
    )
    assert order.status is OrdStatus.NEW and venue.count("amend") == 1
    assert (order.trailing_offset, order.limit_offset) == (D("3.5"), D("7"))
    assert (order.request.trailing_offset, order.request.limit_offset) == (D("2"), D("5"))
    again = await service.amend(TRADER, AmendRequest(client_order_id="t1", trailing_offset=D("4")))
    assert (again.trailing_offset, again.limit_offset) == (D("4"), D("7"))
    spec = convert.order_spec(again.request, again)
    assert (spec.trailing_offset, spec.limit_offset) == ("4", "7")
    assert spec.trailing_offset_unit == common_pb2.OFFSET_UNIT_PERCENT
    stored = await service.get_order(TRADER, "t1")
    assert (stored.trailing_offset, stored.limit_offset) == (D("4"), D("7"))


async def test_unamended_order_shows_the_requested_offsets(service: TradingService) -> None:
    placed = await service.submit(TRADER, trailing_stop_limit())
    spec = convert.order_spec(placed.request, placed)
    assert (spec.trailing_offset, spec.limit_offset) == ("2", "5")


@pytest.mark.parametrize(
    ("order_type", "amend", "field"),
    [
        (OrderType.LIMIT, {"trailing_offset": D("1")}, "trailing_offset"),
        (OrderType.LIMIT, {"limit_offset": D("1")}, "limit_offset"),
        (OrderType.TRAILING_STOP, {"limit_offset": D("1")}, "limit_offset"),
    ],
)
async def test_offsets_on_orders_without_them_never_reach_the_venue(
    service: TradingService,
    venue: VenueDouble,
    order_type: OrderType,
    amend: dict[str, Any],
    field: str,
) -> None:
    if order_type is OrderType.LIMIT:
        request = limit("x1")
    else:
        request = limit("x1", order_type=order_type, price=None, trailing_offset=D("10"))
    await service.submit(TRADER, request)
    with pytest.raises(InvalidArgument) as err:
        await service.amend(TRADER, AmendRequest(client_order_id="x1", **amend))
    assert err.value.reason is ErrorReason.INVALID_FIELD
    assert err.value.metadata["field"] == field
    assert venue.count("amend") == 0
    assert (await service.get_order(TRADER, "x1")).status is OrdStatus.NEW
