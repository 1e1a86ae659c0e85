"""The console's live data: recent execution reports, venue latency and rate-budget history,
and the fan-out of events to connected pages (server-sent events).

Reports arrive from the journal listener and are pushed to every page at once; a 1 s tick
pushes one shared state snapshot (computed once, not per page), so any number of open pages
costs one read of the gateway per second.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from gateway.core.model import ExecutionReport
from gateway.core.telemetry import NullTelemetry

__all__ = ["ConsoleFeed", "report_json"]

RECENT_REPORTS = 200
LATENCY_POINTS = 600
BUDGET_POINTS = 120
_CLIENT_QUEUE = 256


def _dec(value: object) -> str | None:
    return None if value is None else str(value)


def report_json(r: ExecutionReport) -> dict[str, Any]:
    return {
        "sequence": r.sequence,
        "session_id": r.session_id,
        "account": r.account,
        "exec_id": r.exec_id,
        "exec_type": r.exec_type.name,
        "ord_status": r.ord_status.name,
        "client_order_id": r.client_order_id,
        "venue_order_id": r.venue_order_id or "",
        "venue": r.venue,
        "symbol": r.symbol,
        "side": r.side.name,
        "order_type": r.order_type.name,
        "order_qty": str(r.order_qty),
        "price": _dec(r.price),
        "cum_qty": str(r.cum_qty),
        "leaves_qty": str(r.leaves_qty),
        "last_qty": str(r.last_qty),
        "last_px": str(r.last_px),
        "reason": r.reject.reason.name if r.reject is not None else "",
        "time": r.gateway_time.isoformat(),
    }


class ConsoleFeed(NullTelemetry):
    """Telemetry sink (venue latency) + journal listener (reports) + event fan-out."""

    def __init__(self) -> None:
        self.reports: deque[dict[str, Any]] = deque(maxlen=RECENT_REPORTS)
        # (unix time, milliseconds, method) of recent venue round trips
        self.latency: deque[tuple[float, float, str]] = deque(maxlen=LATENCY_POINTS)
        # (account, key_id, budget, pair) -> recent (unix time, used, limit)
        self.budget_history: dict[tuple[str, str, str, str], deque[tuple[float, float, float]]]
        self.budget_history = {}
        self._clients: set[asyncio.Queue[tuple[str, Any] | None]] = set()

    # -- inputs ---------------------------------------------------------------------------
    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        if outcome != "no_answer":
            self.latency.append((time.time(), seconds * 1000.0, method))

    def on_report(self, report: ExecutionReport) -> None:
        data = report_json(report)
        self.reports.append(data)
        self.publish("report", data)

    def sample_budget(self, key: tuple[str, str, str, str], used: float, limit: float) -> None:
        history = self.budget_history.get(key)
        if history is None:
            history = self.budget_history[key] = deque(maxlen=BUDGET_POINTS)
        history.append((time.time(), used, limit))

    # -- fan-out --------------------------------------------------------------------------
    def publish(self, event: str, data: Any) -> None:
        for queue in list(self._clients):
            if queue.full():
                # A page that stopped reading: drop it rather than buffer without bound.
                self._clients.discard(queue)
                _end(queue)
                continue
            queue.put_nowait((event, data))

    def subscribe(self) -> asyncio.Queue[tuple[str, Any] | None]:
        queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue(maxsize=_CLIENT_QUEUE)
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, Any] | None]) -> None:
        self._clients.discard(queue)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def close_all(self) -> None:
        for queue in list(self._clients):
            self._clients.discard(queue)
            _end(queue)

    def budget_series(self) -> Iterator[tuple[tuple[str, str, str, str], list[list[float]]]]:
        for key, points in self.budget_history.items():
            yield key, [[t, u, lim] for t, u, lim in points]


def _end(queue: asyncio.Queue[tuple[str, Any] | None]) -> None:
    """Make the page's stream end: None after whatever fits (drops the oldest if full)."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(None)
