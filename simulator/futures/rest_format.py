"""Kraken Futures REST v3 payloads (wire 8.3-8.5) built from the futures engine's objects.

Prices and sizes are Decimals written as JSON numbers (Kraken Futures sends `9400`, not
`"9400"`); the JSON codec is the simulator's shared one (`simulator.wire.json_codec`). REST
payloads follow wire 8.3-8.5; the WS v1 bodies are in `simulator.futures.ws_format`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from simulator.engine.futures_accounts import (
    FLEX_WALLET,
    INVERSE_XBT_WALLET,
    KrakenFuturesAccount,
    KrakenFuturesPosition,
    KrakenMarginSummary,
)
from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.futures_market_state import KrakenFuturesTicker
from simulator.engine.futures_orders import (
    KrakenFuturesFill,
    KrakenFuturesOrder,
    KrakenFuturesOrderEvent,
    KrakenFuturesOrderType,
    KrakenFuturesResult,
    KrakenOrderEventType,
)
from simulator.engine.futures_triggers import trailing_trigger_price, trigger_side

Json = dict[str, Any]
ZERO = Decimal(0)


def iso_ms(ms: int) -> str:
    """`2019-09-05T16:33:50.734Z`: Kraken Futures' serverTime / receivedTime form."""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def client_id_fields(cli_ord_id: str | None) -> Json:
    """The client order id in both spellings seen for REST rows (wire 8.4/8.5 CONFLICT).

    Kraken's docs and CCXT read `cliOrdId`, recorded payloads (openOrders, sendStatus, fills)
    carry `cli_ord_id`; sending both lets either kind of client find it.
    """
    if cli_ord_id is None:
        return {}
    return {"cliOrdId": cli_ord_id, "cli_ord_id": cli_ord_id}


def success(now_ms: int, payload: Json) -> Json:
    return {"result": "success", **payload, "serverTime": iso_ms(now_ms)}


def error(now_ms: int, code: str) -> Json:
    return {"result": "error", "serverTime": iso_ms(now_ms), "error": code}


# ------------------------------------------------------------------ orders (REST)


def order_json(order: KrakenFuturesOrder) -> Json:
    """The `order` object of orderEvents (PLACE, CANCEL, EDIT, EXECUTION)."""
    out: Json = {
        "orderId": order.order_id,
        "cliOrdId": order.cli_ord_id,
        "type": order.wire_type,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "filled": order.filled,
        "limitPrice": order.limit_price,
        "reduceOnly": order.reduce_only,
        "timestamp": iso_ms(order.received_ms),
        "lastUpdateTimestamp": iso_ms(order.updated_ms),
    }
    return out


def order_trigger_json(order: KrakenFuturesOrder) -> Json:
    """The `orderTrigger` object of trigger-order events."""
    trigger = order.stop_price
    if order.order_type is KrakenFuturesOrderType.TRAILING_STOP:
        trigger = trailing_trigger_price(order)
    out: Json = {
        "uid": order.order_id,
        "clientId": order.cli_ord_id,
        "type": order.order_type.value,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "limitPrice": order.limit_price,
        "triggerPrice": trigger,
        "triggerSide": trigger_side(order),
        "triggerSignal": order.trigger_signal.wire_name,
        "reduceOnly": order.reduce_only,
        "timestamp": iso_ms(order.received_ms),
        "lastUpdateTimestamp": iso_ms(order.updated_ms),
        "startTime": None,
    }
    if order.trailing_deviation is not None:
        out["trailingStopOptions"] = {
            "maxDeviation": order.trailing_deviation,
            "unit": order.trailing_unit.value if order.trailing_unit else None,
        }
    return out


def _order_key(order: KrakenFuturesOrder) -> tuple[str, Json]:
    if order.order_type.is_trigger and not order.triggered:
        return "orderTrigger", order_trigger_json(order)
    return "order", order_json(order)


def order_event_json(event: KrakenFuturesOrderEvent) -> Json:
    kind = event.type
    if kind is KrakenOrderEventType.EXECUTION:
        assert event.order_prior_execution is not None
        return {
            "type": "EXECUTION",
            "executionId": event.execution_id,
            "price": event.price,
            "amount": event.amount,
            "orderPriorEdit": None,
            "orderPriorExecution": order_json(event.order_prior_execution),
            "takerReducedQuantity": None,
        }
    if kind is KrakenOrderEventType.EDIT:
        assert event.new_order is not None
        return {
            "type": "EDIT",
            "old": order_json(event.order),
            "new": order_json(event.new_order),
            "reducedQuantity": None,
        }
    key, body = _order_key(event.order)
    out: Json = {"type": kind.value, key: body}
    if kind is KrakenOrderEventType.PLACE:
        out["reducedQuantity"] = event.reduced_quantity
    elif kind is KrakenOrderEventType.CANCEL:
        out["uid"] = event.order.order_id
    elif kind is KrakenOrderEventType.REJECT:
        out["uid"] = event.order.order_id
        out["reason"] = event.reason
    return out


def _status_body(result: KrakenFuturesResult, id_key: str, time_key: str) -> Json:
    body: Json = {"status": result.status}
    if result.order_id is not None:
        body[id_key] = result.order_id
    body.update(client_id_fields(result.cli_ord_id))
    body[time_key] = iso_ms(result.received_ms)
    body["orderEvents"] = [order_event_json(e) for e in result.events]
    return body


def send_status(result: KrakenFuturesResult) -> Json:
    return _status_body(result, "order_id", "receivedTime")


def edit_status(result: KrakenFuturesResult) -> Json:
    return _status_body(result, "orderId", "receivedTime")


def cancel_status(result: KrakenFuturesResult) -> Json:
    return _status_body(result, "order_id", "receivedTime")


def batch_status(result: KrakenFuturesResult, order_tag: str | None) -> Json:
    body = _status_body(result, "order_id", "dateTimeReceived")
    if order_tag is not None:
        body["order_tag"] = order_tag
    return body


_HISTORY_TYPES = {
    KrakenFuturesOrderType.LMT: "Limit",
    KrakenFuturesOrderType.POST: "Post",
    KrakenFuturesOrderType.IOC: "IoC",
    KrakenFuturesOrderType.MKT: "IoC",
    KrakenFuturesOrderType.FOK: "FoK",
    KrakenFuturesOrderType.LIQUIDATION: "Liquidation",
}


def history_order_json(order: KrakenFuturesOrder, *, public: bool = False) -> Json:
    """Order object of the history API: numbers as strings, `tradeable`, `direction`.

    The public market history leaves out the account, the client id and the fill state.
    """
    out: Json = {
        "uid": order.order_id,
        "tradeable": order.symbol,
        "direction": order.side.value.capitalize(),
        "quantity": str(order.quantity),
        "timestamp": order.received_ms,
        "limitPrice": str(order.limit_price) if order.limit_price is not None else None,
        "orderType": _HISTORY_TYPES.get(order.order_type, "Limit"),
        "reduceOnly": order.reduce_only,
        "lastUpdateTimestamp": order.updated_ms,
    }
    if not public:
        out["accountUid"] = order.account_id
        out["filled"] = str(order.filled)
        out["clientId"] = order.cli_ord_id or ""
    return out


def _open_order_type(order: KrakenFuturesOrder) -> str:
    if order.order_type is KrakenFuturesOrderType.STP:
        return "stop"
    if order.order_type.is_trigger:
        return order.order_type.value
    return order.wire_type


def open_order_json(order: KrakenFuturesOrder) -> Json:
    """One `openOrders[]` row."""
    out: Json = {
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "orderType": _open_order_type(order),
    }
    if order.limit_price is not None:
        out["limitPrice"] = order.limit_price
    if order.order_type.is_trigger:
        trigger = order.stop_price
        if order.order_type is KrakenFuturesOrderType.TRAILING_STOP:
            trigger = trailing_trigger_price(order)
        out["stopPrice"] = trigger
        out["triggerSignal"] = order.trigger_signal.value
    out.update(
        {
            "unfilledSize": order.remaining,
            "receivedTime": iso_ms(order.received_ms),
            "status": order.state.value,
            "filledSize": order.filled,
            "reduceOnly": order.reduce_only,
            "lastUpdateTime": iso_ms(order.updated_ms),
        }
    )
    out.update(client_id_fields(order.cli_ord_id))
    return out


def order_status_json(order: KrakenFuturesOrder) -> Json:
    """One `orders/status` row: `{order: {...}, status, updateReason, error}`."""
    status = {
        "untouched": "ENTERED_BOOK",
        "partiallyFilled": "PARTIALLY_FILLED",
        "filled": "FULLY_EXECUTED",
        "cancelled": "CANCELLED",
    }[order.state.value]
    if order.waiting_for_trigger:
        status = "TRIGGER_PLACED"
    body = order_json(order)
    body["type"] = "TRIGGER_ORDER" if order.order_type.is_trigger else "ORDER"
    body["orderType"] = order.wire_type
    return {"order": body, "status": status, "updateReason": None, "error": None}


# ------------------------------------------------------------------ account (REST)


def fill_json(fill: KrakenFuturesFill) -> Json:
    out: Json = {
        "fill_id": fill.fill_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "order_id": fill.order_id,
        "size": fill.size,
        "price": fill.price,
        "fillTime": iso_ms(fill.time_ms),
        "fillType": "maker" if fill.maker else "taker",
        "fee_paid": fill.fee,
        "fee_currency": fill.fee_currency,
    }
    out.update(client_id_fields(fill.cli_ord_id))
    return out


def position_json(position: KrakenFuturesPosition, inst: KrakenFuturesInstrument) -> Json:
    return {
        "side": position.side,
        "symbol": position.symbol,
        "price": position.entry_price,
        "fillTime": iso_ms(position.fill_time_ms),
        "size": abs(position.size),
        "unrealizedFunding": position.unrealized_funding,
        "pnlCurrency": inst.settlement_currency,
    }


def _margin_figures(summary: KrakenMarginSummary) -> Json:
    return {
        "im": summary.initial_margin,
        "mm": summary.maintenance_margin,
        # Liquidation / termination thresholds: fractions of maintenance (not published).
        "lt": summary.maintenance_margin * Decimal("0.8"),
        "tt": summary.maintenance_margin * Decimal("0.5"),
    }


def inverse_wallet_json(summary: KrakenMarginSummary, currency: str) -> Json:
    return {
        "auxiliary": {
            "usd": ZERO,
            "pv": summary.portfolio_value,
            "pnl": summary.pnl,
            "af": summary.available_margin,
            "funding": ZERO,
        },
        "marginRequirements": _margin_figures(summary),
        "triggerEstimates": _margin_figures(summary),
        "balances": {currency.lower(): summary.balance_value},
        "currency": currency.lower(),
        "type": "marginAccount",
    }


def flex_wallet_json(
    account: KrakenFuturesAccount, summary: KrakenMarginSummary, usd_price: dict[str, Decimal]
) -> Json:
    currencies: Json = {}
    for code, qty in sorted(account.flex.items()):
        value = qty * usd_price.get(code, ZERO)
        currencies[code] = {
            "quantity": qty,
            "value": value,
            "collateral": value,
            "available": max(ZERO, min(qty, summary.available_margin / usd_price[code]))
            if usd_price.get(code)
            else ZERO,
        }
    return {
        "type": "multiCollateralMarginAccount",
        "currencies": currencies,
        "initialMargin": summary.initial_margin,
        "initialMarginWithOrders": summary.initial_margin_with_orders,
        "maintenanceMargin": summary.maintenance_margin,
        "balanceValue": summary.balance_value,
        "portfolioValue": summary.portfolio_value,
        "collateralValue": summary.balance_value,
        "pnl": summary.pnl,
        "unrealizedFunding": ZERO,
        "totalUnrealized": summary.pnl,
        "totalUnrealizedAsMargin": summary.pnl,
        "availableMargin": summary.available_margin,
        "marginEquity": summary.portfolio_value,
    }


def cash_wallet_json(account: KrakenFuturesAccount) -> Json:
    return {"type": "cashAccount", "balances": dict(sorted(account.cash.items()))}


def accounts_json(
    account: KrakenFuturesAccount,
    flex: KrakenMarginSummary,
    inverse: KrakenMarginSummary,
    usd_price: dict[str, Decimal],
) -> Json:
    return {
        "cash": cash_wallet_json(account),
        INVERSE_XBT_WALLET: inverse_wallet_json(inverse, "xbt"),
        FLEX_WALLET: flex_wallet_json(account, flex, usd_price),
    }


# ------------------------------------------------------------------ market data (REST)


def _margin_levels(inst: KrakenFuturesInstrument) -> list[Json]:
    key = "contracts" if inst.inverse else "numNonContractUnits"
    return [
        {key: lvl.threshold, "initialMargin": lvl.initial, "maintenanceMargin": lvl.maintenance}
        for lvl in inst.margin_levels
    ]


def instrument_json(inst: KrakenFuturesInstrument) -> Json:
    base = "BTC" if inst.base == "XBT" else inst.base
    out: Json = {"symbol": inst.symbol, "type": inst.kind.value}
    if inst.underlying is not None:
        out["underlying"] = inst.underlying
    out.update(
        {
            "tickSize": inst.tick_size,
            "contractSize": inst.contract_size,
            "tradeable": True,
            "impactMidSize": inst.impact_mid_size,
            "maxPositionSize": inst.max_position_size,
            "openingDate": inst.opening_date,
            "marginLevels": _margin_levels(inst),
            "fundingRateCoefficient": 24,
            "maxRelativeFundingRate": Decimal("0.0025"),
            "isin": inst.isin,
            "contractValueTradePrecision": inst.contract_value_precision,
            "postOnly": False,
            "feeScheduleUid": inst.fee_schedule_uid,
            "mtf": True,
            "base": base,
            "quote": inst.quote,
            "pair": f"{base}:{inst.quote}",
        }
    )
    return out


def ticker_json(t: KrakenFuturesTicker, inst: KrakenFuturesInstrument) -> Json:
    base = "BTC" if inst.base == "XBT" else inst.base
    last = t.last if t.last is not None else t.index
    change = (last - t.open24h) / t.open24h * 100 if t.open24h else ZERO
    return {
        "symbol": t.symbol,
        "last": last,
        "lastTime": iso_ms(t.last_time_ms) if t.last_time_ms is not None else None,
        "tag": "perpetual",
        "pair": f"{base}:{inst.quote}",
        "markPrice": t.mark,
        "bid": t.bid,
        "bidSize": t.bid_size,
        "ask": t.ask,
        "askSize": t.ask_size,
        "vol24h": t.vol24h,
        "volumeQuote": t.volume_quote,
        "openInterest": t.open_interest,
        "open24h": t.open24h,
        "high24h": t.high24h,
        "low24h": t.low24h,
        "lastSize": t.last_size,
        "fundingRate": ZERO,
        "fundingRatePrediction": ZERO,
        "suspended": False,
        "indexPrice": t.index,
        "postOnly": False,
        "change24h": change.quantize(Decimal("0.01")),
    }
