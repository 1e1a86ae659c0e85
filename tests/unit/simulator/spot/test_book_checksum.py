"""The published checksum vectors of wire section 7.3 reproduce."""

from __future__ import annotations

import zlib
from decimal import Decimal

from simulator.spot.book_checksum import (
    checksum_token,
    crc32_of_text_levels,
    fixed,
    l2_checksum,
    l3_checksum,
)

D = Decimal


def _levels(rows: list[tuple[str, str]]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in rows]


def test_v1_doc_vector() -> None:
    asks = [(f"0.{5005 + 5 * i:05d}", "0.00000500") for i in range(10)]
    bid_prices = ["05000", "04995", "04990", "04980", "04975", "04970", "04965", "04960"]
    bid_prices += ["04955", "04950"]
    bids = [(f"0.{p}", "0.00000500") for p in bid_prices]
    assert crc32_of_text_levels(asks, bids) == 974947235


BTC_ASKS = [
    ("45285.2", "0.00100000"),
    ("45286.4", "1.54571953"),
    ("45286.6", "1.54571109"),
    ("45289.6", "1.54560911"),
    ("45290.2", "0.15890660"),
    ("45291.8", "1.54553491"),
    ("45294.7", "0.04454749"),
    ("45296.1", "0.35380000"),
    ("45297.5", "0.09945542"),
    ("45299.5", "0.18772827"),
]
BTC_BIDS = [
    ("45283.5", "0.10000000"),
    ("45283.4", "1.54582015"),
    ("45282.1", "0.10000000"),
    ("45281.0", "0.10000000"),
    ("45280.3", "1.54592586"),
    ("45279.0", "0.07990000"),
    ("45277.6", "0.03310103"),
    ("45277.5", "0.30000000"),
    ("45277.3", "1.54602737"),
    ("45276.6", "0.15445238"),
]


def test_v2_btc_guide_vector() -> None:
    # The wire carries JSON numbers, so trailing zeros are gone: rebuild them from precision.
    asks = [(D(p).normalize(), D(q).normalize()) for p, q in BTC_ASKS]
    bids = [(D(p).normalize(), D(q).normalize()) for p, q in BTC_BIDS]
    assert l2_checksum(asks, bids, price_decimals=1, qty_decimals=8) == 3310070434


def test_v2_btc_guide_vector_strings() -> None:
    asks_text = "".join(checksum_token(p) + checksum_token(q) for p, q in BTC_ASKS)
    assert asks_text.startswith("452852100000452864154571953")
    assert crc32_of_text_levels(BTC_ASKS, BTC_BIDS) == 3310070434


def test_float_repr_formatting_is_wrong() -> None:
    # The pitfall of wire 7.1: formatting without the pair's decimals gives another checksum.
    asks = [(repr(float(p)), repr(float(q))) for p, q in BTC_ASKS]
    bids = [(repr(float(p)), repr(float(q))) for p, q in BTC_BIDS]
    assert crc32_of_text_levels(asks, bids) == 1604409348


MATIC_BIDS = [
    ("0.5666", "4831.75496356"),
    ("0.5665", "6658.22734739"),
    ("0.5664", "18724.91513344"),
    ("0.5663", "11563.92544914"),
    ("0.5662", "14006.65365711"),
    ("0.5661", "17454.85679807"),
    ("0.566", "18097.1547"),
    ("0.5659", "33644.89175666"),
    ("0.5658", "148.3464"),
    ("0.5657", "606.70854372"),
]
MATIC_ASKS = [
    ("0.5668", "4410.79769741"),
    ("0.5669", "4655.40412487"),
    ("0.567", "49844.89424998"),
    ("0.5671", "24306.41678"),
    ("0.5672", "29783.25223475"),
    ("0.5673", "57234.71239278"),
    ("0.5674", "45065.04744"),
    ("0.5675", "5912.76380354"),
    ("0.5676", "42514.92434778"),
    ("0.5677", "36304.0847022"),
]


def test_v2_matic_book_channel_snapshot_and_update() -> None:
    asks, bids = _levels(MATIC_ASKS), _levels(MATIC_BIDS)
    assert l2_checksum(asks, bids, 4, 8) == 2439117997
    bids[-1] = (D("0.5657"), D("1098.3947558"))
    assert l2_checksum(asks, bids, 4, 8) == 2114181697


def test_only_top_ten_levels_count() -> None:
    asks, bids = _levels(MATIC_ASKS), _levels(MATIC_BIDS)
    deeper_asks = [*asks, (D("0.5678"), D("1"))]
    deeper_bids = [*bids, (D("0.5656"), D("1"))]
    assert l2_checksum(deeper_asks, deeper_bids, 4, 8) == 2439117997


def test_thin_book_uses_existing_levels() -> None:
    one = l2_checksum([(D("1.5"), D("2"))], [], 1, 8)
    assert one == crc32_of_text_levels([("1.5", "2.00000000")], [])
    assert l2_checksum([], [], 1, 8) == 0


def test_fixed_keeps_trailing_zeros_and_never_uses_exponents() -> None:
    assert fixed(D("1E+2"), 1) == "100.0"
    assert fixed(D("0.566"), 4) == "0.5660"
    assert checksum_token(fixed(D("0.00000500"), 8)) == "500"


def test_l3_doc_order_token_and_queue_order() -> None:
    assert (
        checksum_token(fixed(D("44939.5"), 1)) + checksum_token(fixed(D("4.52308393"), 8))
        == "449395452308393"
    )
    orders = [(D("44939.5"), D("4.52308393")), (D("44939.5"), D("1"))]
    swapped = list(reversed(orders))
    # Queue priority is part of the L3 checksum.
    assert l3_checksum(orders, [], 1, 8) != l3_checksum(swapped, [], 1, 8)
    # One order per level: L3 equals L2.
    asks, bids = _levels(MATIC_ASKS), _levels(MATIC_BIDS)
    assert l3_checksum(asks, bids, 4, 8) == 2439117997


def test_l3_counts_ten_price_levels_not_ten_orders() -> None:
    asks = _levels(MATIC_ASKS)
    doubled = [o for level in asks for o in (level, (level[0], D("1")))]
    text = "".join(checksum_token(fixed(p, 4)) + checksum_token(fixed(q, 8)) for p, q in doubled)
    beyond_top_ten = (D("0.5678"), D("9"))
    assert l3_checksum([*doubled, beyond_top_ten], [], 4, 8) == zlib.crc32(text.encode())
