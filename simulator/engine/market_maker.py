"""The synthetic market: a seeded random-walk reference price per pair and a market maker that
quotes several levels on both sides around it, so market orders fill and books keep moving.

The maker is an ordinary (fee-exempt) account trading through the engine's public API, so its
balances take part in the accounting like everyone else's. Its walk uses integer tick steps
drawn from `random.Random(seed)`: same seed and same clock => same prices.
"""

from __future__ import annotations

import random
from contextlib import suppress
from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.engine.errors import KrakenError
from simulator.engine.model import OrderParams, OrderType, Side, StpType
from simulator.engine.pairs import KrakenPair
from simulator.engine.parsing import round_to_tick

if TYPE_CHECKING:
    from simulator.engine.spot import SpotEngine

STEP_FRACTION = Decimal("0.0002")  # one random-walk step ~ 2 bps
SPACING_FRACTION = Decimal("0.0005")  # distance between quote levels ~ 5 bps
MAX_STEPS_PER_TICK = 60
INVENTORY_LEVELS = 100_000  # starting inventory, in multiples of one full side of quotes


class MarketMaker:
    """Keeps `levels` quotes per side on every pair of the engine."""

    def __init__(
        self,
        engine: SpotEngine,
        account_id: str,
        seed: int,
        levels: int,
        interval: Decimal,
        flow_account_id: str | None = None,
        flow_pct: int = 0,
    ) -> None:
        self.engine = engine
        self.account_id = account_id
        self.levels = levels
        self.interval = interval
        # Optional noise taker: with probability flow_pct % per pair and interval it sends a
        # small market order, so trade feeds, tickers and last-price triggers see activity.
        self.flow_account_id = flow_account_id
        self.flow_pct = flow_pct
        self._rng = random.Random(f"walk:{seed}")
        self._flow_rng = random.Random(f"flow:{seed}")
        self._quotes: dict[str, list[str]] = {}
        self._last_walk: Decimal | None = None

    def start(self) -> None:
        """Fund the maker generously and put up the first quotes at the pairs' start prices."""
        engine = self.engine
        funding: dict[str, Decimal] = {}
        for pair in engine.directory.pairs.values():
            side_qty = pair.mm_level_qty * self.levels * INVENTORY_LEVELS
            funding[pair.base] = funding.get(pair.base, Decimal(0)) + side_qty
            notional = side_qty * pair.start_price * 2
            funding[pair.quote] = funding.get(pair.quote, Decimal(0)) + notional
        for asset in sorted(funding):
            engine.deposit(self.account_id, asset, funding[asset])
            if self.flow_account_id is not None:
                engine.deposit(self.flow_account_id, asset, funding[asset])
        for pair_id in sorted(engine.directory.pairs):
            self.requote(engine.directory.pairs[pair_id])
        self._last_walk = engine.clock.now()

    def on_tick(self, now: Decimal) -> None:
        """Walk every reference price once per elapsed interval, then requote."""
        if self._last_walk is None or now < self._last_walk + self.interval:
            return
        steps = min(int((now - self._last_walk) / self.interval), MAX_STEPS_PER_TICK)
        self._last_walk = now
        for pair_id in sorted(self.engine.directory.pairs):
            pair = self.engine.directory.pairs[pair_id]
            price = self.engine.reference[pair_id]
            for _ in range(steps):
                price = self._step(price, pair)
            self.engine.publish_reference(pair_id, price)
            self.requote(pair)
            self._maybe_trade(pair)

    def _maybe_trade(self, pair: KrakenPair) -> None:
        if self.flow_account_id is None or self._flow_rng.randint(1, 100) > self.flow_pct:
            return
        side = self._flow_rng.choice((Side.BUY, Side.SELL))
        qty = (pair.mm_level_qty * self._flow_rng.randint(1, 5) / 10).quantize(pair.lot_unit)
        params = OrderParams(pair.id, side, OrderType.MARKET, max(qty, pair.ordermin))
        with suppress(KrakenError):  # inventory exhausted on that side: skip this print
            self.engine.add_order(self.flow_account_id, params)

    def _step(self, price: Decimal, pair: KrakenPair) -> Decimal:
        unit = max(pair.tick_size, round_to_tick(price * STEP_FRACTION, pair))
        moved = price + unit * self._rng.randint(-2, 2)
        return max(moved, pair.tick_size * 10)

    def requote(self, pair: KrakenPair) -> None:
        """Move the maker's quotes on `pair` to the levels around the reference price.

        Quotes already at a wanted level and untouched stay (keeping their queue position and
        sparing the feeds); the rest are cancelled and the missing levels placed.
        """
        engine = self.engine
        reference = engine.reference[pair.id]
        spacing = max(pair.tick_size, round_to_tick(reference * SPACING_FRACTION, pair))
        wanted: list[tuple[Side, Decimal]] = []
        for level in range(1, self.levels + 1):
            for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                price = reference + sign * spacing * level
                if price > 0:
                    wanted.append((side, price))
        kept: list[str] = []
        for txid in self._quotes.get(pair.id, []):
            order = engine.open_order(self.account_id, txid)
            if order is None:
                continue
            key = (order.side, order.price)
            if key in wanted and order.vol_exec == 0:
                wanted.remove(key)
                kept.append(txid)
            else:
                engine.cancel_order(self.account_id, txid)
        for side, price in wanted:
            params = OrderParams(
                pair=pair.id,
                side=side,
                ordertype=OrderType.LIMIT,
                volume=pair.mm_level_qty,
                price=price,
                stptype=StpType.CANCEL_OLDEST,
            )
            try:
                result = engine.add_order(self.account_id, params)
            except KrakenError:
                continue  # e.g. inventory exhausted on one side: quote the other
            if result.txid is not None and result.order is not None and result.order.is_open:
                kept.append(result.txid)
        self._quotes[pair.id] = kept
