"""Spot REST request parameters: form or JSON bodies, nested form keys, tolerant scalar parsing.

Every parse failure raises KrakenError with `EGeneral:Invalid arguments:<name>`, Kraken's string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from simulator.engine.errors import KrakenError

Params = dict[str, Any]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})
_BRACKET = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def invalid(name: str | None = None) -> KrakenError:
    return KrakenError("EGeneral:Invalid arguments" + (f":{name}" if name else ""))


def parse_body(body: bytes, content_type: str) -> Params:
    """Decode a private request body; JSON when declared or when it is clearly an object."""
    text = body.decode("utf-8", errors="strict") if body else ""
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            raw = json.loads(text, parse_float=Decimal) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise invalid() from exc
        if not isinstance(raw, dict):
            raise invalid()
        return raw
    return parse_form(text)


def parse_form(text: str) -> Params:
    """`a=1&close[ordertype]=limit&orders[0][price]=1` -> nested dicts; lists for `[0]` keys."""
    out: Params = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        match = _BRACKET.match(name)
        if match is None:
            out[name] = value
            continue
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: dict[str, Any] = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid(path[0])
            node = child
        node[path[-1]] = value
    return {k: _listify(v) for k, v in out.items()}


def _listify(value: Any) -> Any:
    """Dicts keyed `0..n-1` (from `orders[0][...]`) become lists."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def get_str(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid(name)
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise invalid(name)


def require_str(params: Mapping[str, Any], name: str) -> str:
    value = get_str(params, name, required=True)
    assert value is not None
    return value


def get_bool(params: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """Booleans in every spelling clients send: JSON true, "true", "True", "1", 1."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(name)


def get_int(params: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid(name)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise invalid(name) from exc
    if number != number.to_integral_value():
        raise invalid(name)
    return int(number)


def get_decimal(params: Mapping[str, Any], name: str) -> Decimal | None:
    value = get_str(params, name)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise invalid(name) from exc
    if not number.is_finite():
        raise invalid(name)
    return number


def get_list(params: Mapping[str, Any], name: str) -> list[str]:
    """A comma list (`txid=A,B`) or a JSON array."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part for part in str(value).split(",") if part]


def int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    """An integer parameter with a default (a given `0` stays `0`)."""
    value = get_int(params, name)
    return default if value is None else value
