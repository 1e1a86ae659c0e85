"""Spot REST public market data (wire 4): Ticker, Depth, Trades, OHLC, Spread, from the engine.

Number formats follow the recorded responses: prices with at least 5 decimals
(`"105944.30000"`), volumes with the pair's lot decimals, times as integer or float seconds.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from simulator.context import SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.events import PublicTradeEvent
from simulator.engine.model import Side
from simulator.engine.pairs import KrakenPair
from simulator.engine.spot import SpotEngine
from simulator.spot.params import Params, get_str, int_param, invalid
from simulator.spot.rest_public import requested_pairs

ZERO = Decimal(0)
OHLC_INTERVALS = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})
MAX_OHLC = 720


def _px(value: Decimal | None, pair: KrakenPair) -> str:
    return f"{(value or ZERO):.{max(pair.pair_decimals, 5)}f}"


def _vol(value: Decimal, pair: KrakenPair) -> str:
    return f"{value:.{pair.lot_decimals}f}"


def _single_pair(ctx: SimContext, params: Params) -> KrakenPair:
    pairs = requested_pairs(ctx, params, required=True)
    if len(pairs) != 1:
        raise invalid("pair")
    return pairs[0]


def _best(engine: SpotEngine, pair: KrakenPair, side: Side) -> tuple[Decimal, Decimal]:
    levels = engine.book_levels(pair.id, side, 1)
    return levels[0] if levels else (ZERO, ZERO)


def _ticker_entry(engine: SpotEngine, pair: KrakenPair) -> dict[str, Any]:
    stats = engine.stats[pair.id]
    ask, ask_qty = _best(engine, pair, Side.SELL)
    bid, bid_qty = _best(engine, pair, Side.BUY)
    last = stats.last_price or engine.reference_price(pair.id)
    volume, vwap = _vol(stats.volume, pair), _px(stats.vwap, pair)
    low, high = _px(stats.low or last, pair), _px(stats.high or last, pair)

    def quote(price: Decimal, qty: Decimal) -> list[str]:
        whole = qty.to_integral_value(rounding=ROUND_FLOOR)
        return [_px(price, pair), str(max(whole, Decimal(1))), f"{qty:.3f}"]

    # The engine keeps one running window, so "today" and "last 24 hours" coincide.
    return {
        "a": quote(ask, ask_qty),
        "b": quote(bid, bid_qty),
        "c": [_px(last, pair), _vol(stats.last_qty, pair)],
        "v": [volume, volume],
        "p": [vwap, vwap],
        "t": [stats.trades, stats.trades],
        "l": [low, low],
        "h": [high, high],
        "o": _px(stats.open or last, pair),
    }


def _ticker(ctx: SimContext, params: Params) -> dict[str, Any]:
    engine = ctx.spot()
    return {p.id: _ticker_entry(engine, p) for p in requested_pairs(ctx, params)}


def _depth(ctx: SimContext, params: Params) -> dict[str, Any]:
    pair = _single_pair(ctx, params)
    count = int_param(params, "count", 100)
    if not 1 <= count <= 500:
        raise invalid("count")
    engine = ctx.spot()
    now = int(ctx.now())

    def side(which: Side) -> list[list[Any]]:
        return [
            [_px(p, pair), _vol(q, pair), now] for p, q in engine.book_levels(pair.id, which, count)
        ]

    return {pair.id: {"asks": side(Side.SELL), "bids": side(Side.BUY)}}


def _nanos(time: Decimal) -> int:
    return int(time * 1_000_000_000)


def _trade_row(trade: PublicTradeEvent, pair: KrakenPair) -> list[Any]:
    return [
        _px(trade.price, pair),
        _vol(trade.qty, pair),
        float(trade.time),
        "b" if trade.side is Side.BUY else "s",
        "m" if trade.ordertype == "market" else "l",
        "",
        trade.trade_id,
    ]


def _trades(ctx: SimContext, params: Params) -> dict[str, Any]:
    pair = _single_pair(ctx, params)
    count = int_param(params, "count", 1000)
    if not 1 <= count <= 1000:
        raise invalid("count")
    since = _since(params)
    trades = [t for t in ctx.spot().recent_trades(pair.id) if _nanos(t.time) > since][:count]
    last = _nanos(trades[-1].time) if trades else since
    return {pair.id: [_trade_row(t, pair) for t in trades], "last": str(last)}


def _since(params: Params) -> int:
    since = get_str(params, "since")
    if since is None:
        return 0
    try:
        value = Decimal(since)
    except ArithmeticError:
        raise invalid("since") from None
    # Clients send either seconds or Kraken's nanosecond cursor from a previous `last`.
    return int(value * 1_000_000_000) if value < 10**12 else int(value)


def _ohlc(ctx: SimContext, params: Params) -> dict[str, Any]:
    pair = _single_pair(ctx, params)
    interval = int_param(params, "interval", 1)
    if interval not in OHLC_INTERVALS:
        raise invalid("interval")
    width = interval * 60
    engine = ctx.spot()
    buckets: dict[int, list[PublicTradeEvent]] = {}
    for trade in engine.recent_trades(pair.id):
        buckets.setdefault(int(trade.time) // width * width, []).append(trade)
    now_bucket = int(ctx.now()) // width * width
    if now_bucket not in buckets:
        buckets[now_bucket] = []  # the open candle always exists
    since = int_param(params, "since", 0)
    rows: list[list[Any]] = []
    last_close = engine.last_price(pair.id)
    for start in sorted(buckets)[-MAX_OHLC:]:
        trades = buckets[start]
        if trades:
            prices = [t.price for t in trades]
            volume = sum((t.qty for t in trades), ZERO)
            vwap = sum((t.price * t.qty for t in trades), ZERO) / volume if volume else ZERO
            o, h, low, c = prices[0], max(prices), min(prices), prices[-1]
            last_close = c
        else:
            o = h = low = c = last_close
            volume, vwap = ZERO, ZERO
        if start > since:
            dp = pair.pair_decimals
            rows.append(
                [start, f"{o:.{dp}f}", f"{h:.{dp}f}", f"{low:.{dp}f}", f"{c:.{dp}f}",
                 f"{vwap:.{dp}f}", _vol(volume, pair), len(trades)]
            )  # fmt: skip
    last = rows[-1][0] if rows else now_bucket
    return {pair.id: rows, "last": last}


def _spread(ctx: SimContext, params: Params) -> dict[str, Any]:
    pair = _single_pair(ctx, params)
    engine = ctx.spot()
    bid, _ = _best(engine, pair, Side.BUY)
    ask, _ = _best(engine, pair, Side.SELL)
    now = int(ctx.now())
    if bid == 0 and ask == 0:
        raise KrakenError("EService:Unavailable")
    return {pair.id: [[now, _px(bid, pair), _px(ask, pair)]], "last": now}


MARKET_METHODS: dict[str, Any] = {
    "Ticker": _ticker,
    "Depth": _depth,
    "Trades": _trades,
    "OHLC": _ohlc,
    "Spread": _spread,
}
