"""Kraken Futures WebSocket v1 message bodies (wire 9.3) built from the futures engine's objects.

Like the REST shapes (`simulator.futures.rest_format`), Decimals go out as JSON numbers. Note
the feed-specific spellings: `direction` 0/1 in open_orders, `buy` true/false in fills.
"""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.futures_accounts import (
    KrakenFuturesAccount,
    KrakenFuturesPosition,
    KrakenMarginSummary,
)
from simulator.engine.futures_events import KrakenFuturesBookEvent, KrakenFuturesTradeEvent
from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.futures_margin import unrealised_pnl
from simulator.engine.futures_market_state import KrakenFuturesTicker
from simulator.engine.futures_orders import (
    KrakenFuturesFill,
    KrakenFuturesOrder,
    KrakenFuturesOrderType,
)
from simulator.engine.model import Side
from simulator.futures.rest_format import Json, ticker_json

ZERO = Decimal(0)


def ws_book_snapshot_json(
    symbol: str,
    bids: list[tuple[Decimal, Decimal]],
    asks: list[tuple[Decimal, Decimal]],
    seq: int,
    time_ms: int,
) -> Json:
    return {
        "feed": "book_snapshot",
        "product_id": symbol,
        "timestamp": time_ms,
        "seq": seq,
        "tickSize": None,
        "bids": [{"price": p, "qty": q} for p, q in bids],
        "asks": [{"price": p, "qty": q} for p, q in asks],
    }


def ws_book_delta_json(event: KrakenFuturesBookEvent) -> Json:
    """One level change; qty 0 removes the level."""
    return {
        "feed": "book",
        "product_id": event.symbol,
        "side": event.side.value,
        "seq": event.seq,
        "price": event.price,
        "qty": event.qty,
        "timestamp": event.time_ms,
    }


def ws_trade_json(event: KrakenFuturesTradeEvent) -> Json:
    return {
        "feed": "trade",
        "product_id": event.symbol,
        "uid": event.uid,
        "side": event.side.value,
        "type": "fill",
        "seq": event.seq,
        "time": event.time_ms,
        "qty": event.qty,
        "price": event.price,
    }


def ws_order_json(order: KrakenFuturesOrder) -> Json:
    """open_orders `order` object: `direction` 0 buy / 1 sell, `type` limit|stop|take_profit..."""
    kinds = {
        KrakenFuturesOrderType.STP: "stop",
        KrakenFuturesOrderType.TAKE_PROFIT: "take_profit",
        KrakenFuturesOrderType.TRAILING_STOP: "trailing_stop",
    }
    kind = kinds.get(order.order_type, "limit") if order.waiting_for_trigger else "limit"
    out: Json = {
        "instrument": order.symbol,
        "time": order.received_ms,
        "last_update_time": order.updated_ms,
        "qty": order.remaining,
        "filled": order.filled,
        "limit_price": order.limit_price if order.limit_price is not None else ZERO,
        "stop_price": order.stop_price if order.stop_price is not None else ZERO,
        "type": kind,
        "order_id": order.order_id,
        "direction": 0 if order.side is Side.BUY else 1,
        "reduce_only": order.reduce_only,
    }
    if order.cli_ord_id is not None:
        out["cli_ord_id"] = order.cli_ord_id
    if order.order_type.is_trigger:
        out["triggerSignal"] = order.trigger_signal.value
    return out


def _ws_order_kind(kind: KrakenFuturesOrderType) -> str:
    if kind is KrakenFuturesOrderType.MKT:
        return "market"
    if kind is KrakenFuturesOrderType.LIQUIDATION:
        return "liquidation"
    if kind.is_trigger:
        return "stop" if kind is KrakenFuturesOrderType.STP else kind.value
    return "limit" if kind in (KrakenFuturesOrderType.LMT, KrakenFuturesOrderType.POST) else "ioc"


def ws_fill_json(fill: KrakenFuturesFill) -> Json:
    out: Json = {
        "instrument": fill.symbol,
        "time": fill.time_ms,
        "price": fill.price,
        "seq": fill.seq,
        "buy": fill.side is Side.BUY,
        "qty": fill.size,
        "remaining_order_qty": fill.remaining_order_qty,
        "order_id": fill.order_id,
        "fill_id": fill.fill_id,
        "fill_type": "maker" if fill.maker else "taker",
        "fee_paid": fill.fee,
        "fee_currency": fill.fee_currency,
        "taker_order_type": _ws_order_kind(fill.taker_order_type),
        "order_type": _ws_order_kind(fill.order_type),
    }
    if fill.cli_ord_id is not None:
        out["cli_ord_id"] = fill.cli_ord_id
    return out


def ws_position_json(
    position: KrakenFuturesPosition,
    inst: KrakenFuturesInstrument,
    mark: Decimal,
    index: Decimal,
    initial_margin: Decimal,
    maintenance_margin: Decimal,
) -> Json:
    pnl = unrealised_pnl(inst, position.size, position.entry_price, mark)
    return {
        "instrument": position.symbol,
        "balance": position.size,
        "entry_price": position.entry_price,
        "mark_price": mark,
        "index_price": index,
        "pnl": pnl,
        "liquidation_threshold": ZERO,
        "return_on_equity": pnl / initial_margin * 100 if initial_margin else ZERO,
        "unrealized_funding": position.unrealized_funding,
        "effective_leverage": ZERO,
        "initial_margin": initial_margin,
        "initial_margin_with_orders": initial_margin,
        "maintenance_margin": maintenance_margin,
        "pnl_currency": inst.settlement_currency,
    }


def ws_ticker_json(t: KrakenFuturesTicker, inst: KrakenFuturesInstrument, time_ms: int) -> Json:
    rest = ticker_json(t, inst)
    return {
        "time": time_ms,
        "product_id": t.symbol,
        "funding_rate": ZERO,
        "funding_rate_prediction": ZERO,
        "relative_funding_rate": ZERO,
        "relative_funding_rate_prediction": ZERO,
        "next_funding_rate_time": (time_ms // 3_600_000 + 1) * 3_600_000,
        "feed": "ticker",
        "bid": t.bid,
        "ask": t.ask,
        "bid_size": t.bid_size,
        "ask_size": t.ask_size,
        "volume": t.vol24h,
        "dtm": 0,
        "leverage": "50x",
        "index": t.index,
        "premium": ((t.mark - t.index) / t.index * 100).quantize(Decimal("0.0001")),
        "last": rest["last"],
        "change": rest["change24h"],
        "suspended": False,
        "tag": "perpetual",
        "pair": f"{inst.base}:{inst.quote}",
        "openInterest": t.open_interest,
        "markPrice": t.mark,
        "maturityTime": 0,
        "post_only": False,
        "volumeQuote": t.volume_quote,
        "open": t.open24h,
        "high": t.high24h,
        "low": t.low24h,
    }


def ws_balances_json(
    account: KrakenFuturesAccount,
    flex: KrakenMarginSummary,
    inverse: KrakenMarginSummary,
    usd_price: dict[str, Decimal],
) -> Json:
    """The body of a balances(_snapshot) message (without feed/account/seq/timestamp)."""
    currencies: Json = {}
    for code, qty in sorted(account.flex.items()):
        value = qty * usd_price.get(code, ZERO)
        currencies[code] = {
            "quantity": qty,
            "value": value,
            "collateral_value": value,
            "available": qty,
            "haircut": ZERO,
            "conversion_spread": ZERO,
        }
    return {
        "holding": {c.upper(): q for c, q in sorted(account.cash.items())},
        "futures": {
            "F-XBT:USD": {
                "name": "F-XBT:USD",
                "pair": "XBT/USD",
                "unit": "XBT",
                "portfolio_value": inverse.portfolio_value,
                "balance": inverse.balance_value,
                "maintenance_margin": inverse.maintenance_margin,
                "initial_margin": inverse.initial_margin,
                "available": inverse.available_margin,
                "unrealized_funding": ZERO,
                "pnl": inverse.pnl,
            }
        },
        "flex_futures": {
            "currencies": currencies,
            "balance_value": flex.balance_value,
            "portfolio_value": flex.portfolio_value,
            "collateral_value": flex.balance_value,
            "initial_margin": flex.initial_margin_with_orders,
            "initial_margin_without_orders": flex.initial_margin,
            "maintenance_margin": flex.maintenance_margin,
            "pnl": flex.pnl,
            "unrealized_funding": ZERO,
            "total_unrealized": flex.pnl,
            "total_unrealized_as_margin": flex.pnl,
            "margin_equity": flex.portfolio_value,
            "available_margin": flex.available_margin,
            "isolated": {},
            "cross": {
                "balance_value": flex.balance_value,
                "portfolio_value": flex.portfolio_value,
                "collateral_value": flex.balance_value,
                "initial_margin": flex.initial_margin_with_orders,
                "initial_margin_without_orders": flex.initial_margin,
                "maintenance_margin": flex.maintenance_margin,
                "pnl": flex.pnl,
                "unrealized_funding": ZERO,
                "total_unrealized": flex.pnl,
                "total_unrealized_as_margin": flex.pnl,
                "margin_equity": flex.portfolio_value,
                "available_margin": flex.available_margin,
                "effective_leverage": ZERO,
            },
        },
    }
