"""Public market state the WS v2 channels publish: last trades, 24h ticker figures, candles.

Fed from the engine's `PublicTradeEvent`s; the order book itself is read from the engine.
Payload builders return the `data` objects of wire 6.3 with Decimal numbers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from simulator.engine.events import PublicTradeEvent
from simulator.engine.pairs import KrakenAsset, KrakenPair
from simulator.spot.ws_wire import rfc3339, rfc3339_nanos

OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
TRADE_SNAPSHOT_SIZE = 50
CANDLES_KEPT = 50
DAY_S = Decimal(86400)
ZERO = Decimal(0)


def to_datetime(unix: Decimal) -> datetime:
    return datetime.fromtimestamp(float(unix), tz=UTC).replace(
        microsecond=int((unix % 1) * 1_000_000)
    )


def timestamp(unix: Decimal) -> str:
    return rfc3339(to_datetime(unix))


@dataclass(slots=True)
class Candle:
    begin: Decimal  # unix seconds of interval start
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    cost: Decimal = ZERO
    trades: int = 0

    def add(self, price: Decimal, qty: Decimal) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += qty
        self.cost += price * qty
        self.trades += 1


@dataclass
class PairMarket:
    """Per-pair public state derived from trades."""

    pair: KrakenPair
    last_price: Decimal
    trades: deque[PublicTradeEvent] = field(default_factory=lambda: deque(maxlen=5000))
    candles: dict[int, deque[Candle]] = field(default_factory=dict)

    def on_trade(self, trade: PublicTradeEvent) -> None:
        self.last_price = trade.price
        self.trades.append(trade)
        for interval in OHLC_INTERVALS:
            self.candle_at(interval, trade.time).add(trade.price, trade.qty)

    def candle_at(self, interval: int, now: Decimal) -> Candle:
        """The candle of `interval` minutes containing `now`, opened at the last price if new."""
        width = interval * 60
        begin = now - now % width
        history = self.candles.setdefault(interval, deque(maxlen=CANDLES_KEPT))
        if not history or history[-1].begin != begin:
            price = self.last_price
            history.append(Candle(begin, price, price, price, price))
        return history[-1]

    def recent_trades(self, count: int = TRADE_SNAPSHOT_SIZE) -> list[PublicTradeEvent]:
        return list(self.trades)[-count:]

    def day_trades(self, now: Decimal) -> list[PublicTradeEvent]:
        return [t for t in self.trades if t.time > now - DAY_S]


def trade_data(symbol: str, trade: PublicTradeEvent) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "side": trade.side.value,
        "price": trade.price,
        "qty": trade.qty,
        "ord_type": trade.ordertype,
        "trade_id": trade.trade_id,
        "timestamp": timestamp(trade.time),
    }


def ticker_data(
    market: PairMarket,
    best_bid: tuple[Decimal, Decimal] | None,
    best_ask: tuple[Decimal, Decimal] | None,
    now: Decimal,
) -> dict[str, Any]:
    pair = market.pair
    day = market.day_trades(now)
    last = market.last_price
    volume = sum((t.qty for t in day), ZERO)
    cost = sum((t.price * t.qty for t in day), ZERO)
    first = day[0].price if day else last
    change = last - first
    vwap = (cost / volume).quantize(Decimal(1).scaleb(-pair.pair_decimals)) if volume else last
    change_pct = (change / first * 100).quantize(Decimal("0.01")) if first else ZERO
    return {
        "symbol": pair.ws_symbol,
        "bid": best_bid[0] if best_bid else ZERO,
        "bid_qty": best_bid[1] if best_bid else ZERO,
        "ask": best_ask[0] if best_ask else ZERO,
        "ask_qty": best_ask[1] if best_ask else ZERO,
        "last": last,
        "volume": volume,
        "vwap": vwap,
        "low": min((t.price for t in day), default=last),
        "high": max((t.price for t in day), default=last),
        "change": change,
        "change_pct": change_pct,
        "timestamp": timestamp(now),
    }


def ohlc_data(symbol: str, interval: int, candle: Candle, price_decimals: int) -> dict[str, Any]:
    vwap = candle.cost / candle.volume if candle.volume else candle.close
    return {
        "symbol": symbol,
        "open": candle.open,
        "high": candle.high,
        "low": candle.low,
        "close": candle.close,
        "vwap": vwap.quantize(Decimal(1).scaleb(-price_decimals)),
        "trades": candle.trades,
        "volume": candle.volume,
        "interval_begin": rfc3339_nanos(to_datetime(candle.begin)),
        "interval": interval,
        "timestamp": timestamp(candle.begin + interval * 60),
    }


def asset_data(asset: KrakenAsset) -> dict[str, Any]:
    return {
        "id": asset.ws_name,
        "status": asset.status,
        "precision": asset.decimals,
        "precision_display": asset.display_decimals,
        "borrowable": asset.collateral_value is not None,
        "collateral_value": asset.collateral_value or ZERO,
        "margin_rate": ZERO,
        "multiplier": 1,
    }


def pair_data(pair: KrakenPair, assets: dict[str, KrakenAsset]) -> dict[str, Any]:
    qty_increment = Decimal(1).scaleb(-pair.lot_decimals)
    out: dict[str, Any] = {
        "symbol": pair.ws_symbol,
        "base": assets[pair.base].ws_name,
        "quote": assets[pair.quote].ws_name,
        "status": pair.status,
        "qty_precision": pair.lot_decimals,
        "qty_increment": qty_increment,
        "price_precision": pair.pair_decimals,
        "cost_precision": pair.cost_decimals,
        "marginable": bool(pair.leverage_buy),
        "has_index": pair.has_index,
        "cost_min": pair.costmin,
        "tick_size": pair.tick_size,
        "price_increment": pair.tick_size,
        "qty_min": pair.ordermin,
    }
    if pair.leverage_buy:
        out["margin_initial"] = (Decimal(1) / max(pair.leverage_buy)).quantize(Decimal("0.01"))
    if pair.long_position_limit is not None:
        out["position_limit_long"] = pair.long_position_limit
    if pair.short_position_limit is not None:
        out["position_limit_short"] = pair.short_position_limit
    return out
