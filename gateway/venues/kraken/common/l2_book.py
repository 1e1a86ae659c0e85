"""A Kraken L2 book replica for one symbol: apply snapshot/updates, truncate, verify checksum."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal

from gateway.venues.kraken.common.book_checksum import checksum_of_texts, checksum_text


class KrakenBookChecksumMismatch(Exception):
    """The replica disagrees with Kraken's checksum: this symbol must resync (only this one)."""

    def __init__(self, symbol: str, expected: int, computed: int) -> None:
        super().__init__(f"book checksum mismatch on {symbol}: venue {expected}, local {computed}")
        self.symbol = symbol
        self.expected = expected
        self.computed = computed


class _Side:
    """Price levels of one side; `keys` sorted ascending by the side's priority key."""

    __slots__ = ("_descending", "keys", "levels")

    def __init__(self, descending: bool) -> None:
        self._descending = descending
        self.keys: list[Decimal] = []  # bids stored negated so both sides sort ascending
        self.levels: dict[Decimal, tuple[Decimal, str, str]] = {}

    def _key(self, price: Decimal) -> Decimal:
        return -price if self._descending else price

    def clear(self) -> None:
        self.keys.clear()
        self.levels.clear()

    def apply(self, price: Decimal, qty: Decimal, pdec: int, qdec: int) -> None:
        key = self._key(price)
        if qty == 0:
            if self.levels.pop(key, None) is not None:
                del self.keys[bisect_left(self.keys, key)]
            return
        if key not in self.levels:
            insort(self.keys, key)
        # Pre-format once per change so verification costs only a join + crc32 per message.
        self.levels[key] = (qty, checksum_text(price, pdec), checksum_text(qty, qdec))

    def truncate(self, depth: int) -> None:
        for key in self.keys[depth:]:
            del self.levels[key]
        del self.keys[depth:]

    def top(self, n: int) -> list[tuple[Decimal, Decimal]]:
        sign = -1 if self._descending else 1
        return [(sign * k, self.levels[k][0]) for k in self.keys[:n]]

    def texts(self, n: int) -> list[tuple[str, str]]:
        return [(self.levels[k][1], self.levels[k][2]) for k in self.keys[:n]]


class KrakenL2Book:
    """Book of one symbol at a subscribed depth, with the pair's price/qty precision."""

    __slots__ = ("_asks", "_bids", "depth", "price_decimals", "qty_decimals", "symbol")

    def __init__(self, symbol: str, depth: int, price_decimals: int, qty_decimals: int) -> None:
        self.symbol = symbol
        self.depth = depth
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self._asks = _Side(descending=False)
        self._bids = _Side(descending=True)

    def apply(
        self,
        asks: Iterable[tuple[Decimal, Decimal]],
        bids: Iterable[tuple[Decimal, Decimal]],
        *,
        snapshot: bool,
        checksum: int | None,
    ) -> None:
        """Apply one message in wire order, truncate to depth, then verify `checksum` if given.

        Raises KrakenBookChecksumMismatch; the caller resubscribes this symbol.
        """
        if snapshot:
            self._asks.clear()
            self._bids.clear()
        pdec, qdec = self.price_decimals, self.qty_decimals
        for price, qty in asks:
            self._asks.apply(price, qty, pdec, qdec)
        for price, qty in bids:
            self._bids.apply(price, qty, pdec, qdec)
        self._asks.truncate(self.depth)
        self._bids.truncate(self.depth)
        if checksum is not None:
            computed = self.checksum()
            if computed != checksum:
                raise KrakenBookChecksumMismatch(self.symbol, checksum, computed)

    def checksum(self) -> int:
        return checksum_of_texts(self._asks.texts(10), self._bids.texts(10))

    def asks(self, n: int | None = None) -> list[tuple[Decimal, Decimal]]:
        return self._asks.top(n if n is not None else self.depth)

    def bids(self, n: int | None = None) -> list[tuple[Decimal, Decimal]]:
        return self._bids.top(n if n is not None else self.depth)
