"""Kraken Spot WS v2 wire format: RFC3339 timestamps and the envelopes of wire 6.2.

Frames are written with the shared codec (`simulator.wire.json_codec`): Decimals go out as JSON
numbers, as Kraken sends them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulator.wire.json_codec import JsonObject, encode


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
