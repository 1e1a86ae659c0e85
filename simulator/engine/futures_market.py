"""Synthetic futures market: a seeded random-walk index per underlying and the maker's ladder.

Pure arithmetic; the futures engine owns the state and applies the ladder to its books.
"""

from __future__ import annotations

import random
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.model import Side

INDEX_QUANTUM = Decimal("0.01")
STEP_VOLATILITY = Decimal("0.0005")  # max relative index move per step
LADDER_LEVELS = 10
LEVEL_SPACING = Decimal("0.0002")  # relative distance between ladder levels


def walk(index: Decimal, rng: random.Random) -> Decimal:
    """One random-walk step of an index price (never below one cent)."""
    # randint keeps the draw integral, so no float enters the price.
    move = Decimal(rng.randint(-1000, 1000)) / 1000 * STEP_VOLATILITY
    return max(INDEX_QUANTUM, (index * (1 + move)).quantize(INDEX_QUANTUM))


def round_to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    steps = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return steps * tick


def ladder_prices(inst: KrakenFuturesInstrument, index: Decimal) -> dict[Side, list[Decimal]]:
    """Bid and ask prices of the maker's quotes around `index`, best first, on the tick grid."""
    spacing = max(inst.tick_size, round_to_tick(index * LEVEL_SPACING, inst.tick_size, up=False))
    best_bid = round_to_tick(index - spacing / 2, inst.tick_size, up=False)
    best_ask = round_to_tick(index + spacing / 2, inst.tick_size, up=True)
    if best_ask <= best_bid:
        best_ask = best_bid + inst.tick_size
    bids = [best_bid - i * spacing for i in range(LADDER_LEVELS)]
    asks = [best_ask + i * spacing for i in range(LADDER_LEVELS)]
    return {Side.BUY: [p for p in bids if p > 0], Side.SELL: asks}


def level_size(inst: KrakenFuturesInstrument, rng: random.Random) -> Decimal:
    """Quantity the maker shows at a new level: 1-20 impact sizes, on the size grid."""
    raw = inst.impact_mid_size * rng.randint(1, 20)
    return max(inst.size_step, (raw / inst.size_step).to_integral_value() * inst.size_step)
