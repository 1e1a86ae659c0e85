"""Kraken Futures public endpoints (wire 8.5): instruments, tickers, orderbook, history, and
the public market history `GET /api/history/v2/market/{symbol}/executions`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from simulator.engine.futures_engine import KrakenFuturesEngine, KrakenFuturesRequestError
from simulator.engine.futures_market_state import KrakenPublicExecution
from simulator.futures.params import parse_count
from simulator.futures.rest_format import (
    Json,
    history_order_json,
    instrument_json,
    iso_ms,
    ticker_json,
)

PublicHandler = Callable[[KrakenFuturesEngine, Mapping[str, str], str], Json]


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


def fee_schedules(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    """One schedule per `feeScheduleUid` of the listed instruments; fees are in percent."""
    schedules: dict[str, Json] = {}
    for inst in engine.instruments:
        schedules.setdefault(
            inst.fee_schedule_uid,
            {
                "uid": inst.fee_schedule_uid,
                "name": "Inverse Futures Fees" if inst.inverse else "MTF Linear Rebate Fees",
                "tiers": [
                    {
                        "makerFee": inst.maker_fee * 100,
                        "takerFee": inst.taker_fee * 100,
                        "usdVolume": Decimal(0),
                    }
                ],
            },
        )
    return {"feeSchedules": list(schedules.values())}


PUBLIC_ENDPOINTS: dict[str, PublicHandler] = {
    "instruments": instruments,
    "tickers": tickers,
    "orderbook": orderbook,
    "history": history,
    "feeschedules": fee_schedules,
}


def public_handler(endpoint: str) -> PublicHandler | None:
    if endpoint.startswith("tickers/"):
        return ticker
    return PUBLIC_ENDPOINTS.get(endpoint)


def paging(params: Mapping[str, str], name: str, default: int) -> int:
    """A paging parameter, or `invalidArgument`."""
    value = parse_count(params.get(name), default)
    if value is None:
        raise KrakenFuturesRequestError("invalidArgument")
    return value


def execution_element(execution: KrakenPublicExecution, *, public: bool = True) -> Json:
    """One `Execution` element of the history API (public: no account or client ids)."""
    return {
        "uid": execution.uid,
        "timestamp": execution.time_ms,
        "event": {
            "Execution": {
                "execution": {
                    "uid": execution.uid,
                    "makerOrder": history_order_json(execution.maker, public=public),
                    "takerOrder": history_order_json(execution.taker, public=public),
                    "timestamp": execution.time_ms,
                    "quantity": str(execution.qty),
                    "price": str(execution.price),
                    "markPrice": str(execution.mark),
                    "limitFilled": execution.limit_filled,
                    "usdValue": str(execution.usd_value),
                },
                "takerReducedQuantity": "",
            }
        },
    }


def market_executions(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    """`market/{symbol}/executions`: `since`/`before` (ms), `sort` asc|desc, `count`."""
    symbol = path.split("/")[1]
    since = paging(params, "since", 0)
    before = paging(params, "before", 2**63)
    rows = [e for e in engine.public_executions(symbol) if since <= e.time_ms < before]
    sort = params.get("sort", "desc").lower()
    if sort not in ("asc", "desc"):
        raise KrakenFuturesRequestError("invalidArgument")
    if sort == "desc":
        rows.reverse()
    rows = rows[: paging(params, "count", 1000)]
    return {"elements": [execution_element(e) for e in rows], "len": len(rows)}


def market_orders(engine: KrakenFuturesEngine, params: Mapping[str, str], path: str) -> Json:
    """`market/{symbol}/orders`: public order events are not simulated (always empty)."""
    engine.instrument(path.split("/")[1])
    return {"elements": [], "len": 0}


def public_history_handler(endpoint: str) -> PublicHandler | None:
    parts = endpoint.split("/")
    if len(parts) != 3 or parts[0] != "market":
        return None
    return {"executions": market_executions, "orders": market_orders}.get(parts[2])
