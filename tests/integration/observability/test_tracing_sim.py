"""OpenTelemetry tracing over OTLP/HTTP to a local collector (an aiohttp receiver on
127.0.0.1): one SubmitOrder on the simulator gives the span chain gRPC -> core -> venue in one
trace, with the client order id; tracing off records nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from gateway.cli import dev_config, running_gateway
from gateway.config import TracingConfig
from gateway.core import tracing
from krakengw import AsyncClient
from tests.secret_scan import register_secret

SUBMIT = "grpc /krakengw.v1.OrderService/SubmitOrder"


class Collector:
    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _traces(self, request: web.Request) -> web.Response:
        export = trace_service_pb2.ExportTraceServiceRequest.FromString(await request.read())
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        body = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")

    async def __aenter__(self) -> Collector:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1/traces"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    async with Collector() as c:
        yield c


async def _one_order(tmp_path: Path, tracing_config: TracingConfig) -> tuple[str, bool]:
    """Submit one order; (its client order id, whether spans were on while it ran)."""
    token = "trace-" + secrets.token_urlsafe(18)
    register_secret(token)
    config = replace(dev_config("127.0.0.1:0", tmp_path / "data", token), tracing=tracing_config)
    async with running_gateway(config, None) as (app, _sim):
        spans_on = tracing.span("probe") is not tracing._OFF
        async with AsyncClient(f"127.0.0.1:{app.port}", token) as client:
            await client.logon()
            order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"))
            await client.logout()
    return order.client_order_id, spans_on


async def test_order_path_spans_reach_an_otlp_collector(
    tmp_path: Path, collector: Collector
) -> None:
    tracing_config = TracingConfig(exporter="otlp", endpoint=collector.url)
    client_order_id, spans_on = await _one_order(tmp_path, tracing_config)
    assert spans_on
    assert tracing._factory is None  # switched off again when the gateway stopped

    by_id = {s.span_id: s for s in collector.spans}
    submits = [s for s in collector.spans if s.name == SUBMIT]
    assert len(submits) == 1
    grpc_span = submits[0]
    core = [s for s in collector.spans if s.name == "core.submit"]
    assert len(core) == 1 and core[0].parent_span_id == grpc_span.span_id
    attributes = {a.key: a.value.string_value for a in core[0].attributes}
    assert attributes["krakengw.client_order_id"] == client_order_id
    venue = [s for s in collector.spans if s.parent_span_id == core[0].span_id]
    assert [s.name for s in venue] == ["kraken.ws add_order"]
    assert {s.trace_id for s in (grpc_span, core[0], venue[0])} == {grpc_span.trace_id}
    assert venue[0].start_time_unix_nano >= core[0].start_time_unix_nano
    assert all(s.parent_span_id in by_id or not s.parent_span_id for s in collector.spans)


async def test_tracing_off_records_nothing(tmp_path: Path, collector: Collector) -> None:
    _, spans_on = await _one_order(tmp_path, TracingConfig())
    assert not spans_on  # every span() call site got the shared no-op
    assert collector.spans == []
