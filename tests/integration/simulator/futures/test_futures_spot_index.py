"""The perpetuals' index follows the spot simulator's reference price of the same pair."""

from __future__ import annotations

import json
from decimal import Decimal

from simulator.app import SimulatorServer

from .conftest import FuturesRest

V3 = "/derivatives/api/v3/"


async def tickers(rest: FuturesRest) -> dict[str, dict[str, Decimal]]:
    body = json.loads((await rest.http.get(V3 + "tickers")).text, parse_float=Decimal)
    return {t["symbol"]: t for t in body["tickers"]}


async def test_index_and_book_follow_the_spot_reference(
    sim: SimulatorServer, rest: FuturesRest
) -> None:
    spot = sim.ctx.engine
    assert spot is not None
    start = await tickers(rest)
    assert start["PI_XBTUSD"]["indexPrice"] == spot.reference["XXBTZUSD"]
    assert start["PF_ETHUSD"]["indexPrice"] == spot.reference["XETHZUSD"]
    spot.publish_reference("XXBTZUSD", Decimal("101234.5"))
    moved = await tickers(rest)
    for symbol in ("PI_XBTUSD", "PF_XBTUSD"):
        assert moved[symbol]["indexPrice"] == Decimal("101234.5")
        assert moved[symbol]["bid"] < Decimal("101234.5") < moved[symbol]["ask"]
    assert moved["PF_ETHUSD"]["indexPrice"] == start["PF_ETHUSD"]["indexPrice"]
