"""OpenTelemetry tracing of the order path, when configured (`--tracing console|otlp` or
`[tracing]`): spans `grpc <method>` (the server call), `core.submit` / `core.amend` /
`core.cancel`, and the venue round trip (Spot: `kraken.ws <method>`, `kraken.rest <method>`;
Futures: `kraken.futures.rest <endpoint>`), nested in that order, with the client order id as
attribute `krakengw.client_order_id`.

`console` prints finished spans to stdout; `otlp` sends them over OTLP/HTTP (protobuf) to the
`endpoint` (or the standard OTEL_EXPORTER_OTLP_* environment variables), which needs the
`tracing` extra (`pip install 'krakengw[tracing]'`). Spans are exported in batches off the
event loop. Nothing is recorded, and no OpenTelemetry module is imported, while tracing is off.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

from gateway.config import ConfigError
from gateway.core.tracing import install_span_factory

__all__ = ["EXPORTERS", "configure_tracing"]

EXPORTERS = ("console", "otlp")


def configure_tracing(
    exporter: str, endpoint: str | None = None, *, service_name: str = "krakengw"
) -> Callable[[], Awaitable[None]]:
    """Install the tracer; returns the coroutine function that flushes and stops it."""
    try:
        sdk_trace = importlib.import_module("opentelemetry.sdk.trace")
        sdk_export = importlib.import_module("opentelemetry.sdk.trace.export")
        resources = importlib.import_module("opentelemetry.sdk.resources")
    except ImportError:
        raise ConfigError(
            "tracing needs opentelemetry-sdk: pip install 'krakengw[tracing]'"
        ) from None
    span_exporter: Any
    if exporter == "console":
        span_exporter = sdk_export.ConsoleSpanExporter()
    elif exporter == "otlp":
        try:
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        except ImportError:
            raise ConfigError(
                "the otlp exporter needs opentelemetry-exporter-otlp-proto-http: "
                "pip install 'krakengw[tracing]'"
            ) from None
        span_exporter = (
            otlp.OTLPSpanExporter(endpoint=endpoint) if endpoint else otlp.OTLPSpanExporter()
        )
    else:
        raise ConfigError(f"tracing exporter must be one of {list(EXPORTERS)}, not {exporter!r}")
    resource = resources.Resource.create({"service.name": service_name})
    provider = sdk_trace.TracerProvider(resource=resource)
    provider.add_span_processor(sdk_export.BatchSpanProcessor(span_exporter))
    tracer = provider.get_tracer("krakengw")

    def factory(name: str, client_order_id: str) -> AbstractContextManager[object]:
        attributes = {"krakengw.client_order_id": client_order_id} if client_order_id else None
        started: AbstractContextManager[object] = tracer.start_as_current_span(
            name, attributes=attributes
        )
        return started

    install_span_factory(factory)

    async def shutdown() -> None:
        install_span_factory(None)
        await asyncio.to_thread(provider.shutdown)

    return shutdown
