"""Core values -> Kraken wire text, shared by Spot and Futures: `fmt` (a Decimal as plain
decimal text) and `encode_ws_message` (a WS request as JSON with exact decimal numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["encode_ws_message", "fmt"]


def fmt(value: Decimal) -> str:
    """Plain decimal text, never exponent notation (`1E+1` -> `10`)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _dec_default(value: object) -> orjson.Fragment:
    if isinstance(value, Decimal):
        # Raw JSON: the number with the Decimal's own digits, no float in between.
        return orjson.Fragment(fmt(value))
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode_ws_message(message: Mapping[str, Any]) -> str:
    """JSON text with every `Decimal` as a bare JSON number of the same digits (WS v2 wants
    numbers; a JSON encoder alone would need floats and lose precision). orjson (UTF-8, in C)
    writes every request on the order path, each Decimal as a raw fragment of its digits."""
    return orjson.dumps(message, default=_dec_default).decode()
