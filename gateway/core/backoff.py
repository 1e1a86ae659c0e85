"""Retry delays: exponential with jitter, capped (reconnects, start-up reconciliation)."""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["backoff_delays"]


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
