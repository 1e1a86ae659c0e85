"""The WS v2 `executions` channel -> core venue events plus ExecutionReport-level fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from gateway.core.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRestated,
    OrderTriggered,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.model import (
    Fee,
    OrderType,
    OrdStatus,
    Side,
    TimeInForce,
)
from gateway.venues.kraken.common.symbols import (
    unified_asset,
    unified_from_wsname,
)
from gateway.venues.kraken.common.wire_scalars import KrakenParseError, dec, opt_dec, parse_rfc3339
from gateway.venues.kraken.spot.schemas import (
    KrakenSpotWsExecution,
)
from gateway.venues.kraken.spot.wire_values import (
    LIQUIDITY,
    ORDER_TYPES,
    SIDES,
    TIME_IN_FORCE,
    WS_EVENT_EXEC_TYPES,
    WS_ORDER_STATUS,
    WS_SILENT_EXEC_TYPES,
    lookup,
)

# ---- executions channel (WS v2) -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenSpotExecution:
    """One executions entry: the core event (if any) plus the ExecutionReport-level fields."""

    exec_type: str
    event: VenueEvent | None
    order_status: OrdStatus | None
    venue_order_id: str | None
    cl_ord_id: str | None
    symbol: str | None
    side: Side | None
    order_type: OrderType | None
    time_in_force: TimeInForce | None
    order_qty: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    cum_qty: Decimal | None
    avg_px: Decimal | None
    ratecount: Decimal | None = None  # the pair's trading counter after this event, if streamed


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenSpotExecutionsBatch:
    """One executions message. Snapshot orders are in `order_states` (for reconciliation);
    `ratecounter` is the last counter value seen, if the stream carried one."""

    snapshot: bool
    sequence: int | None
    executions: tuple[KrakenSpotExecution, ...]
    order_states: tuple[VenueOrderState, ...]
    ratecounter: Decimal | None


def _fee(fees: Iterable[Mapping[str, Any]] | None) -> Fee | None:
    """Kraken lists fees per asset; one asset in practice. Same-asset entries are summed."""
    if not fees:
        return None
    total: dict[str, Decimal] = {}
    for item in fees:
        asset = unified_asset(str(item.get("asset", "")))
        total[asset] = total.get(asset, Decimal(0)) + dec(item.get("qty"), "fees.qty")
    asset, amount = next(iter(total.items()))
    return Fee(asset=asset, amount=amount)


def _ws_stop_price(e: KrakenSpotWsExecution) -> Decimal | None:
    """The trigger price. A relative trigger (trailing: `price_type` pct/quote) carries an
    offset in `price`; the price it currently triggers at is `actual_price`."""
    triggers = e.get("triggers")
    if triggers is not None:
        if triggers.get("price_type", "static") != "static":
            actual = triggers.get("actual_price")
            return dec(actual, "triggers.actual_price") if actual else None
        if "price" in triggers:
            return dec(triggers["price"], "triggers.price")
    return opt_dec(e.get("stop_price"), "stop_price")


def _ws_event(e: KrakenSpotWsExecution, exec_type: str) -> VenueEvent | None:
    common: dict[str, Any] = {
        "client_order_id": e.get("cl_ord_id") or None,
        "venue_order_id": e.get("order_id"),
        "venue_time": parse_rfc3339(e.get("timestamp")),
    }
    text = e.get("reason") or e.get("cancel_reason") or ""
    if exec_type == "new":
        return OrderAccepted(**common)
    if exec_type == "trade":
        exec_id = e.get("exec_id")
        trade_id = exec_id if exec_id else str(e.get("trade_id", ""))
        if not trade_id:
            raise KrakenParseError("trade execution without exec_id or trade_id")
        liq = e.get("liquidity_ind")
        return OrderFilled(
            **common,
            trade_id=trade_id,
            qty=dec(e.get("last_qty"), "last_qty"),
            price=dec(e.get("last_price"), "last_price"),
            fee=_fee(e.get("fees")),
            liquidity=LIQUIDITY.get(liq) if liq else None,
        )
    if exec_type == "canceled":
        return OrderCanceled(**common, text=text)
    if exec_type == "expired":
        return OrderExpired(**common, text=text)
    if exec_type == "amended":
        return OrderAmended(
            **common,
            qty=opt_dec(e.get("order_qty"), "order_qty"),
            price=opt_dec(e.get("limit_price"), "limit_price"),
            stop_price=_ws_stop_price(e),
            display_qty=opt_dec(e.get("display_qty"), "display_qty"),
        )
    if exec_type == "restated":
        return OrderRestated(
            **common,
            qty=opt_dec(e.get("order_qty"), "order_qty"),
            price=opt_dec(e.get("limit_price"), "limit_price"),
            stop_price=_ws_stop_price(e),
            text=text,
        )
    # exec_type == "status": only a fired trigger is a core event.
    triggers = e.get("triggers")
    if triggers is not None and triggers.get("status") == "triggered":
        actual = triggers.get("actual_price")
        return OrderTriggered(
            **common, trigger_price=None if actual is None else dec(actual, "actual_price")
        )
    return None


def _ratecount(e: Mapping[str, Any]) -> Decimal | None:
    for key in ("ratecount", "ratecounter"):
        if key in e:
            return dec(e[key], key)
    return None


def parse_execution(e: KrakenSpotWsExecution) -> KrakenSpotExecution:
    """One executions entry. Unknown exec_type / order_status / order_type raise."""
    exec_type = str(e.get("exec_type", "")).lower()
    if exec_type in WS_SILENT_EXEC_TYPES:
        event = None
    elif exec_type in WS_EVENT_EXEC_TYPES:
        event = _ws_event(e, exec_type)
    else:
        raise KrakenParseError(f"unknown Kraken exec_type: {e.get('exec_type')!r}")
    status = e.get("order_status")
    if isinstance(event, OrderFilled) and status == "filled":
        # Kraken closed the order with this trade (what ends a cash_order_qty order).
        event = replace(event, order_done=True)
    side = e.get("side")
    order_type = e.get("order_type")
    tif = e.get("time_in_force")
    symbol = e.get("symbol")
    return KrakenSpotExecution(
        exec_type=exec_type,
        event=event,
        order_status=None if status is None else lookup(WS_ORDER_STATUS, status, "order_status"),
        venue_order_id=e.get("order_id"),
        cl_ord_id=e.get("cl_ord_id") or None,
        symbol=None if symbol is None else unified_from_wsname(symbol),
        side=None if side is None else lookup(SIDES, side, "side"),
        order_type=None if order_type is None else lookup(ORDER_TYPES, order_type, "order type"),
        time_in_force=None if tif is None else lookup(TIME_IN_FORCE, tif, "time_in_force"),
        order_qty=opt_dec(e.get("order_qty"), "order_qty"),
        limit_price=opt_dec(e.get("limit_price"), "limit_price"),
        stop_price=_ws_stop_price(e),
        cum_qty=opt_dec(e.get("cum_qty"), "cum_qty"),
        avg_px=opt_dec(e.get("avg_price"), "avg_price"),
        ratecount=_ratecount(e),
    )


def _snapshot_order_state(e: KrakenSpotWsExecution, x: KrakenSpotExecution) -> VenueOrderState:
    if x.venue_order_id is None or x.order_status is None:
        raise KrakenParseError("snapshot order without order_id or order_status")
    return VenueOrderState(
        client_order_id=x.cl_ord_id,
        venue_order_id=x.venue_order_id,
        status=x.order_status,
        qty=x.order_qty if x.order_qty is not None else Decimal(0),
        cum_qty=x.cum_qty if x.cum_qty is not None else Decimal(0),
        avg_px=x.avg_px if x.avg_px else None,
        price=x.limit_price,
        stop_price=x.stop_price,
        symbol=x.symbol or "",
        venue_time=parse_rfc3339(e.get("timestamp")),
    )


def parse_executions_message(msg: Mapping[str, Any]) -> KrakenSpotExecutionsBatch:
    """A whole `executions` channel message.

    Snapshot: order entries (no `exec_id`) become `order_states`; trade entries (snap_trades)
    become fill events. Entries carrying only a rate counter feed `ratecounter`.
    """
    snapshot = msg.get("type") == "snapshot"
    executions: list[KrakenSpotExecution] = []
    states: list[VenueOrderState] = []
    ratecounter: Decimal | None = None
    for entry in msg.get("data", ()):
        rate = _ratecount(entry)
        if rate is not None:
            ratecounter = rate
            if "exec_type" not in entry:
                continue
        if snapshot and entry.get("exec_type") != "trade":
            # Snapshot orders may lack exec_type; their state is what matters.
            if "exec_type" not in entry:
                entry = {**entry, "exec_type": "pending_new"}
            x = parse_execution(entry)
            states.append(_snapshot_order_state(entry, x))
            continue
        executions.append(parse_execution(entry))
    sequence = msg.get("sequence")
    return KrakenSpotExecutionsBatch(
        snapshot=snapshot,
        sequence=int(sequence) if sequence is not None else None,
        executions=tuple(executions),
        order_states=tuple(states),
        ratecounter=ratecounter,
    )
