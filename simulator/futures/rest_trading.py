"""Kraken Futures trading endpoints (wire 8.4): sendorder, editorder, cancelorder,
cancelallorders, cancelallordersafter, batchorder (orders/status is in rest_account).

Handlers take the parsed request and return the payload that goes beside `result: success`;
malformed requests raise `KrakenFuturesRequestError` (the envelope's `error` string).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulator.engine.futures_engine import KrakenFuturesEngine, KrakenFuturesRequestError
from simulator.engine.futures_orders import (
    KrakenDeviationUnit,
    KrakenFuturesOrderEvent,
    KrakenFuturesOrderRequest,
    KrakenFuturesOrderType,
    KrakenFuturesResult,
    KrakenOrderEventType,
    KrakenTriggerSignal,
)
from simulator.engine.model import Side
from simulator.futures.params import parse_bool, parse_decimal
from simulator.futures.rest_format import (
    Json,
    batch_status,
    cancel_status,
    edit_status,
    iso_ms,
    order_event_json,
    send_status,
)

MISSING = "requiredArgumentMissing"
MAX_CANCEL_AFTER_S = 86_400  # a day, Kraken's documented cap for the spot switch (assumed here)
INVALID = "invalidArgument"
_SIGNALS = {"mark": "mark", "index": "index", "spot": "index", "last": "last"}


@dataclass(frozen=True)
class FuturesCall:
    """One authenticated request: merged query+body params and the caller's account."""

    method: str
    endpoint: str
    params: Mapping[str, str]
    multi: Mapping[str, list[str]]
    account_id: str
    batch: list[dict[str, Any]] | None = None
    system_status: str = "online"  # the fault plan's status: online | cancel_only | post_only


class _InvalidStatus(Exception):
    """A request Kraken answers inside sendStatus/editStatus (e.g. invalidOrderType)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return str(value)


def _decimal(params: Mapping[str, Any], name: str, status: str) -> Decimal | None:
    raw = _text(params, name)
    if raw is None:
        return None
    value = parse_decimal(raw)
    if value is None:
        raise _InvalidStatus(status)
    return value


def _bool(params: Mapping[str, Any], name: str) -> bool:
    value = parse_bool(params.get(name))
    if value is None:
        raise KrakenFuturesRequestError(INVALID)
    return value


def _unit(params: Mapping[str, Any], name: str) -> KrakenDeviationUnit | None:
    raw = _text(params, name)
    if raw is None:
        return None
    try:
        return KrakenDeviationUnit(raw.upper())
    except ValueError:
        raise KrakenFuturesRequestError(INVALID) from None


def _process_before_passed(engine: KrakenFuturesEngine, params: Mapping[str, Any]) -> bool:
    raw = _text(params, "processBefore")
    if raw is None:
        return False
    try:
        deadline = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise KrakenFuturesRequestError(INVALID) from None
    return engine.now_ms() > int(deadline.timestamp() * 1000)


def parse_send(params: Mapping[str, Any]) -> KrakenFuturesOrderRequest:
    """A sendorder (or batch `send`) element -> engine request; raises on bad input."""
    symbol = _text(params, "symbol")
    kind_raw = _text(params, "orderType")
    side_raw = _text(params, "side")
    if symbol is None or kind_raw is None or side_raw is None or _text(params, "size") is None:
        raise KrakenFuturesRequestError(MISSING)
    try:
        kind = KrakenFuturesOrderType(kind_raw.lower())
    except ValueError:
        raise _InvalidStatus("invalidOrderType") from None
    if not kind.client_may_send:
        raise _InvalidStatus("invalidOrderType")
    try:
        side = Side(side_raw.lower())
    except ValueError:
        raise _InvalidStatus("invalidSide") from None
    size = _decimal(params, "size", "invalidSize")
    limit = _decimal(params, "limitPrice", "invalidPrice")
    stop = _decimal(params, "stopPrice", "invalidPrice")
    deviation = _decimal(params, "trailingStopMaxDeviation", "invalidPrice")
    unit = _unit(params, "trailingStopDeviationUnit")
    needs_limit = kind in (
        KrakenFuturesOrderType.LMT,
        KrakenFuturesOrderType.POST,
        KrakenFuturesOrderType.IOC,
        KrakenFuturesOrderType.FOK,
    )
    if (needs_limit and limit is None) or (
        kind in (KrakenFuturesOrderType.STP, KrakenFuturesOrderType.TAKE_PROFIT) and stop is None
    ):
        raise KrakenFuturesRequestError(MISSING)
    if kind is KrakenFuturesOrderType.TRAILING_STOP:
        if deviation is None or unit is None:
            raise KrakenFuturesRequestError(MISSING)
        if unit is KrakenDeviationUnit.PERCENT and not Decimal("0.1") <= deviation <= 50:
            raise _InvalidStatus("invalidPrice")
    if kind is KrakenFuturesOrderType.MKT:
        limit = None
    signal_raw = (_text(params, "triggerSignal") or "last").lower()
    if signal_raw not in _SIGNALS:
        raise KrakenFuturesRequestError(INVALID)
    assert size is not None
    return KrakenFuturesOrderRequest(
        symbol=symbol,
        side=side,
        order_type=kind,
        size=size,
        limit_price=limit,
        stop_price=stop,
        cli_ord_id=_text(params, "cliOrdId"),
        trigger_signal=KrakenTriggerSignal(_SIGNALS[signal_raw]),
        reduce_only=_bool(params, "reduceOnly"),
        trailing_deviation=deviation,
        trailing_unit=unit,
        limit_offset=_decimal(params, "limitPriceOffsetValue", "invalidPrice"),
        limit_offset_unit=_unit(params, "limitPriceOffsetUnit"),
    )


def _status_refusal(call: FuturesCall, request: KrakenFuturesOrderRequest | None) -> str | None:
    """New orders and edits under the simulated system status (cancels always pass)."""
    if call.system_status == "cancel_only":
        return "marketSuspended"
    if (
        call.system_status == "post_only"
        and request is not None
        and request.order_type is not KrakenFuturesOrderType.POST
    ):
        return "marketIsPostOnly"
    return None


def _send(
    engine: KrakenFuturesEngine, call: FuturesCall, params: Mapping[str, Any]
) -> KrakenFuturesResult:
    now = engine.now_ms()
    cli = _text(params, "cliOrdId")
    try:
        request = parse_send(params)
    except _InvalidStatus as bad:
        return KrakenFuturesResult(bad.status, None, cli, now)
    engine.instrument(request.symbol)  # unknown contract: envelope error, not a status
    refusal = _status_refusal(call, request)
    if refusal is None and _process_before_passed(engine, params):
        refusal = "wouldProcessAfterSpecifiedTime"
    if refusal is not None:
        return KrakenFuturesResult(refusal, None, cli, now)
    return engine.send_order(call.account_id, request)


def _edit(
    engine: KrakenFuturesEngine, call: FuturesCall, params: Mapping[str, Any]
) -> KrakenFuturesResult:
    order_id = _text(params, "orderId") or _text(params, "order_id")
    cli = _text(params, "cliOrdId")
    if order_id is None and cli is None:
        raise KrakenFuturesRequestError(MISSING)
    now = engine.now_ms()
    try:
        size = _decimal(params, "size", "invalidSize")
        limit = _decimal(params, "limitPrice", "invalidPrice")
        stop = _decimal(params, "stopPrice", "invalidPrice")
        deviation = _decimal(params, "trailingStopMaxDeviation", "invalidPrice")
    except _InvalidStatus as bad:
        return KrakenFuturesResult(bad.status, order_id, cli, now)
    refusal = _status_refusal(call, None)
    if refusal is None and _process_before_passed(engine, params):
        refusal = "wouldProcessAfterSpecifiedTime"
    if refusal is not None:
        return KrakenFuturesResult(refusal, order_id, cli, now)
    mode = (_text(params, "qtyMode") or "RELATIVE").upper()
    if mode not in ("RELATIVE", "ABSOLUTE"):
        raise KrakenFuturesRequestError(INVALID)
    return engine.edit_order(
        call.account_id,
        order_id=order_id,
        cli_ord_id=None if order_id else cli,
        size=size,
        limit_price=limit,
        stop_price=stop,
        trailing_deviation=deviation,
        absolute_size=mode == "ABSOLUTE",
    )


def _cancel(
    engine: KrakenFuturesEngine, call: FuturesCall, params: Mapping[str, Any]
) -> KrakenFuturesResult:
    order_id = _text(params, "order_id") or _text(params, "orderId")
    cli = _text(params, "cliOrdId")
    if order_id is None and cli is None:
        raise KrakenFuturesRequestError(MISSING)
    if _process_before_passed(engine, params):
        return KrakenFuturesResult("wouldProcessAfterSpecifiedTime", order_id, cli, engine.now_ms())
    return engine.cancel_order(
        call.account_id, order_id=order_id, cli_ord_id=None if order_id else cli
    )


def sendorder(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    return {"sendStatus": send_status(_send(engine, call, call.params))}


def editorder(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    return {"editStatus": edit_status(_edit(engine, call, call.params))}


def cancelorder(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    return {"cancelStatus": cancel_status(_cancel(engine, call, call.params))}


def cancelallorders(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    symbol = _text(call.params, "symbol")
    now = engine.now_ms()
    cancelled = engine.cancel_all(call.account_id, symbol)
    events = [
        KrakenFuturesOrderEvent(KrakenOrderEventType.CANCEL, o, time_ms=now) for o in cancelled
    ]
    rows: list[Json] = []
    for order in cancelled:
        row: Json = {"order_id": order.order_id}
        if order.cli_ord_id is not None:
            row["cliOrdId"] = order.cli_ord_id
        rows.append(row)
    return {
        "cancelStatus": {
            "receivedTime": iso_ms(now),
            "cancelOnly": engine.instrument(symbol).symbol if symbol else "all",
            "status": "cancelled" if cancelled else "noOrdersToCancel",
            "cancelledOrders": rows,
            "orderEvents": [order_event_json(e) for e in events],
        }
    }


def cancelallordersafter(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    raw = _text(call.params, "timeout")
    if raw is None:
        raise KrakenFuturesRequestError(MISSING)
    try:
        timeout = int(raw)
    except ValueError:
        raise KrakenFuturesRequestError(INVALID) from None
    if not 0 <= timeout <= MAX_CANCEL_AFTER_S:
        raise KrakenFuturesRequestError(INVALID)
    trigger = engine.cancel_all_after(call.account_id, timeout)
    return {
        "status": {
            "currentTime": iso_ms(engine.now_ms()),
            "triggerTime": iso_ms(trigger) if trigger is not None else "0",
        }
    }


def parse_batch(raw: str) -> list[dict[str, Any]]:
    """The `json` form field of batchorder: `{"batchOrder": [...]}` (wire 8.4)."""
    try:
        decoded = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError:
        raise KrakenFuturesRequestError("Json Parse Error") from None
    items = decoded.get("batchOrder") if isinstance(decoded, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise KrakenFuturesRequestError("Json Parse Error")
    return items


def batchorder(engine: KrakenFuturesEngine, call: FuturesCall) -> Json:
    if call.batch is None:
        raise KrakenFuturesRequestError(MISSING)
    statuses: list[Json] = []
    handlers: dict[
        str, Callable[[KrakenFuturesEngine, FuturesCall, Mapping[str, Any]], KrakenFuturesResult]
    ]
    handlers = {"send": _send, "edit": _edit, "cancel": _cancel}
    for item in call.batch:
        handler = handlers.get(str(item.get("order", "")).lower())
        if handler is None:
            raise KrakenFuturesRequestError(INVALID)
        params = {k: v if isinstance(v, bool) else str(v) for k, v in item.items() if v is not None}
        result = handler(engine, call, params)
        statuses.append(batch_status(result, _text(params, "order_tag")))
    return {"batchStatus": statuses}


TRADING_ENDPOINTS: dict[tuple[str, str], Callable[[KrakenFuturesEngine, FuturesCall], Json]] = {
    ("POST", "sendorder"): sendorder,
    ("POST", "editorder"): editorder,
    ("POST", "cancelorder"): cancelorder,
    ("POST", "cancelallorders"): cancelallorders,
    ("POST", "cancelallordersafter"): cancelallordersafter,
    ("POST", "batchorder"): batchorder,
}
