"""Parsing Kraken Futures request parameters: decimals and booleans as clients spell them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_NUMBER = Decimal("1e15")  # larger sizes/prices/amounts are nonsense and overflow Decimal math
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def parse_decimal(raw: str) -> Decimal | None:
    """A finite decimal of sane magnitude, or None (NaN, Infinity, 1e999999, garbage)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > MAX_NUMBER:
        return None
    return value


def parse_bool(raw: object) -> bool | None:
    """`true`/`True`/`1`/`false`/... (PKS sends Python's `True`), or None when unreadable."""
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_count(raw: str | None, default: int) -> int | None:
    """A non-negative integer paging parameter (`count`, `since`, `before`), or None if bad."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None
