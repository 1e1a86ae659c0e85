"""Injected time: the engine never reads the wall clock itself, so tests and replays are exact."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Protocol


class Clock(Protocol):
    """Source of the current time in unix seconds (Decimal, microsecond resolution)."""

    def now(self) -> Decimal: ...


class SystemClock:
    """Wall-clock time, truncated to microseconds (Kraken prints opentm with 4-6 decimals)."""

    def now(self) -> Decimal:
        return Decimal(time.time_ns() // 1000).scaleb(-6)


class ManualClock:
    """A clock tests move by hand; it never goes backwards."""

    def __init__(self, start: Decimal | int | str = Decimal("1700000000")) -> None:
        self._now = Decimal(start)

    def now(self) -> Decimal:
        return self._now

    def set(self, value: Decimal | int | str) -> None:
        new = Decimal(value)
        if new < self._now:
            raise ValueError("ManualClock cannot go backwards")
        self._now = new

    def advance(self, seconds: Decimal | int | str) -> Decimal:
        self.set(self._now + Decimal(seconds))
        return self._now
