"""Spans on the order path (gRPC in -> core -> venue -> ack), off unless a tracer is installed.

Call sites write `with span("core.submit", client_order_id): ...`. While tracing is off (the
default) `span` returns one shared no-op context manager: a global read and a function call,
no allocation, no tracing library imported. `gateway.observability.tracing` installs an
OpenTelemetry-backed factory when the config asks for it; this module knows no tracing library.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

__all__ = ["SpanFactory", "install_span_factory", "span"]

# (span name, client order id or "") -> a context manager that is the span while it runs
SpanFactory = Callable[[str, str], AbstractContextManager[object]]

_OFF: AbstractContextManager[object] = nullcontext()
_factory: SpanFactory | None = None


def install_span_factory(factory: SpanFactory | None) -> None:
    """Turn tracing on (a factory) or off (None) for the whole process."""
    global _factory
    _factory = factory


def span(name: str, client_order_id: str = "") -> AbstractContextManager[object]:
    factory = _factory
    if factory is None:
        return _OFF
    return factory(name, client_order_id)
