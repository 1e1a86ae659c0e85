"""Kraken's CRC32 order-book checksum (wire section 7), identical for WS v1 and v2.

Top 10 asks (price ascending) then top 10 bids (price descending); each level contributes its
price then its quantity, each printed at the pair's fixed precision with the '.' removed and
leading zeros stripped. WS v2 sends JSON numbers (trailing zeros lost), so the text is rebuilt
from `Decimal` at the instrument's precision; WS v1 strings are already fixed-precision.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

CHECKSUM_LEVELS = 10


def checksum_text(value: Decimal, decimals: int) -> str:
    """One field as Kraken feeds it to the CRC: fixed `decimals`, no '.', no leading zeros."""
    return wire_text_to_checksum_text(f"{value:.{decimals}f}")


def wire_text_to_checksum_text(text: str) -> str:
    """A fixed-precision wire string (WS v1) as it enters the CRC."""
    return text.replace(".", "").lstrip("0")


def checksum_of_texts(asks: Iterable[tuple[str, str]], bids: Iterable[tuple[str, str]]) -> int:
    """CRC32 of already-formatted levels, asks best-first then bids best-first (top 10 each)."""
    parts: list[str] = []
    for side in (asks, bids):
        for i, (price, qty) in enumerate(side):
            if i == CHECKSUM_LEVELS:
                break
            parts.append(price)
            parts.append(qty)
    return zlib.crc32("".join(parts).encode("ascii")) & 0xFFFFFFFF


def kraken_book_checksum(
    asks: Sequence[tuple[Decimal, Decimal]],
    bids: Sequence[tuple[Decimal, Decimal]],
    price_decimals: int,
    qty_decimals: int,
) -> int:
    """Checksum of a book given as (price, qty) levels in any order."""

    def texts(levels: Sequence[tuple[Decimal, Decimal]], descending: bool) -> list[tuple[str, str]]:
        top = sorted(levels, key=lambda lv: lv[0], reverse=descending)[:CHECKSUM_LEVELS]
        return [(checksum_text(p, price_decimals), checksum_text(q, qty_decimals)) for p, q in top]

    return checksum_of_texts(texts(asks, False), texts(bids, True))
