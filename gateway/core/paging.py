"""Paging of the lists the core answers: opaque offset page tokens, one page size rule."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.core.errors import ErrorReason, InvalidArgument

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "page", "page_size"]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_PREFIX = "o:"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; an empty `next_page_token` means the last page."""

    items: list[T]
    next_page_token: str = ""


def page_size(requested: int) -> int:
    """The page size to use: 0 means the default, at most MAX_PAGE_SIZE; negative is refused."""
    if requested < 0:
        raise InvalidArgument(
            "page_size must not be negative",
            ErrorReason.INVALID_FIELD,
            metadata={"field": "page_size"},
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page(items: Sequence[T], requested_size: int, token: str) -> Page[T]:
    """The page of `items` that `token` (empty: the first page) points at."""
    size = page_size(requested_size)
    start = _decode(token) if token else 0
    end = start + size
    return Page(list(items[start:end]), _encode(end) if end < len(items) else "")


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
        if raw.startswith(_PREFIX) and raw[len(_PREFIX) :].isdigit():
            return int(raw[len(_PREFIX) :])
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise InvalidArgument(
        "page_token is not a token this list returned",
        ErrorReason.INVALID_PAGE_TOKEN,
        metadata={"field": "page_token"},
    )
