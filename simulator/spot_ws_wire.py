"""Kraken Spot WS v2 wire format: JSON codec, RFC3339 timestamps and the envelopes of wire 6.2.

Prices and quantities are Decimal inside the simulator and JSON *numbers* on the wire (Kraken
sends `0.5666`, not `"0.5666"`). orjson writes each Decimal verbatim as a number fragment, so no
float ever touches a price; requests are parsed with `parse_float=Decimal` for the same reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
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


def rfc3339(when: datetime) -> str:
    """`2023-10-06T17:35:55.440295Z` (microseconds, UTC), Kraken's timestamp form."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_seconds(when: datetime) -> str:
    """`2023-04-06T06:51:56Z`, used by cancel_all_orders_after."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nanos(when: datetime) -> str:
    """ohlc `interval_begin` carries 9 fractional digits."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def ack(
    method: str,
    req_id: int | None,
    time_in: datetime,
    time_out: datetime,
    result: Any = None,
    *,
    extra: JsonObject | None = None,
) -> JsonObject:
    """A successful request ack: `{method, result, success: true, time_in, time_out, req_id}`."""
    message: JsonObject = {"method": method}
    if result is not None:
        message["result"] = result
    message["success"] = True
    message["time_in"] = rfc3339(time_in)
    message["time_out"] = rfc3339(time_out)
    if extra:
        message.update(extra)
    if req_id is not None:
        message["req_id"] = req_id
    return message


def failure(
    method: str,
    req_id: int | None,
    error: str,
    time_in: datetime,
    time_out: datetime,
    *,
    extra: JsonObject | None = None,
) -> JsonObject:
    """A failed request ack: `{method, error, success: false, time_in, time_out, req_id}`."""
    message: JsonObject = {"method": method, "error": error, "success": False}
    if extra:
        message.update(extra)
    message["time_in"] = rfc3339(time_in)
    message["time_out"] = rfc3339(time_out)
    if req_id is not None:
        message["req_id"] = req_id
    return message


def pong(req_id: int | None, time_in: datetime, time_out: datetime) -> JsonObject:
    """The ping reply: `{"method":"pong","req_id":…,"time_in":…,"time_out":…}` (no success)."""
    message: JsonObject = {"method": "pong"}
    if req_id is not None:
        message["req_id"] = req_id
    message["time_in"] = rfc3339(time_in)
    message["time_out"] = rfc3339(time_out)
    return message


def push(channel: str, kind: str, data: Any, **top_level: Any) -> JsonObject:
    """Channel data: `{channel, type: snapshot|update, data, ...}` (`sequence` for private)."""
    message: JsonObject = {"channel": channel, "type": kind, "data": data}
    message.update(top_level)
    return message


HEARTBEAT = encode({"channel": "heartbeat"})
