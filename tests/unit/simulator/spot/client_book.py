"""A client-side Kraken WS v2 L2 book that follows the documented rules (wire 6.3, 7.1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.spot.book_checksum import l2_checksum


class ClientBook:
    """Apply levels in order, `qty == 0` deletes, then truncate to the subscribed depth.

    `trim_each_level` truncates after every level instead of once per message, as
    python-kraken-sdk's SpotOrderBookClient does: the server must send a message's deletes
    before the inserts that would otherwise push a still-wanted level out of such a client.
    """

    def __init__(
        self, depth: int, price_decimals: int, qty_decimals: int, *, trim_each_level: bool = False
    ) -> None:
        self.depth = depth
        self.trim_each_level = trim_each_level
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self.asks: dict[Decimal, Decimal] = {}
        self.bids: dict[Decimal, Decimal] = {}

    def apply(self, data: dict[str, Any], *, snapshot: bool) -> None:
        if snapshot:
            self.asks.clear()
            self.bids.clear()
        for side, levels in ((self.asks, data["asks"]), (self.bids, data["bids"])):
            for level in levels:
                price, qty = Decimal(level["price"]), Decimal(level["qty"])
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
                if self.trim_each_level:
                    self._trim()
        self._trim()

    def _trim(self) -> None:
        for price, _ in self.sorted_asks()[self.depth :]:
            del self.asks[price]
        for price, _ in self.sorted_bids()[self.depth :]:
            del self.bids[price]

    def sorted_asks(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.asks.items())

    def sorted_bids(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.bids.items(), reverse=True)

    def checksum(self) -> int:
        return l2_checksum(
            self.sorted_asks(), self.sorted_bids(), self.price_decimals, self.qty_decimals
        )
