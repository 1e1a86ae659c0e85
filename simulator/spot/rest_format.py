"""Engine objects -> Kraken Spot REST JSON shapes (order info, trade, ledger row), wire 3.5-3.7.

Amounts are strings with the pair's or asset's fixed decimals (`"0.50000000"`, `"14750.00000"`);
times are JSON numbers (`1688583840.8648`), as Kraken prints them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.engine.descr import close_text, fmt_price, fmt_volume, order_text
from simulator.engine.model import Fill, LedgerEntry, Order, OrderStatus
from simulator.engine.pairs import KrakenAsset, KrakenPair

ZERO = Decimal(0)


def wire_time(value: Decimal | None) -> int | float:
    """Unix seconds as Kraken prints them: integers stay integers (`0`), else 4 decimals."""
    if value is None or value == 0:
        return 0
    return float(value.quantize(Decimal("0.0001")))


def fmt_cost(value: Decimal, pair: KrakenPair) -> str:
    return f"{value:.{pair.cost_decimals}f}"


def fmt_asset(value: Decimal, asset: KrakenAsset | None) -> str:
    return f"{value:.{asset.decimals if asset else 8}f}"


def _price_or_zero(value: Decimal | None, pair: KrakenPair, zero: str) -> str:
    return fmt_price(value, pair) if value else zero


def order_descr(order: Order, pair: KrakenPair) -> dict[str, Any]:
    return {
        "pair": pair.altname,
        "type": order.side.value,
        "ordertype": order.ordertype.value,
        "price": order.price_text or _price_or_zero(order.price, pair, "0"),
        "price2": order.price2_text or _price_or_zero(order.price2, pair, "0"),
        "leverage": order.leverage or "none",
        "order": order_text(order, pair),
        "close": close_text(order.close),
    }


def order_info(order: Order, pair: KrakenPair, *, trades: bool = False) -> dict[str, Any]:
    """One order of OpenOrders / ClosedOrders / QueryOrders."""
    info: dict[str, Any] = {
        "refid": None,
        "userref": order.userref if order.userref is not None else 0,
    }
    if order.cl_ord_id is not None:
        info["cl_ord_id"] = order.cl_ord_id
    info["status"] = order.status.value
    if not order.is_open:
        info["reason"] = order.reason
    info["opentm"] = wire_time(order.opentm)
    if order.closetm is not None and not order.is_open:
        info["closetm"] = wire_time(order.closetm)
    info["starttm"] = wire_time(order.starttm)
    info["expiretm"] = wire_time(order.expiretm)
    info["descr"] = order_descr(order, pair)
    info["vol"] = fmt_volume(order.volume, pair)
    info["vol_exec"] = fmt_volume(order.vol_exec, pair)
    info["cost"] = fmt_cost(order.cost, pair)
    info["fee"] = fmt_cost(order.fee, pair)
    info["price"] = _price_or_zero(order.avg_price, pair, fmt_cost(ZERO, pair))
    info["stopprice"] = _price_or_zero(
        order.trigger_price if order.triggered else None, pair, fmt_cost(ZERO, pair)
    )
    info["limitprice"] = _price_or_zero(
        order.limit_price if order.triggered else None, pair, fmt_cost(ZERO, pair)
    )
    if order.ordertype.is_triggered:
        info["trigger"] = order.trigger.value
    info["margin"] = bool(order.leverage and order.leverage != "none")
    misc = list(order.misc)
    if order.amended and "amended" not in misc:
        misc.append("amended")
    info["misc"] = ",".join(misc)
    info["oflags"] = ",".join(sorted(order.oflags))
    if trades and order.trades:
        info["trades"] = list(order.trades)
    return info


def is_closed(order: Order) -> bool:
    return order.status in (OrderStatus.CLOSED, OrderStatus.CANCELED, OrderStatus.EXPIRED)


def trade_info(fill: Fill, pair: KrakenPair, *, ledgers: bool = False) -> dict[str, Any]:
    """One trade of TradesHistory / QueryTrades."""
    info: dict[str, Any] = {
        "ordertxid": fill.order_txid,
        "postxid": fill.postxid,
        "pair": pair.id,
        "time": wire_time(fill.time),
        "type": fill.side.value,
        "ordertype": fill.ordertype.value,
        "price": fmt_price(fill.price, pair),
        "cost": fmt_cost(fill.cost, pair),
        "fee": fmt_cost(fill.fee, pair),
        "vol": fmt_volume(fill.volume, pair),
        "margin": fmt_cost(ZERO, pair),
        "leverage": "0",
        "misc": "",
        "trade_id": fill.trade_id,
        "maker": fill.maker,
    }
    if ledgers:
        info["ledgers"] = list(fill.ledger_ids)
    return info


def ledger_info(entry: LedgerEntry, asset: KrakenAsset | None) -> dict[str, Any]:
    """One row of Ledgers / QueryLedgers."""
    return {
        "aclass": "currency",
        "amount": fmt_asset(entry.amount, asset),
        "asset": entry.asset,
        "balance": fmt_asset(entry.balance, asset),
        "fee": fmt_asset(entry.fee, asset),
        "refid": entry.refid,
        "time": wire_time(entry.time),
        "type": entry.type,
        "subtype": entry.subtype,
    }
