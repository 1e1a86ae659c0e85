"""Kraken Futures public endpoints (wire 8.5): instruments, tickers, orderbook, history."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simulator.engine.futures_engine import KrakenFuturesEngine, KrakenFuturesRequestError
from simulator.futures_wire import Json, instrument_json, iso_ms, ticker_json


def instruments(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    return {"instruments": [instrument_json(i) for i in engine.instruments]}


def tickers(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    return {
        "tickers": [ticker_json(engine.ticker(i.symbol), i) for i in engine.instruments],
    }


def ticker(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    inst = engine.instrument(path.rsplit("/", 1)[-1])
    return {"ticker": ticker_json(engine.ticker(inst.symbol), inst)}


def _symbol(params: Mapping[str, str]) -> str:
    symbol = params.get("symbol")
    if not symbol:
        raise KrakenFuturesRequestError("requiredArgumentMissing")
    return symbol


def orderbook(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    bids, asks, _ = engine.book_levels(_symbol(params))
    return {
        "orderBook": {
            "bids": [[price, qty] for price, qty in bids],
            "asks": [[price, qty] for price, qty in asks],
        }
    }


def history(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    """Recent public trades, newest first (`GET /history?symbol=`)."""
    return {
        "history": [
            {
                "time": iso_ms(t.time_ms),
                "trade_id": t.seq,
                "price": t.price,
                "size": t.qty,
                "side": t.side.value,
                "type": "fill",
                "uid": t.uid,
            }
            for t in engine.recent_trades(_symbol(params))
        ]
    }


PUBLIC_ENDPOINTS: dict[str, Callable[[KrakenFuturesEngine, Mapping[str, str], str], Json]] = {
    "instruments": instruments,
    "tickers": tickers,
    "orderbook": orderbook,
    "history": history,
}


def public_handler(
    endpoint: str,
) -> Callable[[KrakenFuturesEngine, Mapping[str, str], str], Json] | None:
    if endpoint.startswith("tickers/"):
        return ticker
    return PUBLIC_ENDPOINTS.get(endpoint)
