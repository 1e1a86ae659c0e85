"""Book checksum vectors of wire 7.3 and the L2 replica."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.venues.kraken.common.book_checksum import (
    checksum_of_texts,
    kraken_book_checksum,
    wire_text_to_checksum_text,
)
from gateway.venues.kraken.common.l2_book import KrakenBookChecksumMismatch, KrakenL2Book

D = Decimal

V1_ASKS = [f"0.{5005 + 5 * i:05d}" for i in range(10)]
V1_BIDS = ["0.05000", "0.04995", "0.04990", "0.04980", "0.04975"]
V1_BIDS += ["0.04970", "0.04965", "0.04960", "0.04955", "0.04950"]
V1_QTY = "0.00000500"

V2_ASKS = [
    ("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
    ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
    ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
    ("45299.5", "0.18772827"),
]  # fmt: skip
V2_BIDS = [
    ("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
    ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
    ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
    ("45276.6", "0.15445238"),
]  # fmt: skip


def test_v1_vector_from_wire_strings() -> None:
    assert V1_ASKS[0] == "0.05005" and V1_ASKS[-1] == "0.05050"
    asks = [(wire_text_to_checksum_text(p), wire_text_to_checksum_text(V1_QTY)) for p in V1_ASKS]
    bids = [(wire_text_to_checksum_text(p), wire_text_to_checksum_text(V1_QTY)) for p in V1_BIDS]
    assert checksum_of_texts(asks, bids) == 974947235


def test_v1_vector_from_decimals() -> None:
    asks = [(D(p), D(V1_QTY)) for p in V1_ASKS]
    bids = [(D(p), D(V1_QTY)) for p in V1_BIDS]
    assert kraken_book_checksum(asks, bids, 5, 8) == 974947235


def test_v2_vector_with_lost_trailing_zeros() -> None:
    # WS v2 sends JSON numbers: 45281.0 arrives as 45281, 0.10000000 as 0.1. Precision restores.
    asks = [(D(p).normalize(), D(q).normalize()) for p, q in V2_ASKS]
    bids = [(D(p).normalize(), D(q).normalize()) for p, q in reversed(V2_BIDS)]
    assert kraken_book_checksum(asks, bids, 1, 8) == 3310070434
    assert kraken_book_checksum(asks, bids, 1, 7) != 3310070434


def _levels(rows: list[tuple[str, str]]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in rows]


def test_l2_book_snapshot_update_and_mismatch() -> None:
    book = KrakenL2Book("BTC/USD", depth=10, price_decimals=1, qty_decimals=8)
    book.apply(_levels(V2_ASKS), _levels(V2_BIDS), snapshot=True, checksum=3310070434)
    assert book.bids(1) == [(D("45283.5"), D("0.1"))]
    assert book.asks(1) == [(D("45285.2"), D("0.001"))]
    # A new best bid pushes the 10th bid out (truncation), then deleting it brings nothing back.
    book.apply([], [(D("45284.0"), D("1"))], snapshot=False, checksum=None)
    assert len(book.bids()) == 10
    assert book.bids()[-1][0] == D("45277.3")
    book.apply([], [(D("45284.0"), D("0"))], snapshot=False, checksum=None)
    assert len(book.bids()) == 9
    expected = book.checksum()
    with pytest.raises(KrakenBookChecksumMismatch) as info:
        book.apply([(D("45285.2"), D("0.002"))], [], snapshot=False, checksum=expected)
    assert info.value.symbol == "BTC/USD"


def test_l2_book_same_level_twice_in_one_message_applies_in_order() -> None:
    book = KrakenL2Book("X/Y", depth=10, price_decimals=1, qty_decimals=8)
    book.apply([(D("10"), D("1")), (D("10"), D("0")), (D("10"), D("2"))], [], snapshot=True,
               checksum=None)  # fmt: skip
    assert book.asks() == [(D("10"), D("2"))]


# WS v2 book channel doc example (MATIC/USD, price_precision 4, qty_precision 8), as the
# JSON numbers arrive: trailing zeros lost (0.566, 18097.1547).
MATIC_BIDS = [
    ("0.5666", "4831.75496356"), ("0.5665", "6658.22734739"), ("0.5664", "18724.91513344"),
    ("0.5663", "11563.92544914"), ("0.5662", "14006.65365711"), ("0.5661", "17454.85679807"),
    ("0.566", "18097.1547"), ("0.5659", "33644.89175666"), ("0.5658", "148.3464"),
    ("0.5657", "606.70854372"),
]  # fmt: skip
MATIC_ASKS = [
    ("0.5668", "4410.79769741"), ("0.5669", "4655.40412487"), ("0.567", "49844.89424998"),
    ("0.5671", "24306.41678"), ("0.5672", "29783.25223475"), ("0.5673", "57234.71239278"),
    ("0.5674", "45065.04744"), ("0.5675", "5912.76380354"), ("0.5676", "42514.92434778"),
    ("0.5677", "36304.0847022"),
]  # fmt: skip


def test_v2_book_channel_doc_examples() -> None:
    book = KrakenL2Book("MATIC/USD", depth=10, price_decimals=4, qty_decimals=8)
    book.apply(_levels(MATIC_ASKS), _levels(MATIC_BIDS), snapshot=True, checksum=2439117997)
    book.apply([], [(D("0.5657"), D("1098.3947558"))], snapshot=False, checksum=2114181697)
    assert book.bids()[-1] == (D("0.5657"), D("1098.3947558"))


price_st = st.integers(1, 60).map(lambda i: D(100) + D(i) / 10)
qty_st = st.one_of(st.just(D(0)), st.integers(1, 10**6).map(lambda i: D(i) / 10**4))
side_st = st.lists(st.tuples(price_st, qty_st), max_size=6)


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(st.tuples(side_st, side_st), min_size=1, max_size=25),
       depth=st.sampled_from([3, 10, 25]))  # fmt: skip
def test_property_replica_matches_a_naive_book(
    messages: list[tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]],
    depth: int,
) -> None:
    """Against a dict book re-sorted and re-truncated from scratch after every message."""
    book = KrakenL2Book("T/T", depth=depth, price_decimals=1, qty_decimals=4)
    asks: dict[Decimal, Decimal] = {}
    bids: dict[Decimal, Decimal] = {}
    for i, (ask_changes, bid_changes) in enumerate(messages):
        for side, changes in ((asks, ask_changes), (bids, bid_changes)):
            if i == 0:
                side.clear()
            for price, qty in changes:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        kept_asks = sorted(asks.items())[:depth]
        kept_bids = sorted(bids.items(), reverse=True)[:depth]
        asks, bids = dict(kept_asks), dict(kept_bids)
        expected = kraken_book_checksum(kept_asks, kept_bids, 1, 4)
        book.apply(ask_changes, bid_changes, snapshot=i == 0, checksum=expected)
        assert book.asks() == kept_asks
        assert book.bids() == kept_bids
