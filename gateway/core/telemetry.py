"""What the gateway reports about its own work, as plain calls: no metrics library in here.

Venue adapters, the rate governor and the journal receive a `Telemetry` and call it at the
points an operator wants to see (a venue round trip, a reconnect, a governor wait). The metrics
exporter (`gateway.observability.metrics`) and the operator console implement it; `NO_TELEMETRY`
is the default that does nothing, so code under test or in benchmarks pays one no-op call.
Labels are identifiers only (venue, method, non-secret key id, pair, reason): never secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["NO_TELEMETRY", "FanoutTelemetry", "NullTelemetry", "Telemetry"]


class Telemetry(Protocol):
    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        """One request to a venue answered (or failed) after `seconds`; `outcome` is `ok`,
        `error` (the venue refused) or `no_answer` (transport failure or timeout)."""

    def venue_reconnect(self, venue: str, channel: str) -> None:
        """A venue connection (e.g. the private WebSocket) was re-established after a loss."""

    def governor_wait(self, key_id: str, budget: str, pair: str, seconds: float) -> None:
        """The rate governor held a request for `seconds` until the budget had decayed
        (`pair` is set for per-pair budgets, else "")."""

    def governor_refusal(self, key_id: str, budget: str, pair: str) -> None:
        """The rate governor refused a request (the wait would have been too long)."""

    def outcome_unknown(self, action: str) -> None:
        """A venue call's outcome is unknown (no answer after sending); `action` e.g. submit."""

    def outcome_resolved(self, resolution: str) -> None:
        """An outcome-unknown order was settled by query; `resolution` is the status found."""

    def journal_commit(self, seconds: float, operations: int) -> None:
        """The journal committed a batch (may be called from the journal's writer thread)."""


class NullTelemetry:
    """Telemetry that records nothing."""

    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        pass

    def venue_reconnect(self, venue: str, channel: str) -> None:
        pass

    def governor_wait(self, key_id: str, budget: str, pair: str, seconds: float) -> None:
        pass

    def governor_refusal(self, key_id: str, budget: str, pair: str) -> None:
        pass

    def outcome_unknown(self, action: str) -> None:
        pass

    def outcome_resolved(self, resolution: str) -> None:
        pass

    def journal_commit(self, seconds: float, operations: int) -> None:
        pass


NO_TELEMETRY: Telemetry = NullTelemetry()


class FanoutTelemetry:
    """Hands every call to each of several sinks (e.g. the metrics exporter and the console)."""

    def __init__(self, sinks: Sequence[Telemetry]) -> None:
        self._sinks = tuple(sinks)

    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        for s in self._sinks:
            s.venue_request(venue, method, seconds, outcome)

    def venue_reconnect(self, venue: str, channel: str) -> None:
        for s in self._sinks:
            s.venue_reconnect(venue, channel)

    def governor_wait(self, key_id: str, budget: str, pair: str, seconds: float) -> None:
        for s in self._sinks:
            s.governor_wait(key_id, budget, pair, seconds)

    def governor_refusal(self, key_id: str, budget: str, pair: str) -> None:
        for s in self._sinks:
            s.governor_refusal(key_id, budget, pair)

    def outcome_unknown(self, action: str) -> None:
        for s in self._sinks:
            s.outcome_unknown(action)

    def outcome_resolved(self, resolution: str) -> None:
        for s in self._sinks:
            s.outcome_resolved(resolution)

    def journal_commit(self, seconds: float, operations: int) -> None:
        for s in self._sinks:
            s.journal_commit(seconds, operations)
