"""Prometheus metrics of the API layer, on their own registry (one per server) and port.

Labels are method names, status codes and session ids only: never tokens, keys or payloads.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.open_streams = Gauge(
            "krakengw_streams_open", "Open server streams", ["method"], registry=self.registry
        )
