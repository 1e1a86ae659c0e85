"""Kraken scalar decoders shared by Spot and Futures (decimals, unix times, RFC3339) and
`KrakenParseError`, raised for any Kraken payload the gateway cannot interpret safely.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = [
    "KrakenParseError",
    "dec",
    "nonzero_dec",
    "opt_dec",
    "parse_rfc3339",
    "parse_unix_time",
]


class KrakenParseError(ValueError):
    """A Kraken payload the gateway cannot interpret safely."""


def dec(value: object, field: str = "value") -> Decimal:
    """A Kraken decimal: string (REST), Decimal/int (WS v2 decoded with parse_float=Decimal)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise KrakenParseError(f"{field}: boolean where a number was expected")
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise KrakenParseError(f"{field}: not a decimal: {value!r}") from None
    if isinstance(value, float):
        return Decimal(repr(value))
    raise KrakenParseError(f"{field}: not a number: {value!r}")


def opt_dec(value: object, field: str) -> Decimal | None:
    return None if value is None else dec(value, field)


def nonzero_dec(value: object, field: str) -> Decimal | None:
    """REST uses "0"/"0.00000" for "not set"."""
    if value is None or value == "":
        return None
    d = dec(value, field)
    return d if d != 0 else None


def parse_unix_time(value: object) -> datetime | None:
    """Kraken unix seconds (float, int or string); 0 means unset."""
    if value is None or value == "":
        return None
    seconds = dec(value, "time")
    if seconds == 0:
        return None
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def parse_rfc3339(value: str | None) -> datetime | None:
    """RFC3339 with up to 9 fractional digits (Python keeps 6)."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise KrakenParseError(f"bad timestamp {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
