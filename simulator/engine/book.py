"""A price-time priority order book, generic over what rests in it (spot orders, futures orders).

Prices live in one ascending list per side (bisect: O(log n) lookup, insertion moves a small
array); each level keeps its resting entries in arrival order (a dict, so removal is O(1)) and the
aggregated visible quantity, which is what public book feeds publish.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

from simulator.engine.model import Side

T = TypeVar("T")
ZERO = Decimal(0)


@dataclass(slots=True)
class _Entry(Generic[T]):
    side: Side
    price: Decimal
    qty: Decimal  # visible quantity
    item: T


@dataclass(slots=True)
class _Level(Generic[T]):
    qty: Decimal = ZERO
    entries: dict[str, _Entry[T]] = field(default_factory=dict)


class OrderBook(Generic[T]):
    """Resting entries keyed by id; `add`/`remove`/`set_qty` return the level's new visible qty."""

    def __init__(self) -> None:
        self._levels: dict[Side, dict[Decimal, _Level[T]]] = {Side.BUY: {}, Side.SELL: {}}
        self._prices: dict[Side, list[Decimal]] = {Side.BUY: [], Side.SELL: []}
        self._entries: dict[str, _Entry[T]] = {}

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry_id: str, side: Side, price: Decimal, qty: Decimal, item: T) -> Decimal:
        """Queue an entry at the back of its price level."""
        if entry_id in self._entries:
            raise KeyError(f"{entry_id} already in book")
        levels = self._levels[side]
        level = levels.get(price)
        if level is None:
            level = levels[price] = _Level()
            insort(self._prices[side], price)
        entry = _Entry(side, price, qty, item)
        level.entries[entry_id] = entry
        level.qty += qty
        self._entries[entry_id] = entry
        return level.qty

    def remove(self, entry_id: str) -> Decimal:
        """Take an entry out; returns the level's remaining visible qty (0 = level gone)."""
        entry = self._entries.pop(entry_id)
        levels = self._levels[entry.side]
        level = levels[entry.price]
        del level.entries[entry_id]
        level.qty -= entry.qty
        if not level.entries:
            del levels[entry.price]
            prices = self._prices[entry.side]
            del prices[bisect_left(prices, entry.price)]
            return ZERO
        return level.qty

    def set_qty(self, entry_id: str, qty: Decimal) -> Decimal:
        """Change an entry's visible qty in place, keeping its queue position."""
        entry = self._entries[entry_id]
        level = self._levels[entry.side][entry.price]
        level.qty += qty - entry.qty
        entry.qty = qty
        return level.qty

    def requeue(self, entry_id: str, qty: Decimal) -> Decimal:
        """Move an entry to the back of its level with a new visible qty (iceberg refill)."""
        entry = self._entries[entry_id]
        self.remove(entry_id)
        return self.add(entry_id, entry.side, entry.price, qty, entry.item)

    def qty_of(self, entry_id: str) -> Decimal:
        return self._entries[entry_id].qty

    def best_price(self, side: Side) -> Decimal | None:
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side is Side.BUY else prices[0]

    def level_qty(self, side: Side, price: Decimal) -> Decimal:
        level = self._levels[side].get(price)
        return level.qty if level else ZERO

    def prices(self, side: Side) -> Iterator[Decimal]:
        """Level prices best first."""
        prices = self._prices[side]
        return reversed(prices) if side is Side.BUY else iter(prices)

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Aggregated `(price, visible qty)` best first, at most `depth` levels."""
        out: list[tuple[Decimal, Decimal]] = []
        levels = self._levels[side]
        for price in self.prices(side):
            if depth is not None and len(out) >= depth:
                break
            out.append((price, levels[price].qty))
        return out

    def items_at(self, side: Side, price: Decimal) -> list[T]:
        """Entries at one level in time priority (a copy: safe to mutate the book meanwhile)."""
        level = self._levels[side].get(price)
        return [e.item for e in level.entries.values()] if level else []

    def first_at(self, side: Side, price: Decimal) -> tuple[str, T] | None:
        """The entry with time priority at a level."""
        level = self._levels[side].get(price)
        if not level:
            return None
        entry_id, entry = next(iter(level.entries.items()))
        return entry_id, entry.item

    def items(self) -> Iterator[T]:
        return (e.item for e in self._entries.values())
