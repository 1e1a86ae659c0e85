"""JSON encoding of the core's frozen dataclasses for the journal.

Encoding uses orjson directly (it walks dataclasses, enums and datetimes natively; Decimals go
through `str`, so they stay exact). Decoding is driven by the dataclass type hints, compiled once
per class into a list of field converters.
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
