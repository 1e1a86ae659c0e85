"""REST orders, fills, request acks and the REST envelope -> core objects and errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    OutcomeUnknown,
    ResourceExhausted,
    Unavailable,
)
from gateway.core.events import (
    OrderFilled,
    VenueOrderState,
)
from gateway.core.model import (
    STOP_LIMIT_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    Fee,
    Liquidity,
    OrderType,
    OrdStatus,
)
from gateway.venues.kraken.common.symbols import (
    KrakenSymbolMap,
)
from gateway.venues.kraken.common.wire_scalars import (
    KrakenParseError,
    dec,
    nonzero_dec,
    opt_dec,
    parse_unix_time,
)
from gateway.venues.kraken.spot.errors import kraken_error, kraken_errors
from gateway.venues.kraken.spot.schemas import (
    KrakenSpotAddOrderResult,
    KrakenSpotEditOrderResult,
    KrakenSpotOrderInfo,
    KrakenSpotTradeInfo,
)
from gateway.venues.kraken.spot.wire_values import ORDER_TYPES, REST_ORDER_STATUS, lookup

# ---- orders (REST) --------------------------------------------------------------------------


def _absolute(value: str | None, field: str) -> Decimal | None:
    """A descr price unless it is relative (`+100`, `-5`, `#2`, `1.5%`: trailing offsets)."""
    if value is None or value[:1] in ("+", "-", "#") or value.endswith("%"):
        return None
    return nonzero_dec(value, field)


def _prices(
    order_type: OrderType, info: KrakenSpotOrderInfo
) -> tuple[Decimal | None, Decimal | None]:
    """(limit price, stop/trigger price) of a REST order. For trailing types descr carries the
    offsets; the current trigger and limit come from `stopprice` / `limitprice` (None if 0)."""
    descr = info.get("descr", {})
    price = _absolute(descr.get("price"), "descr.price")
    price2 = _absolute(descr.get("price2"), "descr.price2")
    stopprice = nonzero_dec(info.get("stopprice"), "stopprice")
    limitprice = nonzero_dec(info.get("limitprice"), "limitprice")
    if order_type in TRAILING_TYPES:
        limit = limitprice if order_type is OrderType.TRAILING_STOP_LIMIT else None
        return limit, stopprice
    if order_type in TRIGGERED_TYPES:
        stop = stopprice or price
        limit = (limitprice or price2) if order_type in STOP_LIMIT_TYPES else None
        return limit, stop
    if order_type in (OrderType.LIMIT, OrderType.ICEBERG):
        return price, None
    return None, None


def parse_order_info(
    txid: str, info: KrakenSpotOrderInfo, symbols: KrakenSymbolMap
) -> VenueOrderState:
    """One order of OpenOrders / ClosedOrders / QueryOrders."""
    status = lookup(REST_ORDER_STATUS, info.get("status"), "order status")
    vol = dec(info.get("vol", "0"), "vol")
    vol_exec = dec(info.get("vol_exec", "0"), "vol_exec")
    if status is OrdStatus.NEW and vol_exec > 0:
        status = OrdStatus.PARTIALLY_FILLED
    descr = info.get("descr", {})
    order_type = lookup(ORDER_TYPES, descr.get("ordertype"), "order type")
    limit, stop = _prices(order_type, info)
    pair = descr.get("pair", "")
    return VenueOrderState(
        client_order_id=info.get("cl_ord_id") or None,
        venue_order_id=txid,
        status=status,
        qty=vol,
        cum_qty=vol_exec,
        avg_px=nonzero_dec(info.get("price"), "price") if vol_exec > 0 else None,
        price=limit,
        stop_price=stop,
        symbol=symbols.unified(pair) if pair else "",
        text=info.get("reason") or "",
        venue_time=parse_unix_time(info.get("closetm")) or parse_unix_time(info.get("opentm")),
    )


def parse_orders(
    orders: Mapping[str, KrakenSpotOrderInfo], symbols: KrakenSymbolMap
) -> list[VenueOrderState]:
    """`open` of OpenOrders, `closed` of ClosedOrders, or the QueryOrders result."""
    return [parse_order_info(txid, info, symbols) for txid, info in orders.items()]


def parse_add_order_result(result: KrakenSpotAddOrderResult) -> str | None:
    """The txid of an AddOrder; None for validate-only."""
    txids = result.get("txid")
    if txids is None:
        return None
    if len(txids) != 1:
        raise KrakenParseError(f"AddOrder returned {len(txids)} txids")
    return txids[0]


# ---- fills ----------------------------------------------------------------------------------


def parse_trade_info(
    txid: str, trade: KrakenSpotTradeInfo, symbols: KrakenSymbolMap
) -> OrderFilled:
    """One TradesHistory / QueryTrades entry. The trade txid is the de-dup key (it equals the
    `exec_id` of the executions channel). Kraken charges REST fees in the quote currency."""
    pair = trade.get("pair", "")
    quote = symbols.unified(pair).partition("/")[2] if pair else ""
    fee = opt_dec(trade.get("fee"), "fee")
    maker = trade.get("maker")
    return OrderFilled(
        venue_order_id=trade.get("ordertxid"),
        venue_time=parse_unix_time(trade.get("time")),
        trade_id=txid,
        qty=dec(trade.get("vol"), "vol"),
        price=dec(trade.get("price"), "price"),
        fee=Fee(asset=quote, amount=fee) if fee is not None and quote else None,
        liquidity=None if maker is None else (Liquidity.MAKER if maker else Liquidity.TAKER),
    )


def parse_trades_history(
    trades: Mapping[str, KrakenSpotTradeInfo], symbols: KrakenSymbolMap
) -> list[OrderFilled]:
    """Fills oldest first (Kraken lists newest first)."""
    fills = [parse_trade_info(txid, t, symbols) for txid, t in trades.items()]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(fills, key=lambda f: (f.venue_time or epoch, f.trade_id))


# ---- request acks ---------------------------------------------------------------------------


def ws_response_error(msg: Mapping[str, Any], *, after_send: bool = False) -> GatewayError | None:
    """The error of a WS v2 method ack (`success: false`), else None."""
    if msg.get("success", True) and "error" not in msg:
        return None
    return kraken_error(str(msg.get("error") or "EGeneral:Unknown error"), after_send=after_send)


def parse_batch_add_result(result: Any) -> list[str | GatewayError]:
    """Per-order outcome of a batch, in request order: the venue order id or the error.

    Accepts WS v2 `batch_add` (docs: a plain array of `{order_id, ...}`; also the
    `{orders: [{order_id?, success, error?}]}` variant) and REST AddOrderBatch
    (`{orders: [{txid, descr} | {error}]}`).
    """
    items = result.get("orders", []) if isinstance(result, Mapping) else result
    outcomes: list[str | GatewayError] = []
    for item in items:
        error = item.get("error")
        order_id = item.get("order_id") or item.get("txid")
        if error or item.get("success") is False or not order_id:
            outcomes.append(kraken_error(str(error or "EOrder:Invalid order")))
        else:
            outcomes.append(str(order_id))
    return outcomes


def parse_edit_order_result(result: KrakenSpotEditOrderResult) -> tuple[str, str]:
    """(new txid, original txid) of a REST EditOrder."""
    if result.get("status", "ok") != "ok" or "txid" not in result:
        raise kraken_error(result.get("error_message") or "EOrder:Invalid order")
    return result["txid"], result.get("originaltxid", "")


# ---- REST envelope --------------------------------------------------------------------------


def _no_answer(text: str, reason: ErrorReason, after_send: bool) -> GatewayError:
    """No definitive answer: after an order-entry send the outcome is unknown, else the read
    simply failed and may be retried."""
    if after_send:
        return OutcomeUnknown(text, reason, metadata={"retryable": "false"})
    return Unavailable(text, reason, metadata={"retryable": "true"})


def parse_rest_response(status: int, body: bytes, *, after_send: bool = False) -> Any:
    """The `result` of a Spot REST response, or raise the GatewayError it means.

    Kraken answers 200 even for errors (`{"error": ["E..."]}`); other statuses mean the request
    did not get a Kraken answer (Cloudflare, 5xx). JSON numbers decode as Decimal.
    `after_send=True` for order entry (AddOrder, CancelOrder...): no answer -> OutcomeUnknown.
    """
    if status == 429:
        raise ResourceExhausted(
            "Kraken edge rate limit (HTTP 429)", ErrorReason.VENUE_RATE_LIMITED, retry_after=1.0
        )
    if status != 200:
        raise _no_answer(f"Kraken HTTP {status}", ErrorReason.VENUE_UNAVAILABLE, after_send)
    try:
        msg = json.loads(body, parse_float=Decimal)
    except ValueError:
        msg = None
    if not isinstance(msg, dict) or not isinstance(msg.get("error"), list):
        raise _no_answer(
            "unparseable Kraken response", ErrorReason.VENUE_RESPONSE_UNPARSEABLE, after_send
        )
    errors = [str(e) for e in msg["error"] if not str(e).startswith("W")]
    if errors:
        raise kraken_errors(errors, after_send=after_send)
    return msg.get("result")
