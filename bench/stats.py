"""Order statistics and their formatting, without the gateway's imports (so the load generator
and the echo server start fast); `bench.common` re-exports them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Summary", "format_ratio", "format_seconds", "percentile", "summarize"]


def percentile(samples: Iterable[float], q: float) -> float:
    """Nearest-rank percentile, `q` in [0, 1] (0.5 median, 0.99 p99); no interpolation, so the
    figure is always one of the measured values."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    """Order statistics of one series of samples (seconds, or per-second rates)."""

    count: int
    median: float
    p99: float
    minimum: float
    maximum: float


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("no samples")
    return Summary(
        count=len(samples),
        median=statistics.median(samples),
        p99=percentile(samples, 0.99),
        minimum=min(samples),
        maximum=max(samples),
    )


def format_seconds(value: float) -> str:
    """A duration with a unit that keeps 3-4 significant digits: `812.3 us`, `4.21 ms`."""
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def format_ratio(subject: float, baseline: float) -> str:
    """`subject / baseline` as `x0.93`; `x-` when the baseline is zero."""
    if baseline == 0:
        return "x-"
    return f"x{subject / baseline:.2f}"
