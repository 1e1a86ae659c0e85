"""Engine order events -> WS v2 `executions` reports and `balances` rows (wire 6.4).

Kraken sends a full order record on `pending_new` and in snapshots, and compact records for the
later transitions (the docs' limit-sell sequence); every record names the order and carries
`exec_type`, `order_status` and `timestamp`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simulator.engine.events import ExecType, ExecutionEvent, LedgerEvent
from simulator.engine.model import Fill, Order, OrderType
from simulator.engine.pairs import KrakenAsset, KrakenPair
from simulator.spot.ws_market import timestamp

ZERO = Decimal(0)
# Sent when the subscriber asked for order_status=false (wire 6.4).
ESSENTIAL_EXEC_TYPES = frozenset(
    {ExecType.NEW, ExecType.TRADE, ExecType.FILLED, ExecType.CANCELED, ExecType.EXPIRED}
)


def _ids(order: Order) -> dict[str, Any]:
    out: dict[str, Any] = {"order_id": order.txid, "order_userref": order.userref or 0}
    if order.cl_ord_id is not None:
        out["cl_ord_id"] = order.cl_ord_id
    return out


def _fee_ccy_pref(order: Order) -> str:
    return "fcib" if order.fee_in_base else "fciq"


def _fill_state(order: Order) -> dict[str, Any]:
    return {
        "cum_qty": order.vol_exec,
        "cum_cost": order.cost,
        "avg_price": order.avg_price,
    }


def order_record(order: Order, pair: KrakenPair, exec_type: str, when: Decimal) -> dict[str, Any]:
    """The full description of an order (`pending_new`, snapshots)."""
    record = _ids(order)
    record.update(
        {
            "symbol": pair.ws_symbol,
            "side": order.side.value,
            "order_type": order.ordertype.value,
            "order_qty": order.volume,
            "time_in_force": order.timeinforce.value,
            "post_only": order.post_only,
            "reduce_only": order.reduce_only,
            "margin": order.leverage is not None,
            "fee_ccy_pref": _fee_ccy_pref(order),
            "exec_type": exec_type,
            "order_status": order.ws_status,
            "timestamp": timestamp(when),
            "fee_usd_equiv": ZERO,
            **_fill_state(order),
        }
    )
    if order.limit_price is not None:
        record["limit_price"] = order.limit_price
        record["limit_price_type"] = "static"
    if order.quote_volume is not None:
        record["cash_order_qty"] = order.quote_volume
    if order.displayvol is not None:
        record["display_qty"] = order.displayvol
        record["display_qty_remain"] = order.display_remaining
    if order.starttm:
        record["effective_time"] = timestamp(order.starttm)
    if order.expiretm:
        record["expire_time"] = timestamp(order.expiretm)
    if order.amended:
        record["amended"] = True
    if order.ordertype.is_triggered and order.price is not None:
        record["triggers"] = _triggers(order)
    return record


def _triggers(order: Order) -> dict[str, Any]:
    price = order.trailing_offset if order.ordertype.is_trailing else order.price
    if order.ordertype.is_trailing:
        price_type = "pct" if order.trailing_pct else "quote"
    else:
        price_type = "static"
    triggers: dict[str, Any] = {
        "reference": order.trigger.value,
        "price": price if price is not None else ZERO,
        "price_type": price_type,
        "actual_price": order.price if order.price is not None else ZERO,
        "status": "triggered" if order.triggered else "untriggered",
        "timestamp": timestamp(order.triggered_at or order.opentm),
    }
    if order.peak_price is not None:
        triggers["peak_price"] = order.peak_price
    return triggers


def trade_record(order: Order, fill: Fill, pair: KrakenPair, asset_name: str) -> dict[str, Any]:
    record = _ids(order)
    record.update(
        {
            "exec_id": fill.txid,
            "exec_type": ExecType.TRADE,
            "trade_id": fill.trade_id,
            "symbol": pair.ws_symbol,
            "side": fill.side.value,
            "order_type": order.ordertype.value,
            "last_qty": fill.volume,
            "last_price": fill.price,
            "liquidity_ind": "m" if fill.maker else "t",
            "cost": fill.cost,
            "order_status": "partially_filled" if order.remaining > 0 else "filled",
            "timestamp": timestamp(fill.time),
            "fee_usd_equiv": fill.fee if asset_name == "USD" else ZERO,
            "fees": [{"asset": asset_name, "qty": fill.fee}],
            **_fill_state(order),
        }
    )
    return record


def execution_report(
    event: ExecutionEvent, pair: KrakenPair, assets: Mapping[str, KrakenAsset]
) -> dict[str, Any]:
    """The `executions` data object for one engine event."""
    order = event.order
    exec_type = event.exec_type
    if exec_type == ExecType.PENDING_NEW:
        return order_record(order, pair, exec_type, event.time)
    if exec_type == ExecType.TRADE and event.fill is not None:
        fee_asset = assets.get(event.fill.fee_asset)
        name = fee_asset.ws_name if fee_asset else event.fill.fee_asset
        return trade_record(order, event.fill, pair, name)
    record = _ids(order)
    record.update(
        {
            "exec_type": exec_type,
            "order_status": order.ws_status,
            "timestamp": timestamp(event.time),
        }
    )
    if exec_type in (ExecType.FILLED, ExecType.CANCELED, ExecType.EXPIRED):
        record.update(_fill_state(order))
        record["fee_usd_equiv"] = ZERO
        record["symbol"] = pair.ws_symbol
        record["side"] = order.side.value
    if exec_type in (ExecType.AMENDED, ExecType.RESTATED):
        record.update(
            {
                "symbol": pair.ws_symbol,
                "order_qty": order.volume,
                "amended": exec_type == ExecType.AMENDED,
                "cum_qty": order.vol_exec,
                "post_only": order.post_only,
            }
        )
        if order.limit_price is not None:
            record["limit_price"] = order.limit_price
        if order.displayvol is not None:
            record["display_qty"] = order.displayvol
    if exec_type == ExecType.STATUS and order.ordertype.is_triggered:
        record["triggers"] = _triggers(order)
    if order.ordertype is OrderType.ICEBERG and exec_type == ExecType.ICEBERG_REFILL:
        record["display_qty_remain"] = order.display_remaining
    reason = event.reason if event.reason is not None else order.reason
    if reason and exec_type in (ExecType.CANCELED, ExecType.EXPIRED, ExecType.RESTATED):
        record["reason"] = reason
    elif exec_type == ExecType.AMENDED:
        record["reason"] = event.reason or "User requested"
    return record


def balance_update(event: LedgerEvent, asset: KrakenAsset | None) -> dict[str, Any]:
    """One `balances` update row per ledger entry."""
    entry = event.entry
    name = asset.ws_name if asset else entry.asset
    category = {"trade": "trade", "deposit": "deposit", "withdrawal": "withdrawal"}.get(
        entry.type, entry.type
    )
    return {
        "ledger_id": entry.id,
        "ref_id": entry.refid,
        "timestamp": timestamp(entry.time),
        "type": entry.type,
        "subtype": entry.subtype,
        "category": category,
        "asset": name,
        "asset_class": "currency",
        "wallet_type": "spot",
        "wallet_id": "main",
        "amount": entry.amount,
        "fee": entry.fee,
        "balance": event.wallet_total,
    }


def balance_snapshot_row(asset_name: str, balance: Decimal) -> dict[str, Any]:
    return {
        "asset": asset_name,
        "asset_class": "currency",
        "balance": balance,
        "wallets": [{"type": "spot", "id": "main", "balance": balance}],
    }
