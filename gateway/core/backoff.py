"""Retry delays: exponential with jitter, capped (reconnects, start-up reconciliation)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

__all__ = ["ReconnectPacer", "backoff_delays"]


def backoff_delays(
    first_s: float, cap_s: float, rng: random.Random | None = None
) -> Iterator[float]:
    """Endless delays: uniform in [d/2, d] for d = first * 2^n, d capped at `cap_s`. The jitter
    keeps many clients (or keys) from retrying in step after a shared outage."""
    pick = rng or random.Random()
    delay = min(first_s, cap_s)
    while True:
        yield pick.uniform(delay / 2, delay)
        delay = min(cap_s, delay * 2)


class ReconnectPacer:
    """When a feed reconnects. A failed connect, or a connection that closed before lasting
    `stable_s`, waits the next jittered exponential delay (capped), so a venue that accepts and
    then drops us (an outage, a restart, a proxy cutting every connection) sees no reconnect
    storm; a connection that lasted reconnects at once and starts the delays over."""

    def __init__(
        self,
        first_s: float,
        cap_s: float,
        stable_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._first = first_s
        self._cap = cap_s
        self._stable = stable_s
        self._clock = clock
        self._rng = rng
        self._delays = backoff_delays(first_s, cap_s, rng)
        self._opened: float | None = None

    def opened(self) -> None:
        """A connection is up (its lifetime counts from now)."""
        self._opened = self._clock()

    def failed(self) -> float:
        """The wait after a failed connect."""
        return next(self._delays)

    def closed(self) -> float:
        """The wait after the open connection closed: 0 if it lasted `stable_s`."""
        opened, self._opened = self._opened, None
        if opened is not None and self._clock() - opened >= self._stable:
            self._delays = backoff_delays(self._first, self._cap, self._rng)
            return 0.0
        return next(self._delays)
