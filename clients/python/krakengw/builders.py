"""Builders of the contract's request messages from friendly Python arguments.

Shared by `Client` and `AsyncClient`, so both accept exactly the same arguments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypedDict, Unpack

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from krakengw.decimals import DecimalLike, to_wire
from krakengw.enums import (
    FeeCurrency,
    OffsetUnit,
    OrderType,
    ProductType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerReference,
    to_proto,
)
from krakengw.v1 import (
    accounts_pb2,
    common_pb2,
    executions_pb2,
    instruments_pb2,
    market_data_pb2,
    orders_pb2,
    sessions_pb2,
)

__all__ = ["DEFAULT_VENUE", "AmendOptions", "OrderOptions", "new_client_order_id", "order_spec"]

# Empty: the gateway picks the venue that lists the symbol (set it when several do).
DEFAULT_VENUE = ""


class OrderOptions(TypedDict, total=False):
    """Optional terms of a new order (see OrderSpec in orders.proto for their meaning)."""

    order_type: OrderType | str
    price: DecimalLike
    stop_price: DecimalLike
    client_order_id: str
    venue: str
    time_in_force: TimeInForce | str
    cash_order_qty: DecimalLike
    trigger_reference: TriggerReference | str
    trailing_offset: DecimalLike
    trailing_offset_unit: OffsetUnit | str
    limit_offset: DecimalLike
    limit_offset_unit: OffsetUnit | str
    display_qty: DecimalLike
    post_only: bool
    reduce_only: bool
    leverage: DecimalLike
    self_trade_prevention: SelfTradePrevention | str
    fee_currency: FeeCurrency | str
    start_time: datetime
    expire_time: datetime
    deadline: datetime
    validate_only: bool
    text: str


class AmendOptions(TypedDict, total=False):
    """Fields of an in-place amend; those left out are unchanged."""

    qty: DecimalLike
    price: DecimalLike
    stop_price: DecimalLike
    display_qty: DecimalLike
    trailing_offset: DecimalLike
    limit_offset: DecimalLike
    post_only: bool
    deadline: datetime


def new_client_order_id() -> str:
    """A fresh client order id (a UUID, which every Kraken API accepts as is)."""
    return str(uuid.uuid4())


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def duration(delta: timedelta | None) -> Duration | None:
    if delta is None:
        return None
    out = Duration()
    out.FromTimedelta(delta)
    return out


def instrument(symbol: str, venue: str = DEFAULT_VENUE) -> common_pb2.InstrumentId:
    return common_pb2.InstrumentId(venue=venue, symbol=symbol)


def optional_instrument(symbol: str | None, venue: str) -> common_pb2.InstrumentId | None:
    """A filter: the symbol and/or the venue given; None (any instrument) when neither is."""
    if symbol is None and not venue:
        return None
    return instrument(symbol or "", venue)


def order_spec(
    symbol: str,
    side: Side | str,
    qty: DecimalLike | None = None,
    **options: Unpack[OrderOptions],
) -> orders_pb2.OrderSpec:
    """A new order's terms. Without `order_type`, an order with a price is a limit order and
    one without is a market order. Without `client_order_id`, a UUID is generated."""
    o = options
    order_type = o.get("order_type") or (
        OrderType.LIMIT if o.get("price") is not None else OrderType.MARKET
    )
    return orders_pb2.OrderSpec(
        client_order_id=o.get("client_order_id") or new_client_order_id(),
        instrument=instrument(symbol, o.get("venue", DEFAULT_VENUE)),
        side=to_proto(Side, side),
        order_type=to_proto(OrderType, order_type),
        time_in_force=to_proto(TimeInForce, o.get("time_in_force")),
        order_qty=to_wire(qty),
        cash_order_qty=to_wire(o.get("cash_order_qty")),
        price=to_wire(o.get("price")),
        stop_price=to_wire(o.get("stop_price")),
        trigger_reference=to_proto(TriggerReference, o.get("trigger_reference")),
        trailing_offset=to_wire(o.get("trailing_offset")),
        trailing_offset_unit=to_proto(OffsetUnit, o.get("trailing_offset_unit")),
        limit_offset=to_wire(o.get("limit_offset")),
        limit_offset_unit=to_proto(OffsetUnit, o.get("limit_offset_unit")),
        display_qty=to_wire(o.get("display_qty")),
        post_only=o.get("post_only", False),
        reduce_only=o.get("reduce_only", False),
        leverage=to_wire(o.get("leverage")),
        self_trade_prevention=to_proto(SelfTradePrevention, o.get("self_trade_prevention")),
        fee_currency=to_proto(FeeCurrency, o.get("fee_currency")),
        start_time=timestamp(o.get("start_time")),
        expire_time=timestamp(o.get("expire_time")),
        deadline=timestamp(o.get("deadline")),
        validate_only=o.get("validate_only", False),
        text=o.get("text", ""),
    )


def amend_order(
    client_order_id: str | None, venue_order_id: str | None, options: AmendOptions
) -> orders_pb2.AmendOrderRequest:
    request = orders_pb2.AmendOrderRequest(
        client_order_id=client_order_id or "",
        venue_order_id=venue_order_id or "",
        order_qty=to_wire(options.get("qty")),
        price=to_wire(options.get("price")),
        stop_price=to_wire(options.get("stop_price")),
        display_qty=to_wire(options.get("display_qty")),
        trailing_offset=to_wire(options.get("trailing_offset")),
        limit_offset=to_wire(options.get("limit_offset")),
        deadline=timestamp(options.get("deadline")),
    )
    if "post_only" in options:
        request.post_only = options["post_only"]
    return request


def cancel_order(
    client_order_id: str | None, venue_order_id: str | None
) -> orders_pb2.CancelOrderRequest:
    return orders_pb2.CancelOrderRequest(
        client_order_id=client_order_id or "", venue_order_id=venue_order_id or ""
    )


def cancel_order_batch(client_order_ids: Sequence[str]) -> orders_pb2.CancelOrderBatchRequest:
    return orders_pb2.CancelOrderBatchRequest(
        orders=[cancel_order(cid, None) for cid in client_order_ids]
    )


def get_order(
    client_order_id: str | None, venue_order_id: str | None
) -> orders_pb2.GetOrderRequest:
    return orders_pb2.GetOrderRequest(
        client_order_id=client_order_id or "", venue_order_id=venue_order_id or ""
    )


def list_orders(
    symbol: str | None, venue: str, start: datetime | None, end: datetime | None
) -> orders_pb2.ListOrdersRequest:
    return orders_pb2.ListOrdersRequest(
        instrument=optional_instrument(symbol, venue),
        start_time=timestamp(start),
        end_time=timestamp(end),
    )


def list_fills(
    symbol: str | None,
    venue: str,
    client_order_id: str | None,
    start: datetime | None,
    end: datetime | None,
) -> executions_pb2.ListFillsRequest:
    return executions_pb2.ListFillsRequest(
        instrument=optional_instrument(symbol, venue),
        client_order_id=client_order_id or "",
        start_time=timestamp(start),
        end_time=timestamp(end),
    )


def list_instruments(
    venue: str | None, product_type: ProductType | str | None
) -> instruments_pb2.ListInstrumentsRequest:
    return instruments_pb2.ListInstrumentsRequest(
        venue=venue or "", product_type=to_proto(ProductType, product_type)
    )


def transfer_funds(
    asset: str,
    amount: DecimalLike,
    from_account: str,
    to_account: str,
    client_transfer_id: str | None,
) -> accounts_pb2.TransferFundsRequest:
    return accounts_pb2.TransferFundsRequest(
        client_transfer_id=client_transfer_id or str(uuid.uuid4()),
        asset=asset,
        amount=to_wire(amount),
        from_account=from_account,
        to_account=to_account,
    )


def logon(
    heartbeat_interval: timedelta | None,
    cancel_on_disconnect: bool,
    client_name: str,
    takeover: bool = False,
) -> sessions_pb2.LogonRequest:
    return sessions_pb2.LogonRequest(
        heartbeat_interval=duration(heartbeat_interval),
        cancel_on_disconnect=cancel_on_disconnect,
        client_name=client_name,
        takeover=takeover,
    )


def ticker(symbol: str, venue: str) -> market_data_pb2.GetTickerRequest:
    return market_data_pb2.GetTickerRequest(instrument=instrument(symbol, venue))
