"""What the WS v2 front end needs from the spot engine, in one place.

`SpotEngineLike` is the slice of the engine's API this front end calls; keeping every engine
call behind it means an engine rename touches this file only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

from simulator.engine.errors import KrakenError
from simulator.engine.events import EventListener
from simulator.engine.model import (
    AddResult,
    AmendResult,
    EditResult,
    Fill,
    Order,
    OrderParams,
    Page,
    Side,
)


class BookLike(Protocol):
    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]: ...

    def level_qty(self, side: Side, price: Decimal) -> Decimal: ...

    def prices(self, side: Side) -> Iterator[Decimal]: ...

    def items_at(self, side: Side, price: Decimal) -> list[Any]: ...

    def qty_of(self, entry_id: str) -> Decimal: ...


class SpotEngineLike(Protocol):
    def subscribe(self, listener: EventListener) -> None: ...

    def book(self, pair: str) -> BookLike: ...

    def add_order(self, account_id: str, params: OrderParams) -> AddResult: ...

    def amend_order(
        self,
        account_id: str,
        *,
        txid: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: str | None = None,
        display_qty: str | None = None,
        limit_price: str | None = None,
        trigger_price: str | None = None,
        post_only: bool = False,
    ) -> AmendResult: ...

    def add_order_batch(
        self, account_id: str, pair: str, orders: Sequence[OrderParams], validate: bool = False
    ) -> list[AddResult | KrakenError]: ...

    def edit_order(
        self,
        account_id: str,
        txid: str,
        pair: str,
        *,
        volume: str | None = None,
        price: str | None = None,
        price2: str | None = None,
        displayvol: str | None = None,
        userref: int | None = None,
        oflags: frozenset[str] | None = None,
        validate: bool = False,
    ) -> EditResult: ...

    def cancel_order(self, account_id: str, ref: str) -> int: ...

    def cancel_all(self, account_id: str) -> int: ...

    def open_orders(self, account_id: str) -> Sequence[Order]: ...

    def open_order_count(self, account_id: str, pair_id: str) -> int: ...

    def trades_history(self, account_id: str) -> Page[Fill]: ...

    def balances(self, account_id: str) -> dict[str, Decimal]: ...
