"""The `book` channel's per-(symbol, depth) view: snapshot, incremental updates and checksum.

Kraken's contract with a client (wire 6.3): apply the changed levels of a message in order,
`qty: 0` deletes, then truncate each side to the subscribed depth; levels pushed out of the
depth window get no delete. Within a side, a message lists the deletes first, then the new and
changed levels best first: a client that truncates after every level rather than once per
message (python-kraken-sdk's SpotOrderBookClient does) then never trims a level it still needs,
since whatever exceeds the depth mid-message is a level pushed out for good. A view remembers
the levels last published and turns the live book into exactly that diff, so a client following
the rules always holds the view, and the checksum (over the view's top 10) matches its book
after every message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from simulator.spot.book_checksum import Level, crc32_of_side_texts, l2_side_text

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
ZERO = Decimal(0)

# (side, price) -> qty resting in the full book, ZERO if no level at that price.
LevelLookup = Callable[[str, Decimal], Decimal]


@dataclass(frozen=True, slots=True)
class BookDiff:
    """One update message's content: changed levels per side and the resulting checksum."""

    asks: list[Level]
    bids: list[Level]
    checksum: int


class L2View:
    """The top `depth` levels of one symbol as last published to its subscribers."""

    def __init__(self, depth: int, price_decimals: int, qty_decimals: int) -> None:
        self.depth = depth
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self.asks: list[Level] = []  # ascending
        self.bids: list[Level] = []  # descending
        self._asks_text = ""
        self._bids_text = ""

    def checksum(self) -> int:
        return crc32_of_side_texts(self._asks_text, self._bids_text)

    def reset(self, asks: Sequence[Level], bids: Sequence[Level]) -> int:
        """Take the live top levels as the new published state (a snapshot); its checksum."""
        self._set(list(asks[: self.depth]), list(bids[: self.depth]), True, True)
        return self.checksum()

    def _set(
        self, asks: list[Level], bids: list[Level], asks_moved: bool, bids_moved: bool
    ) -> None:
        # Each side's checksum text is rebuilt only when that side changed.
        self.asks, self.bids = asks, bids
        if asks_moved:
            self._asks_text = l2_side_text(asks, self.price_decimals, self.qty_decimals)
        if bids_moved:
            self._bids_text = l2_side_text(bids, self.price_decimals, self.qty_decimals)

    def advance(
        self, asks: Sequence[Level], bids: Sequence[Level], lookup: LevelLookup
    ) -> BookDiff | None:
        """Move to the live top levels; the update that takes a client along, None if none.

        `asks`/`bids` are the live book's best levels (at least `depth` of them when the book
        has that many); `lookup` tells a level that left the book from one pushed out of view.
        """
        new_asks = list(asks[: self.depth])
        new_bids = list(bids[: self.depth])
        ask_changes = _side_diff(self.asks, new_asks, lambda p: lookup("ask", p))
        bid_changes = _side_diff(self.bids, new_bids, lambda p: lookup("bid", p))
        self._set(new_asks, new_bids, new_asks != self.asks, new_bids != self.bids)
        if not ask_changes and not bid_changes:
            return None
        # Deletes (qty 0) first, then best price first: see the module docstring.
        ask_changes.sort(key=lambda level: (level[1] != ZERO, level[0]))
        bid_changes.sort(key=lambda level: (level[1] != ZERO, -level[0]))
        return BookDiff(ask_changes, bid_changes, self.checksum())


def _side_diff(
    old: list[Level], new: list[Level], qty_in_book: Callable[[Decimal], Decimal]
) -> list[Level]:
    if old == new:
        return []
    old_qty = dict(old)
    new_qty = dict(new)
    changes = [(price, qty) for price, qty in new if old_qty.get(price) != qty]
    for price in old_qty.keys() - new_qty.keys():
        # Still resting beyond the window: the client's truncation drops it, no message.
        if qty_in_book(price) == ZERO:
            changes.append((price, ZERO))
    return changes
