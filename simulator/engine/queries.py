"""Kraken's history paging: newest first, `start` exclusive, `end` inclusive, 50 per page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from simulator.engine.model import Page

T = TypeVar("T")
PAGE_SIZE = 50


def page(
    rows: Sequence[T],
    time_of: Callable[[T], Decimal],
    *,
    start: Decimal | None = None,
    end: Decimal | None = None,
    ofs: int = 0,
    limit: int = PAGE_SIZE,
) -> Page[T]:
    """Rows (given oldest first) filtered to (start, end], newest first, `limit` from `ofs`."""
    selected = [
        r
        for r in reversed(rows)
        if (start is None or time_of(r) > start) and (end is None or time_of(r) <= end)
    ]
    ofs = max(0, ofs)
    return Page(selected[ofs : ofs + limit], len(selected))
