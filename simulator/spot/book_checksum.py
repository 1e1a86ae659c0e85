"""Kraken's CRC32 order book checksum (wire section 7), for L2 (WS v1 and v2) and L3 (WS v2).

The checksum covers the top 10 asks (price ascending) then the top 10 bids (price descending).
Each value is written with the pair's fixed number of decimals (trailing zeros kept), then the
decimal point is removed and leading zeros are stripped; the CRC32 (zlib) of the concatenation
is the checksum. v1 sends price/qty strings with fixed decimals already, so they are used as-is.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from itertools import islice

CHECKSUM_LEVELS = 10

Level = tuple[Decimal, Decimal]


def checksum_token(text: str) -> str:
    """One price or qty as it enters the checksum string: `0.05000` -> `5000`."""
    return text.replace(".", "").lstrip("0")


def fixed(value: Decimal, decimals: int) -> str:
    """`value` with exactly `decimals` digits after the point, never in exponent form."""
    return f"{value:.{decimals}f}"


def crc32_of_text_levels(asks: Iterable[tuple[str, str]], bids: Iterable[tuple[str, str]]) -> int:
    """Checksum over price/qty texts that already carry the pair's decimals (the v1 wire form).

    `asks` must be in ascending and `bids` in descending price order; only the first 10 count.
    """
    parts: list[str] = []
    for side in (asks, bids):
        for price, qty in islice(side, CHECKSUM_LEVELS):
            parts.append(checksum_token(price))
            parts.append(checksum_token(qty))
    return zlib.crc32("".join(parts).encode("ascii"))


def l2_checksum(
    asks: Iterable[Level], bids: Iterable[Level], price_decimals: int, qty_decimals: int
) -> int:
    """The v2 `book` checksum: `asks` ascending, `bids` descending, Decimal prices and qtys."""
    return crc32_of_side_texts(
        l2_side_text(asks, price_decimals, qty_decimals),
        l2_side_text(bids, price_decimals, qty_decimals),
    )


def l2_side_text(levels: Iterable[Level], price_decimals: int, qty_decimals: int) -> str:
    """One side's part of the checksum string (its first 10 levels)."""
    return "".join(
        level_token(price, qty, price_decimals, qty_decimals)
        for price, qty in islice(levels, CHECKSUM_LEVELS)
    )


def crc32_of_side_texts(asks_text: str, bids_text: str) -> int:
    return zlib.crc32((asks_text + bids_text).encode("ascii"))


@lru_cache(maxsize=1 << 16)
def level_token(price: Decimal, qty: Decimal, price_decimals: int, qty_decimals: int) -> str:
    """One level's contribution; cached because a book update changes few levels."""
    return checksum_token(fixed(price, price_decimals)) + checksum_token(fixed(qty, qty_decimals))


def l3_checksum(
    asks: Iterable[Level], bids: Iterable[Level], price_decimals: int, qty_decimals: int
) -> int:
    """The v2 `level3` checksum over every order of the top 10 price levels, in queue order.

    `asks`/`bids` are the individual orders (limit price, remaining qty), sorted by price
    (asks ascending, bids descending) and by queue priority within a price.
    """
    return zlib.crc32(
        (
            _l3_side(asks, price_decimals, qty_decimals)
            + _l3_side(bids, price_decimals, qty_decimals)
        ).encode("ascii")
    )


def _l3_side(orders: Iterable[Level], price_decimals: int, qty_decimals: int) -> str:
    parts: list[str] = []
    prices_seen = 0
    last_price: Decimal | None = None
    for price, qty in orders:
        if price != last_price:
            prices_seen += 1
            if prices_seen > CHECKSUM_LEVELS:
                break
            last_price = price
        parts.append(level_token(price, qty, price_decimals, qty_decimals))
    return "".join(parts)
