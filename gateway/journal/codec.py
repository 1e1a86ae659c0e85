"""JSON encoding of the core's frozen dataclasses for the journal.

Encoding uses orjson directly (it walks dataclasses, enums and datetimes natively; Decimals go
through `str`, so they stay exact). Decoding is driven by the dataclass type hints, compiled once
per class into a list of field converters.

Execution reports, the hot path, are stored positionally instead: a JSON array whose first item
is the layout version, then the fields in that layout's order, each in the form the object
encoding gives it (str for Decimal, the enum value, ISO datetime, nested objects). `report_row`
builds the array's items as plain Python values, so a writer can serialize a whole batch in one
orjson call. `decode_report` reads both forms, so journals written before keep replaying.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from gateway.core.model import ExecutionReport, RejectInfo

T = TypeVar("T")
Converter = Callable[[Any], Any]


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot journal a {type(value).__name__}")


def encode(value: object) -> bytes:
    """Bytes for a dataclass value (nested dataclasses, enums, Decimal, datetime, tuples)."""
    return orjson.dumps(value, default=_default)


def decode(cls: type[T], payload: bytes | str, **overrides: Any) -> T:
    """The value of `cls` in `payload`; `overrides` replace decoded fields (already typed)."""
    data = orjson.loads(payload)
    data.update(overrides)
    value: T = _decoder(cls)(data)
    return value


def _identity(value: Any) -> Any:
    return value


def _optional(inner: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return None if value is None else inner(value)

    return convert


def _sequence(inner: Converter, container: Callable[[Any], Any]) -> Converter:
    def convert(value: Any) -> Any:
        return container(inner(item) for item in value)

    return convert


def _converter(tp: Any) -> Converter:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        inner = _converter(args[0])
        return _identity if inner is _identity else _optional(inner)
    if origin in (tuple, frozenset, list):
        item = typing.get_args(tp)[0]
        container: Callable[[Any], Any] = {tuple: tuple, frozenset: frozenset, list: list}[origin]
        return _sequence(_converter(item), container)
    if tp is Decimal:
        return Decimal
    if tp is datetime:
        return datetime.fromisoformat
    if tp in (str, int, bool):
        return _identity
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decoder(tp)
    raise TypeError(f"unsupported type {tp!r}")


_DECODERS: dict[type[Any], Converter] = {}


def _decoder(cls: type[Any]) -> Converter:
    cached = _DECODERS.get(cls)
    if cached is None:
        cached = _DECODERS[cls] = _compile(cls)
    return cached


def _compile(cls: type[Any]) -> Converter:
    hints = typing.get_type_hints(cls)
    fields = [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls) if f.init]

    plain = [name for name, conv in fields if conv is _identity]
    typed = [(name, conv) for name, conv in fields if conv is not _identity]

    def convert(data: dict[str, Any]) -> Any:
        # JSON already gives str/int/bool/None for the plain fields: pass them straight on.
        kwargs = {name: data[name] for name in plain if name in data}
        for name, conv in typed:
            if name in data:
                kwargs[name] = conv(data[name])
        return cls(**kwargs)

    return convert


# -- execution reports, positionally --------------------------------------------------------------

# Field order of each layout version. Never edit a published layout: add the new one (a test
# checks that the newest covers every field of ExecutionReport) and keep the old ones, which
# journals on disk still hold. A field missing from an old layout decodes to its default.
REPORT_LAYOUTS: dict[int, tuple[str, ...]] = {
    1: (
        "sequence",
        "account_sequence",
        "session_id",
        "account",
        "exec_id",
        "exec_type",
        "ord_status",
        "client_order_id",
        "orig_client_order_id",
        "venue_order_id",
        "venue",
        "symbol",
        "side",
        "order_type",
        "time_in_force",
        "order_qty",
        "price",
        "stop_price",
        "cum_qty",
        "leaves_qty",
        "avg_px",
        "last_qty",
        "last_px",
        "trade_id",
        "fee",
        "liquidity",
        "reject",
        "text",
        "venue_time",
        "gateway_time",
        "poss_resend",
    ),
}
REPORT_LAYOUT = 1  # the version report_row writes


def report_row(r: ExecutionReport) -> list[Any]:
    """The JSON-ready items of `r` in layout REPORT_LAYOUT (version first). Enums go in as
    their `_value_` (orjson would look `.value` up through Python), datetimes as they are
    (orjson formats them in C, as `encode` does)."""
    fee = r.fee
    reject = r.reject
    liquidity = r.liquidity
    price = r.price
    stop_price = r.stop_price
    return [
        1,
        r.sequence,
        r.account_sequence,
        r.session_id,
        r.account,
        r.exec_id,
        r.exec_type._value_,
        r.ord_status._value_,
        r.client_order_id,
        r.orig_client_order_id,
        r.venue_order_id,
        r.venue,
        r.symbol,
        r.side._value_,
        r.order_type._value_,
        r.time_in_force._value_,
        str(r.order_qty),
        None if price is None else str(price),
        None if stop_price is None else str(stop_price),
        str(r.cum_qty),
        str(r.leaves_qty),
        str(r.avg_px),
        str(r.last_qty),
        str(r.last_px),
        r.trade_id,
        None if fee is None else {"asset": fee.asset, "amount": str(fee.amount)},
        None if liquidity is None else liquidity._value_,
        None if reject is None else _reject(reject),
        r.text,
        r.venue_time,
        r.gateway_time,
        r.poss_resend,
    ]


def _reject(reject: RejectInfo) -> dict[str, str]:
    return {"reason": reject.reason._value_, "text": reject.text, "venue_text": reject.venue_text}


def encode_report(r: ExecutionReport) -> bytes:
    """One report in the positional form (what a batch writer stores per row)."""
    return orjson.dumps(report_row(r))


def _enum_lookup(cls: type[enum.Enum]) -> Converter:
    # The member by value through the class's own value map: the same member `cls(value)`
    # gives, without EnumMeta.__call__'s detour (six enums per report).
    members = cls._value2member_map_

    def convert(value: Any) -> Any:
        member = members.get(value)
        return cls(value) if member is None else member  # cls() raises for unknown values

    return convert


def _compile_row(names: tuple[str, ...]) -> Callable[[list[Any]], dict[str, Any]]:
    """Typed keyword arguments of ExecutionReport from a positional row (version dropped)."""
    hints = typing.get_type_hints(ExecutionReport)
    plan: list[tuple[str, Converter | None]] = []
    for name in names:
        conv = _converter(hints[name])
        tp = hints[name]
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            conv = _enum_lookup(tp)
        elif conv is not _identity and typing.get_origin(tp) in (typing.Union, types.UnionType):
            inner = next(a for a in typing.get_args(tp) if a is not type(None))
            if isinstance(inner, type) and issubclass(inner, enum.Enum):
                conv = _optional(_enum_lookup(inner))
        plan.append((name, None if conv is _identity else conv))

    def convert(items: list[Any]) -> dict[str, Any]:
        return {
            name: value if conv is None else conv(value)
            for (name, conv), value in zip(plan, items, strict=True)
        }

    return convert


_ROW_DECODERS = {version: _compile_row(names) for version, names in REPORT_LAYOUTS.items()}


def decode_report(payload: bytes | str, **overrides: Any) -> ExecutionReport:
    """A stored report, positional (any known layout) or an object (journals before layouts)."""
    data = orjson.loads(payload)
    if isinstance(data, list) and data:
        # The hot path of every replay: straight from the row to the report's arguments.
        row = _ROW_DECODERS.get(data[0])
        if row is not None and len(data) == len(REPORT_LAYOUTS[data[0]]) + 1:
            kwargs = row(data[1:])
            kwargs.update(overrides)
            return ExecutionReport(**kwargs)
    if isinstance(data, list):
        layout = REPORT_LAYOUTS.get(data[0]) if data else None
        if layout is None or len(data) != len(layout) + 1:
            raise ValueError(f"unknown journal report layout {data[:1]!r}")
        data = dict(zip(layout, data[1:], strict=True))
    data.update(overrides)
    value: ExecutionReport = _decoder(ExecutionReport)(data)
    return value
