"""Prometheus metrics of the API layer, on their own registry (one per server) and port.

Labels are method names, status codes, session ids, fleet instance names and key fingerprints
(a hash, see AccountConfig.key_fingerprints) only: never tokens, keys or payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ApiMetrics"]


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.rpcs = Counter(
            "krakengw_rpc_total", "RPCs handled", ["method", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "krakengw_rpc_seconds",
            "RPC handling time (streams: until the stream ends)",
            ["method"],
            registry=self.registry,
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5),
        )
        self.sessions = Gauge(
            "krakengw_sessions_active", "Logged-on sessions", registry=self.registry
        )
        self.malformed = Counter(
            "krakengw_malformed_requests_total",
            "Authenticated requests whose message could not be decoded",
            ["method"],
            registry=self.registry,
        )
        self.open_streams = Gauge(
            "krakengw_streams_open", "Open server streams", ["method"], registry=self.registry
        )

    def watch_key_leases(self, instance: str, held: Callable[[], list[str]]) -> None:
        """krakengw_key_lease_held{instance,key_id} = 1 per key lease `held()` lists at scrape
        time (a fleet gateway's leases come and go with takeovers)."""
        self.registry.register(_KeyLeases(instance, held))


class _KeyLeases(Collector):
    def __init__(self, instance: str, held: Callable[[], list[str]]) -> None:
        self._instance = instance
        self._held = held

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "krakengw_key_lease_held",
            "1 for each API key (by fingerprint) whose fleet lease this instance holds",
            labels=["instance", "key_id"],
        )
        for key in self._held():
            family.add_metric([self._instance, key], 1)
        yield family
