"""Pure `parse_*` functions: Kraken Spot wire shapes (schemas.py) -> core model objects.

Every Kraken enum goes through an explicit table below; an unknown order status or exec_type
raises `KrakenParseError` (fail loudly: silently guessing an order's state is how fills get
lost). Decimals come from Kraken's strings (REST) or from `Decimal`-decoded JSON numbers (WS
v2); a float is accepted but converted via its shortest repr.

Client order ids: parsed objects carry Kraken's `cl_ord_id` as `client_order_id`. When the
gateway had to map a client's id to a UUID (see order_params.py), the adapter swaps it back
with the journaled mapping before handing the object to the core.

The reverse direction (core requests -> Kraken params) lives in order_params.py and is
re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    OutcomeUnknown,
    ResourceExhausted,
    Unavailable,
)
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
    Balance,
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Fee,
    Instrument,
    InstrumentStatus,
    Liquidity,
    OrderType,
    OrdStatus,
    Position,
    ProductType,
    PublicTrade,
    Side,
    Ticker,
    TimeInForce,
)
from gateway.venues.kraken.common.errors import kraken_error, kraken_errors
from gateway.venues.kraken.common.symbols import (
    KrakenPairNames,
    KrakenSymbolMap,
    unified_asset,
    unified_from_wsname,
)
from gateway.venues.kraken.spot.order_params import (
    KrakenClOrdId,
    build_add_order_batch_params,
    build_add_order_params,
    build_amend_order_params,
    build_ws_add_order_params,
    build_ws_amend_order_params,
    build_ws_batch_add_params,
    encode_ws_message,
    kraken_cl_ord_id,
)
from gateway.venues.kraken.spot.schemas import (
    KrakenAddOrderResult,
    KrakenAssetPair,
    KrakenBalanceExResult,
    KrakenDepthEntry,
    KrakenEditOrderResult,
    KrakenOpenPosition,
    KrakenOrderInfo,
    KrakenTickerEntry,
    KrakenTradeBalanceResult,
    KrakenTradeInfo,
    KrakenWsBookData,
    KrakenWsExecution,
    KrakenWsTickerData,
    KrakenWsTradeData,
)

__all__ = [
    "KrakenClOrdId",
    "KrakenExecution",
    "KrakenExecutionsBatch",
    "KrakenParseError",
    "KrakenTradeBalance",
    "build_add_order_batch_params",
    "build_add_order_params",
    "build_amend_order_params",
    "build_ws_add_order_params",
    "build_ws_amend_order_params",
    "build_ws_batch_add_params",
    "encode_ws_message",
    "kraken_cl_ord_id",
]

VENUE = "kraken"


class KrakenParseError(ValueError):
    """A Kraken payload the gateway cannot interpret safely."""


# ---- mapping tables -------------------------------------------------------------------------

SIDES: Mapping[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}

ORDER_TYPES: Mapping[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "iceberg": OrderType.ICEBERG,
    "stop-loss": OrderType.STOP_LOSS,
    "take-profit": OrderType.TAKE_PROFIT,
    "stop-loss-limit": OrderType.STOP_LOSS_LIMIT,
    "take-profit-limit": OrderType.TAKE_PROFIT_LIMIT,
    "trailing-stop": OrderType.TRAILING_STOP,
    "trailing-stop-limit": OrderType.TRAILING_STOP_LIMIT,
    "settle-position": OrderType.MARKET,  # margin settlement at market
}
TRIGGERED_TYPES = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.TAKE_PROFIT,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
STOP_LIMIT_TYPES = frozenset(
    {OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT, OrderType.TRAILING_STOP_LIMIT}
)

TIME_IN_FORCE: Mapping[str, TimeInForce] = {
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "gtd": TimeInForce.GTD,
    "fok": TimeInForce.FOK,
}

# REST order `status`; `open` with executed volume is refined to PARTIALLY_FILLED.
REST_ORDER_STATUS: Mapping[str, OrdStatus] = {
    "pending": OrdStatus.PENDING_NEW,
    "open": OrdStatus.NEW,
    "closed": OrdStatus.FILLED,
    "canceled": OrdStatus.CANCELED,
    "expired": OrdStatus.EXPIRED,
}

# WS v2 executions `order_status`.
WS_ORDER_STATUS: Mapping[str, OrdStatus] = {
    "pending_new": OrdStatus.PENDING_NEW,
    "new": OrdStatus.NEW,
    "partially_filled": OrdStatus.PARTIALLY_FILLED,
    "filled": OrdStatus.FILLED,
    "canceled": OrdStatus.CANCELED,
    "expired": OrdStatus.EXPIRED,
}

# WS v2 `exec_type`s that produce no core event: `pending_new` (the core already holds the
# order PENDING_NEW), `filled` (the core derives FILLED from cum_qty of the `trade` events),
# `iceberg_refill` (display refresh only). `status` yields OrderTriggered only when a trigger
# fired. Anything not in either set fails loudly.
WS_SILENT_EXEC_TYPES = frozenset({"pending_new", "filled", "iceberg_refill"})
WS_EVENT_EXEC_TYPES = frozenset(
    {"new", "trade", "canceled", "expired", "amended", "restated", "status"}
)

LIQUIDITY: Mapping[str, Liquidity] = {"m": Liquidity.MAKER, "t": Liquidity.TAKER}

INSTRUMENT_STATUS: Mapping[str, InstrumentStatus] = {
    "online": InstrumentStatus.ONLINE,
    "cancel_only": InstrumentStatus.CANCEL_ONLY,
    "post_only": InstrumentStatus.POST_ONLY,
    "limit_only": InstrumentStatus.LIMIT_ONLY,
    "reduce_only": InstrumentStatus.REDUCE_ONLY,
    "maintenance": InstrumentStatus.MAINTENANCE,
    "work_in_progress": InstrumentStatus.MAINTENANCE,
    "delisted": InstrumentStatus.DELISTED,
}


def _lookup(table: Mapping[str, Any], value: object, what: str) -> Any:
    try:
        return table[str(value).lower()]
    except KeyError:
        raise KrakenParseError(f"unknown Kraken {what}: {value!r}") from None


# ---- scalars --------------------------------------------------------------------------------


def dec(value: object, field: str = "value") -> Decimal:
    """A Kraken decimal: string (REST), Decimal/int (WS v2 decoded with parse_float=Decimal)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise KrakenParseError(f"{field}: boolean where a number was expected")
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise KrakenParseError(f"{field}: not a decimal: {value!r}") from None
    if isinstance(value, float):
        return Decimal(repr(value))
    raise KrakenParseError(f"{field}: not a number: {value!r}")


def _opt_dec(value: object, field: str) -> Decimal | None:
    return None if value is None else dec(value, field)


def _nonzero(value: object, field: str) -> Decimal | None:
    """REST uses "0"/"0.00000" for "not set"."""
    if value is None or value == "":
        return None
    d = dec(value, field)
    return d if d != 0 else None


def parse_unix_time(value: object) -> datetime | None:
    """Kraken unix seconds (float, int or string); 0 means unset."""
    if value is None or value == "":
        return None
    seconds = dec(value, "time")
    if seconds == 0:
        return None
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def parse_rfc3339(value: str | None) -> datetime | None:
    """RFC3339 with up to 9 fractional digits (Python keeps 6)."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise KrakenParseError(f"bad timestamp {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- instruments ----------------------------------------------------------------------------


def pair_names(pair_id: str, pair: KrakenAssetPair) -> KrakenPairNames:
    base = unified_asset(pair.get("base") or "")
    quote = unified_asset(pair.get("quote") or "")
    if not base or not quote:
        wsname = pair.get("wsname", "")
        base, _, quote = unified_from_wsname(wsname).partition("/")
    altname = pair.get("altname", pair_id)
    return KrakenPairNames(
        pair_id=pair_id,
        altname=altname,
        wsname=pair.get("wsname", f"{base}/{quote}"),
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
    )


def parse_instrument(pair_id: str, pair: KrakenAssetPair) -> Instrument:
    """One AssetPairs entry. tick = `tick_size` (else 10^-pair_decimals), lot = 10^-lot_decimals.

    An unknown pair status maps to MAINTENANCE (not tradable) rather than failing the list.
    """
    names = pair_names(pair_id, pair)
    pair_decimals = int(pair.get("pair_decimals", 8))
    lot_decimals = int(pair.get("lot_decimals", 8))
    tick = pair.get("tick_size")
    return Instrument(
        venue=VENUE,
        symbol=names.symbol,
        venue_symbol=pair_id,
        product_type=ProductType.SPOT,
        base=names.base,
        quote=names.quote,
        tick_size=dec(tick, "tick_size") if tick else Decimal(1).scaleb(-pair_decimals),
        lot_size=Decimal(1).scaleb(-lot_decimals),
        min_qty=dec(pair.get("ordermin", "0"), "ordermin"),
        min_cost=dec(pair.get("costmin", "0"), "costmin"),
        status=INSTRUMENT_STATUS.get(pair.get("status", "online"), InstrumentStatus.MAINTENANCE),
    )


def parse_asset_pairs(
    result: Mapping[str, KrakenAssetPair],
) -> tuple[list[Instrument], KrakenSymbolMap]:
    """All AssetPairs entries (dark-pool `.d` pairs skipped) and the symbol map built from them."""
    instruments: list[Instrument] = []
    names: list[KrakenPairNames] = []
    for pair_id, pair in result.items():
        if pair_id.endswith(".d"):
            continue
        instruments.append(parse_instrument(pair_id, pair))
        names.append(pair_names(pair_id, pair))
    return instruments, KrakenSymbolMap(names)


# ---- orders (REST) --------------------------------------------------------------------------


def _absolute(value: str | None, field: str) -> Decimal | None:
    """A descr price unless it is relative (`+100`, `-5`, `#2`, `1.5%`: trailing offsets)."""
    if value is None or value[:1] in ("+", "-", "#") or value.endswith("%"):
        return None
    return _nonzero(value, field)


def _prices(order_type: OrderType, info: KrakenOrderInfo) -> tuple[Decimal | None, Decimal | None]:
    """(limit price, stop/trigger price) of a REST order. For trailing types descr carries the
    offsets; the current trigger and limit come from `stopprice` / `limitprice` (None if 0)."""
    descr = info.get("descr", {})
    price = _absolute(descr.get("price"), "descr.price")
    price2 = _absolute(descr.get("price2"), "descr.price2")
    stopprice = _nonzero(info.get("stopprice"), "stopprice")
    limitprice = _nonzero(info.get("limitprice"), "limitprice")
    if order_type in (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT):
        limit = limitprice if order_type is OrderType.TRAILING_STOP_LIMIT else None
        return limit, stopprice
    if order_type in TRIGGERED_TYPES:
        stop = stopprice or price
        limit = (limitprice or price2) if order_type in STOP_LIMIT_TYPES else None
        return limit, stop
    if order_type in (OrderType.LIMIT, OrderType.ICEBERG):
        return price, None
    return None, None


def parse_order_info(txid: str, info: KrakenOrderInfo, symbols: KrakenSymbolMap) -> VenueOrderState:
    """One order of OpenOrders / ClosedOrders / QueryOrders."""
    status = _lookup(REST_ORDER_STATUS, info.get("status"), "order status")
    vol = dec(info.get("vol", "0"), "vol")
    vol_exec = dec(info.get("vol_exec", "0"), "vol_exec")
    if status is OrdStatus.NEW and vol_exec > 0:
        status = OrdStatus.PARTIALLY_FILLED
    descr = info.get("descr", {})
    order_type = _lookup(ORDER_TYPES, descr.get("ordertype"), "order type")
    limit, stop = _prices(order_type, info)
    pair = descr.get("pair", "")
    return VenueOrderState(
        client_order_id=info.get("cl_ord_id") or None,
        venue_order_id=txid,
        status=status,
        qty=vol,
        cum_qty=vol_exec,
        avg_px=_nonzero(info.get("price"), "price") if vol_exec > 0 else None,
        price=limit,
        stop_price=stop,
        symbol=symbols.unified(pair) if pair else "",
        text=info.get("reason") or "",
        venue_time=parse_unix_time(info.get("closetm")) or parse_unix_time(info.get("opentm")),
    )


def parse_orders(
    orders: Mapping[str, KrakenOrderInfo], symbols: KrakenSymbolMap
) -> list[VenueOrderState]:
    """`open` of OpenOrders, `closed` of ClosedOrders, or the QueryOrders result."""
    return [parse_order_info(txid, info, symbols) for txid, info in orders.items()]


def parse_add_order_result(result: KrakenAddOrderResult) -> str | None:
    """The txid of an AddOrder; None for validate-only."""
    txids = result.get("txid")
    if txids is None:
        return None
    if len(txids) != 1:
        raise KrakenParseError(f"AddOrder returned {len(txids)} txids")
    return txids[0]


# ---- fills ----------------------------------------------------------------------------------


def parse_trade_info(txid: str, trade: KrakenTradeInfo, symbols: KrakenSymbolMap) -> OrderFilled:
    """One TradesHistory / QueryTrades entry. The trade txid is the de-dup key (it equals the
    `exec_id` of the executions channel). Kraken charges REST fees in the quote currency."""
    pair = trade.get("pair", "")
    quote = symbols.unified(pair).partition("/")[2] if pair else ""
    fee = _opt_dec(trade.get("fee"), "fee")
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
    trades: Mapping[str, KrakenTradeInfo], symbols: KrakenSymbolMap
) -> list[OrderFilled]:
    """Fills oldest first (Kraken lists newest first)."""
    fills = [parse_trade_info(txid, t, symbols) for txid, t in trades.items()]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(fills, key=lambda f: (f.venue_time or epoch, f.trade_id))


# ---- executions channel (WS v2) -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenExecution:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenExecutionsBatch:
    """One executions message. Snapshot orders are in `order_states` (for reconciliation);
    `ratecounter` is the last counter value seen, if the stream carried one."""

    snapshot: bool
    sequence: int | None
    executions: tuple[KrakenExecution, ...]
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


def _ws_stop_price(e: KrakenWsExecution) -> Decimal | None:
    """The trigger price. A relative trigger (trailing: `price_type` pct/quote) carries an
    offset in `price`; the price it currently triggers at is `actual_price`."""
    triggers = e.get("triggers")
    if triggers is not None:
        if triggers.get("price_type", "static") != "static":
            actual = triggers.get("actual_price")
            return dec(actual, "triggers.actual_price") if actual else None
        if "price" in triggers:
            return dec(triggers["price"], "triggers.price")
    return _opt_dec(e.get("stop_price"), "stop_price")


def _ws_event(e: KrakenWsExecution, exec_type: str) -> VenueEvent | None:
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
            qty=_opt_dec(e.get("order_qty"), "order_qty"),
            price=_opt_dec(e.get("limit_price"), "limit_price"),
            stop_price=_ws_stop_price(e),
            display_qty=_opt_dec(e.get("display_qty"), "display_qty"),
        )
    if exec_type == "restated":
        return OrderRestated(
            **common,
            qty=_opt_dec(e.get("order_qty"), "order_qty"),
            price=_opt_dec(e.get("limit_price"), "limit_price"),
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


def parse_execution(e: KrakenWsExecution) -> KrakenExecution:
    """One executions entry. Unknown exec_type / order_status / order_type raise."""
    exec_type = str(e.get("exec_type", "")).lower()
    if exec_type in WS_SILENT_EXEC_TYPES:
        event = None
    elif exec_type in WS_EVENT_EXEC_TYPES:
        event = _ws_event(e, exec_type)
    else:
        raise KrakenParseError(f"unknown Kraken exec_type: {e.get('exec_type')!r}")
    status = e.get("order_status")
    side = e.get("side")
    order_type = e.get("order_type")
    tif = e.get("time_in_force")
    symbol = e.get("symbol")
    return KrakenExecution(
        exec_type=exec_type,
        event=event,
        order_status=None if status is None else _lookup(WS_ORDER_STATUS, status, "order_status"),
        venue_order_id=e.get("order_id"),
        cl_ord_id=e.get("cl_ord_id") or None,
        symbol=None if symbol is None else unified_from_wsname(symbol),
        side=None if side is None else _lookup(SIDES, side, "side"),
        order_type=None if order_type is None else _lookup(ORDER_TYPES, order_type, "order type"),
        time_in_force=None if tif is None else _lookup(TIME_IN_FORCE, tif, "time_in_force"),
        order_qty=_opt_dec(e.get("order_qty"), "order_qty"),
        limit_price=_opt_dec(e.get("limit_price"), "limit_price"),
        stop_price=_ws_stop_price(e),
        cum_qty=_opt_dec(e.get("cum_qty"), "cum_qty"),
        avg_px=_opt_dec(e.get("avg_price"), "avg_price"),
    )


def _snapshot_order_state(e: KrakenWsExecution, x: KrakenExecution) -> VenueOrderState:
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


def _ratecount(e: Mapping[str, Any]) -> Decimal | None:
    for key in ("ratecount", "ratecounter"):
        if key in e:
            return dec(e[key], key)
    return None


def parse_executions_message(msg: Mapping[str, Any]) -> KrakenExecutionsBatch:
    """A whole `executions` channel message.

    Snapshot: order entries (no `exec_id`) become `order_states`; trade entries (snap_trades)
    become fill events. Entries carrying only a rate counter feed `ratecounter`.
    """
    snapshot = msg.get("type") == "snapshot"
    executions: list[KrakenExecution] = []
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
    return KrakenExecutionsBatch(
        snapshot=snapshot,
        sequence=int(sequence) if sequence is not None else None,
        executions=tuple(executions),
        order_states=tuple(states),
        ratecounter=ratecounter,
    )


# ---- balances -------------------------------------------------------------------------------


def parse_balance_ex(result: KrakenBalanceExResult) -> list[Balance]:
    """available = balance + credit - credit_used - hold_trade (wire 3.6)."""
    balances: list[Balance] = []
    for asset, entry in result.items():
        total = dec(entry.get("balance", "0"), "balance")
        held = dec(entry.get("hold_trade", "0"), "hold_trade")
        credit = dec(entry.get("credit", "0"), "credit") - dec(
            entry.get("credit_used", "0"), "credit_used"
        )
        balances.append(
            Balance(
                asset=unified_asset(asset),
                wallet="spot",
                total=total,
                available=total + credit - held,
                held=held,
            )
        )
    return balances


def parse_balance(result: Mapping[str, str]) -> list[Balance]:
    """Plain `Balance` (no holds known)."""
    return [
        Balance(asset=unified_asset(a), total=dec(v, a), available=dec(v, a))
        for a, v in result.items()
    ]


def _wallet_name(wallet_type: str, wallet_id: str) -> str:
    return wallet_type if wallet_id in ("", "main") else f"{wallet_type}:{wallet_id}"


def parse_ws_balances(msg: Mapping[str, Any]) -> list[Balance]:
    """A `balances` channel message. Snapshot: one Balance per wallet (or per asset without
    wallets). Update: the post-transaction balance of the touched wallet. The channel carries
    no holds, so available = total here; BalanceEx has the holds."""
    out: list[Balance] = []
    for entry in msg.get("data", ()):
        asset = unified_asset(str(entry.get("asset", "")))
        if msg.get("type") == "snapshot":
            wallets = entry.get("wallets") or [
                {"type": "spot", "id": "main", "balance": entry.get("balance")}
            ]
            for w in wallets:
                total = dec(w.get("balance"), "balance")
                name = _wallet_name(str(w.get("type", "spot")), str(w.get("id", "main")))
                out.append(Balance(asset=asset, wallet=name, total=total, available=total))
        else:
            total = dec(entry.get("balance"), "balance")
            name = _wallet_name(
                str(entry.get("wallet_type", "spot")), str(entry.get("wallet_id", "main"))
            )
            out.append(Balance(asset=asset, wallet=name, total=total, available=total))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenTradeBalance:
    """TradeBalance in words (all in the requested asset, default USD)."""

    equivalent_balance: Decimal
    trade_balance: Decimal
    margin: Decimal
    unrealized_pnl: Decimal
    cost_basis: Decimal
    valuation: Decimal
    equity: Decimal
    free_margin: Decimal
    margin_level: Decimal | None
    unexecuted_value: Decimal


def parse_trade_balance(result: KrakenTradeBalanceResult) -> KrakenTradeBalance:
    def get(key: str) -> Decimal:
        return dec(result.get(key, "0"), key)

    ml = result.get("ml")
    return KrakenTradeBalance(
        equivalent_balance=get("eb"),
        trade_balance=get("tb"),
        margin=get("m"),
        unrealized_pnl=get("n"),
        cost_basis=get("c"),
        valuation=get("v"),
        equity=get("e"),
        free_margin=get("mf"),
        margin_level=None if ml is None else dec(ml, "ml"),
        unexecuted_value=get("uv"),
    )


def parse_open_position(position: KrakenOpenPosition, symbols: KrakenSymbolMap) -> Position:
    """One spot margin position (unconsolidated or consolidated shape): signed open volume."""
    vol = dec(position.get("vol", "0"), "vol") - dec(position.get("vol_closed", "0"), "vol_closed")
    side = _lookup(SIDES, position.get("type"), "side")
    cost = dec(position.get("cost", "0"), "cost")
    total_vol = dec(position.get("vol", "0"), "vol")
    net = position.get("net")
    margin = position.get("margin")
    return Position(
        venue=VENUE,
        symbol=symbols.unified(position.get("pair", "")),
        qty=vol if side is Side.BUY else -vol,
        entry_price=cost / total_vol if total_vol else None,
        unrealized_pnl=None if net is None else dec(net, "net"),
        margin=None if margin is None else dec(margin, "margin"),
    )


def parse_open_positions(
    result: Mapping[str, KrakenOpenPosition] | list[KrakenOpenPosition],
    symbols: KrakenSymbolMap,
) -> list[Position]:
    """OpenPositions: a map by position id, or an array with `consolidation=market`."""
    items = result.values() if isinstance(result, Mapping) else result
    return [parse_open_position(p, symbols) for p in items]


# ---- market data ----------------------------------------------------------------------------


def parse_ticker(pair: str, entry: KrakenTickerEntry, symbols: KrakenSymbolMap) -> Ticker:
    """REST Ticker: a/b = [price, whole-lot vol, lot vol], c = [last, vol]; 24h = index 1."""

    def at(key: str, i: int) -> Decimal | None:
        values: Any = entry.get(key)
        return dec(values[i], key) if values and len(values) > i else None

    return Ticker(
        venue=VENUE,
        symbol=symbols.unified(pair),
        bid=at("b", 0),
        bid_qty=at("b", 2),
        ask=at("a", 0),
        ask_qty=at("a", 2),
        last=at("c", 0),
        volume_24h=at("v", 1),
        vwap_24h=at("p", 1),
        high_24h=at("h", 1),
        low_24h=at("l", 1),
    )


def parse_ws_ticker(data: KrakenWsTickerData) -> Ticker:
    def get(key: str) -> Decimal | None:
        return _opt_dec(data.get(key), key)

    return Ticker(
        venue=VENUE,
        symbol=unified_from_wsname(data.get("symbol", "")),
        bid=get("bid"),
        bid_qty=get("bid_qty"),
        ask=get("ask"),
        ask_qty=get("ask_qty"),
        last=get("last"),
        volume_24h=get("volume"),
        vwap_24h=get("vwap"),
        high_24h=get("high"),
        low_24h=get("low"),
        time=parse_rfc3339(data.get("timestamp")),
    )


def parse_depth(pair: str, entry: KrakenDepthEntry, symbols: KrakenSymbolMap) -> BookSnapshot:
    """REST Depth -> snapshot, best first (Kraken already sorts asks up, bids down)."""

    def levels(rows: list[list[str | int]], name: str) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(dec(r[0], f"{name}.price"), dec(r[1], f"{name}.qty")) for r in rows)

    return BookSnapshot(
        venue=VENUE,
        symbol=symbols.unified(pair),
        bids=levels(entry.get("bids", []), "bids"),
        asks=levels(entry.get("asks", []), "asks"),
    )


def ws_book_levels(data: KrakenWsBookData, side: str) -> list[tuple[Decimal, Decimal]]:
    """(price, qty) pairs of one side of a WS v2 book message, in wire order (for KrakenL2Book)."""
    rows: Any = data.get(side, [])
    return [(dec(r["price"], "price"), dec(r["qty"], "qty")) for r in rows]


def parse_ws_book(data: KrakenWsBookData, *, snapshot: bool) -> BookSnapshot | BookUpdate:
    bids = tuple(BookLevel(p, q) for p, q in ws_book_levels(data, "bids"))
    asks = tuple(BookLevel(p, q) for p, q in ws_book_levels(data, "asks"))
    symbol = unified_from_wsname(data["symbol"])
    checksum = data.get("checksum")
    time = parse_rfc3339(data.get("timestamp"))
    if snapshot:
        return BookSnapshot(
            venue=VENUE, symbol=symbol, bids=bids, asks=asks, checksum=checksum, time=time
        )
    return BookUpdate(
        venue=VENUE, symbol=symbol, bids=bids, asks=asks, checksum=checksum, time=time
    )


def parse_ws_trade(data: KrakenWsTradeData) -> PublicTrade:
    return PublicTrade(
        venue=VENUE,
        symbol=unified_from_wsname(data["symbol"]),
        trade_id=str(data["trade_id"]),
        side=_lookup(SIDES, data["side"], "side"),
        price=dec(data["price"], "price"),
        qty=dec(data["qty"], "qty"),
        time=parse_rfc3339(data.get("timestamp")),
    )


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


def parse_edit_order_result(result: KrakenEditOrderResult) -> tuple[str, str]:
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
