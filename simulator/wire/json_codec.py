"""The simulator's one JSON codec: Decimals out as JSON numbers, fractions in as Decimals.

Prices and quantities are Decimal inside the simulator and JSON *numbers* on the wire (Kraken
sends `0.5666`, not `"0.5666"`, on Spot WS v2 and on Futures REST and WS). orjson writes each
Decimal verbatim as a number fragment, so no float ever touches a price; requests are parsed with
`parse_float=Decimal` for the same reason.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

JsonObject = dict[str, Any]


def _default(value: object) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value.normalize(), "f"))
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(message: JsonObject) -> str:
    """One outgoing text frame."""
    return orjson.dumps(message, default=_default).decode()


def decode(text: str | bytes) -> Any:
    """One incoming frame; numbers with a fraction become Decimal, never float."""
    return json.loads(text, parse_float=Decimal)
