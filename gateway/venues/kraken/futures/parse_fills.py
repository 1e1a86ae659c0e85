"""Kraken Futures fills -> core `OrderFilled` events: REST `fills` rows and WS v1 `fills` feed.

`fill_id` is the trade id the core de-duplicates on, whichever path a fill comes by. Sides:
REST says `side: buy|sell`, WS `buy: true|false`; fees are `fee_paid` in `fee_currency`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.core.events import OrderFilled
from gateway.core.model import Fee
from gateway.venues.kraken.common.symbols import unified_asset
from gateway.venues.kraken.common.wire_scalars import dec
from gateway.venues.kraken.futures.wire_values import LIQUIDITY, exact, parse_time


def _fee(row: Mapping[str, Any]) -> Fee | None:
    paid = row.get("fee_paid")
    currency = row.get("fee_currency")
    if paid is None or not currency:
        return None
    return Fee(asset=unified_asset(str(currency).upper()), amount=dec(paid, "fee_paid"))


def _client(row: Mapping[str, Any]) -> str | None:
    value = row.get("cliOrdId", row.get("cli_ord_id"))
    return None if value in (None, "") else str(value)


def parse_rest_fill(row: Mapping[str, Any]) -> OrderFilled:
    """One REST `fills[]` row."""
    return OrderFilled(
        client_order_id=_client(row),
        venue_order_id=str(row["order_id"]),
        venue_time=parse_time(row.get("fillTime")),
        trade_id=str(row["fill_id"]),
        qty=dec(row["size"], "size"),
        price=dec(row["price"], "price"),
        fee=_fee(row),
        liquidity=exact(LIQUIDITY, row.get("fillType"), "fillType"),
    )


def parse_ws_fill(row: Mapping[str, Any]) -> OrderFilled:
    """One fill of a WS `fills` / `fills_snapshot` message."""
    return OrderFilled(
        client_order_id=_client(row),
        venue_order_id=str(row["order_id"]),
        venue_time=parse_time(row.get("time")),
        trade_id=str(row["fill_id"]),
        qty=dec(row["qty"], "qty"),
        price=dec(row["price"], "price"),
        fee=_fee(row),
        liquidity=exact(LIQUIDITY, row.get("fill_type"), "fill_type"),
    )


def fill_symbol(row: Mapping[str, Any]) -> str:
    """Kraken's symbol of a REST (`symbol`) or WS (`instrument`) fill row."""
    return str(row.get("symbol") or row.get("instrument") or "")
