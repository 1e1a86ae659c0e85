"""Prometheus metrics of the whole gateway, on their own registry (one per gateway) and port.

`GatewayMetrics` is a `Telemetry` sink (venue round trips, reconnects, governor waits and
refusals, unknown outcomes, journal commits), counts execution reports and rejects from the
journal's committed reports, and reads the rest at scrape time from the read model (rate
budgets per key and pair, sessions and leases, stream lag, venue connection, dead man's switch).
Labels are identifiers only: venue, method, account, non-secret key id, pair, reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.api.metrics import ApiMetrics
from gateway.console.read_model import GatewayReadModel
from gateway.core.model import ExecType, ExecutionReport

__all__ = ["GatewayMetrics"]

# Venue round trips: a local simulator answers in well under a millisecond, Kraken in tens.
_VENUE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60)
_COMMIT_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25)


class GatewayMetrics:
    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        if process:
            # The default collectors of prometheus_client, put on this registry: CPU, memory,
            # open fds, start time, GC and the Python version.
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
        self.api = ApiMetrics(self.registry)
        r = self.registry
        self.venue_seconds = Histogram(
            "krakengw_venue_request_seconds",
            "Round trip of one venue request (REST call or WS trading method)",
            ["venue", "method", "outcome"],
            registry=r,
            buckets=_VENUE_BUCKETS,
        )
        self.reconnects = Counter(
            "krakengw_venue_reconnects_total",
            "Venue connections re-established after a loss",
            ["venue", "channel"],
            registry=r,
        )
        self.governor_wait_seconds = Histogram(
            "krakengw_rate_governor_wait_seconds",
            "Time the rate governor held a request until its budget had decayed",
            ["key_id", "budget", "pair"],
            registry=r,
            buckets=_WAIT_BUCKETS,
        )
        self.refusals = Counter(
            "krakengw_rate_governor_refusals_total",
            "Requests the rate governor refused (RATE_LIMITED) instead of waiting",
            ["key_id", "budget", "pair"],
            registry=r,
        )
        self.reports = Counter(
            "krakengw_execution_reports_total",
            "Execution reports committed to the journal",
            ["venue", "exec_type"],
            registry=r,
        )
        self.rejects = Counter(
            "krakengw_order_rejects_total",
            "Orders rejected (REJECTED execution reports), by reason",
            ["venue", "reason"],
            registry=r,
        )
        self.unknown = Counter(
            "krakengw_outcome_unknown_total",
            "Venue calls whose outcome was unknown (no answer after sending)",
            ["action"],
            registry=r,
        )
        self.resolved = Counter(
            "krakengw_outcome_resolved_total",
            "Outcome-unknown orders settled by query, by the status found",
            ["resolution"],
            registry=r,
        )
        self.journal_commit_seconds = Histogram(
            "krakengw_journal_commit_seconds",
            "Time of one journal group commit",
            registry=r,
            buckets=_COMMIT_BUCKETS,
        )
        self._state = _StateCollector()
        r.register(self._state)

    def watch(self, read_model: GatewayReadModel) -> None:
        """Read sessions, budgets and venue status from here at each scrape."""
        self._state.model = read_model
        self.api.sessions.set_function(read_model.registry.active_count)

    # -- committed reports (journal listener) ---------------------------------------------
    def on_report(self, report: ExecutionReport) -> None:
        self.reports.labels(report.venue, report.exec_type.name).inc()
        if report.exec_type is ExecType.REJECTED:
            reason = report.reject.reason.name if report.reject is not None else "UNKNOWN"
            self.rejects.labels(report.venue, reason).inc()

    # -- Telemetry ------------------------------------------------------------------------
    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        self.venue_seconds.labels(venue, method, outcome).observe(seconds)

    def venue_reconnect(self, venue: str, channel: str) -> None:
        self.reconnects.labels(venue, channel).inc()

    def governor_wait(self, key_id: str, budget: str, pair: str, seconds: float) -> None:
        self.governor_wait_seconds.labels(key_id, budget, pair).observe(seconds)

    def governor_refusal(self, key_id: str, budget: str, pair: str) -> None:
        self.refusals.labels(key_id, budget, pair).inc()

    def outcome_unknown(self, action: str) -> None:
        self.unknown.labels(action).inc()

    def outcome_resolved(self, resolution: str) -> None:
        self.resolved.labels(resolution).inc()

    def journal_commit(self, seconds: float, operations: int) -> None:
        self.journal_commit_seconds.observe(seconds)


class _StateCollector(Collector):
    """Gauges computed at scrape time from the read model (nothing cached between scrapes)."""

    def __init__(self) -> None:
        self.model: GatewayReadModel | None = None

    def describe(self) -> list[Metric]:
        return []  # the families depend on what runs; describing none keeps registration lazy

    def collect(self) -> Iterator[Metric]:
        model = self.model
        if model is None:
            return
        labels = ["account", "key_id", "budget", "pair"]
        used = GaugeMetricFamily(
            "krakengw_rate_budget_used", "Modelled venue rate counter now", labels=labels
        )
        limit = GaugeMetricFamily(
            "krakengw_rate_budget_limit", "Ceiling the rate governor enforces", labels=labels
        )
        for row in model.budgets():
            values = [row.account, row.key_id, row.budget.name, row.budget.symbol or ""]
            used.add_metric(values, float(row.budget.used))
            limit.add_metric(values, float(row.budget.limit))
        yield used
        yield limit
        sessions = model.sessions()
        leases = GaugeMetricFamily(
            "krakengw_key_leases", "Sessions holding their account's key lease", labels=[]
        )
        leases.add_metric([], sum(1 for s in sessions if s.leased))
        yield leases
        heartbeat = GaugeMetricFamily(
            "krakengw_session_heartbeat_age_seconds",
            "Seconds since each live session's last RPC or stream event",
            labels=["session_id", "account"],
        )
        for s in sessions:
            heartbeat.add_metric([s.session_id, s.account], s.heartbeat_age_s)
        yield heartbeat
        lag = GaugeMetricFamily(
            "krakengw_stream_lag_reports",
            "Committed execution reports a session's open stream has not taken yet",
            labels=["session_id"],
        )
        for session_id, behind in sorted(model.stream_lags().items()):
            lag.add_metric([session_id], behind)
        yield lag
        connected = GaugeMetricFamily(
            "krakengw_venue_connected",
            "1 while the private venue connection of a key is up",
            labels=["account", "venue", "key_id"],
        )
        dead_man = GaugeMetricFamily(
            "krakengw_dead_man_expires_in_seconds",
            "Seconds until the venue cancels the key's orders unless refreshed (armed keys)",
            labels=["account", "venue", "key_id"],
        )
        kill = GaugeMetricFamily(
            "krakengw_kill_switch_active",
            "1 while an account's kill switch is on",
            labels=["account"],
        )
        for account in model.accounts():
            kill.add_metric([account.account], 1.0 if account.kill_switch else 0.0)
            for v in account.venues:
                key = [account.account, v.venue, v.key_id]
                connected.add_metric(key, 1.0 if v.connected else 0.0)
                if v.dead_man_expires_in_s is not None:
                    dead_man.add_metric(key, v.dead_man_expires_in_s)
        yield connected
        yield dead_man
        yield kill
