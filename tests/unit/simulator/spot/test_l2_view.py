"""L2View diffs keep a rule-following client book equal to the view, checksum included."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from simulator.spot.ws_book import ZERO, L2View
from tests.unit.simulator.spot.client_book import ClientBook

D = Decimal


class FullBook:
    def __init__(self) -> None:
        self.sides: dict[str, dict[Decimal, Decimal]] = {"ask": {}, "bid": {}}

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.sides["ask"].items())

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.sides["bid"].items(), reverse=True)

    def lookup(self, side: str, price: Decimal) -> Decimal:
        return self.sides[side].get(price, ZERO)


def _as_wire(levels: list[tuple[Decimal, Decimal]]) -> list[dict[str, Decimal]]:
    return [{"price": p, "qty": q} for p, q in levels]


@pytest.mark.parametrize(
    "trim_each_level", [False, True], ids=["trim-per-message", "trim-per-level"]
)
@pytest.mark.parametrize(("seed", "depth"), [(1, 10), (2, 10), (3, 25), (4, 10), (5, 25)])
def test_random_book_walk_client_follows_view(seed: int, depth: int, trim_each_level: bool) -> None:
    rng = random.Random(seed)
    book = FullBook()
    for i in range(depth + 5):
        book.sides["ask"][D(1000 + i) / 10] = D(rng.randint(1, 999)) / 1000
        book.sides["bid"][D(999 - i) / 10] = D(rng.randint(1, 999)) / 1000
    view = L2View(depth, price_decimals=1, qty_decimals=8)
    client = ClientBook(depth, 1, 8, trim_each_level=trim_each_level)
    checksum = view.reset(book.asks(), book.bids())
    client.apply({"asks": _as_wire(view.asks), "bids": _as_wire(view.bids)}, snapshot=True)
    assert client.checksum() == checksum
    updates = 0
    for _ in range(2000):
        for _ in range(rng.randint(1, 4)):
            side = rng.choice(["ask", "bid"])
            # Asks live above 99.95, bids below, so the book never crosses.
            price = D(rng.randint(1000, 1000 + 3 * depth)) / 10
            if side == "bid":
                price = D(1999) / 10 - price
            if rng.random() < 0.4:
                book.sides[side].pop(price, None)
            else:
                book.sides[side][price] = D(rng.randint(1, 99999)) / 10**8
        diff = view.advance(book.asks(), book.bids(), book.lookup)
        if diff is None:
            assert client.sorted_asks() == book.asks()[:depth]
            continue
        updates += 1
        client.apply({"asks": _as_wire(diff.asks), "bids": _as_wire(diff.bids)}, snapshot=False)
        assert client.sorted_asks() == book.asks()[:depth]
        assert client.sorted_bids() == book.bids()[:depth]
        assert client.checksum() == diff.checksum
    assert updates > 1000


def test_level_pushed_out_of_depth_gets_no_delete() -> None:
    book = FullBook()
    for i in range(10):
        book.sides["ask"][D(100 + i)] = D(1)
    view = L2View(10, 1, 8)
    view.reset(book.asks(), book.bids())
    book.sides["ask"][D(99)] = D(2)
    diff = view.advance(book.asks(), book.bids(), book.lookup)
    assert diff is not None
    assert diff.asks == [(D(99), D(2))]
    del book.sides["ask"][D(99)]
    diff = view.advance(book.asks(), book.bids(), book.lookup)
    assert diff is not None
    # The deleted best level goes out with qty 0 and the level back in view comes in.
    assert diff.asks == [(D(99), ZERO), (D(109), D(1))]


def test_deletes_go_out_before_the_inserts_that_replace_them() -> None:
    """A better level arrives as a worse one leaves, in one message: price order would put the
    insert first, and a client trimming after each level would drop level 10 for good."""
    book = FullBook()
    for i in range(10):
        book.sides["ask"][D(100 + i)] = D(1)
        book.sides["bid"][D(90 - i)] = D(1)
    view = L2View(10, 1, 8)
    view.reset(book.asks(), book.bids())
    del book.sides["ask"][D(105)]
    book.sides["ask"][D(99)] = D(3)
    del book.sides["bid"][D(85)]
    book.sides["bid"][D(91)] = D(3)
    diff = view.advance(book.asks(), book.bids(), book.lookup)
    assert diff is not None
    assert diff.asks == [(D(105), ZERO), (D(99), D(3))]
    assert diff.bids == [(D(85), ZERO), (D(91), D(3))]


def test_no_change_no_message() -> None:
    book = FullBook()
    book.sides["bid"][D(5)] = D(1)
    view = L2View(10, 1, 8)
    view.reset(book.asks(), book.bids())
    assert view.advance(book.asks(), book.bids(), book.lookup) is None
