"""Request builders shared by the engine tests."""

from __future__ import annotations

from simulator.engine import OrderParams, OrderType, Side


def limit(side: Side, volume: str, price: str, pair: str = "XBTUSD", **kw: object) -> OrderParams:
    return OrderParams(pair, side, OrderType.LIMIT, volume, price, **kw)  # type: ignore[arg-type]


def market(side: Side, volume: str, pair: str = "XBTUSD", **kw: object) -> OrderParams:
    return OrderParams(pair, side, OrderType.MARKET, volume, **kw)  # type: ignore[arg-type]
