"""The Futures REST client's transport outcomes on real sockets: nothing listening -> not sent
(Unavailable); an answer that never comes after a send -> OutcomeUnknown; a read is retried."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gateway.core.errors import ErrorReason, OutcomeUnknown, Unavailable
from gateway.core.telemetry import NullTelemetry
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient

SECRET = "c3VwZXItc2VjcmV0LWtyYWtlbi1zZWNyZXQ="


def _client(base: str, **kw: object) -> KrakenFuturesRestClient:
    return KrakenFuturesRestClient(
        base,
        KrakenCredentials("k", SECRET),
        KrakenNonceSource("k", InMemoryNonceStore()),
        KrakenFuturesRateGovernor(),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def silent_server() -> AsyncIterator[tuple[str, list[str]]]:
    """Reads each request, then never answers; records the paths it got."""
    seen: list[str] = []
    never = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        await never.wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_nothing_listening_is_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens
    rest = _client(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(Unavailable) as err:
            await rest.write("sendorder", {"symbol": "PF_XBTUSD"})
        assert err.value.reason is ErrorReason.VENUE_UNAVAILABLE
    finally:
        await rest.close()


async def test_lost_answer_after_send_is_outcome_unknown_and_sent_once(
    silent_server: tuple[str, list[str]],
) -> None:
    base, seen = silent_server
    rest = _client(base, timeout_s=0.3, retry_wait_s=0.0)
    try:
        with pytest.raises(OutcomeUnknown) as err:
            await rest.write("sendorder", {"symbol": "PF_XBTUSD"})
        assert err.value.reason is ErrorReason.VENUE_TIMEOUT
        assert seen == ["/derivatives/api/v3/sendorder"]
        with pytest.raises(Unavailable):
            await rest.read("openorders")
        assert seen.count("/derivatives/api/v3/openorders") == 4  # a read is retried (4 tries)
    finally:
        await rest.close()


class _Recorder(NullTelemetry):
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []

    def venue_request(self, venue: str, method: str, seconds: float, outcome: str) -> None:
        assert seconds >= 0
        self.requests.append((venue, method, outcome))


async def test_round_trips_reach_telemetry_by_endpoint_and_outcome(
    silent_server: tuple[str, list[str]],
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    telemetry = _Recorder()

    async def instruments(_request: web.Request) -> web.Response:
        return web.json_response({"result": "success", "instruments": []})

    app = web.Application()
    app.router.add_get("/derivatives/api/v3/instruments", instruments)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    answering = _client(f"http://127.0.0.1:{runner.addresses[0][1]}", telemetry=telemetry)
    try:
        assert (await answering.public("instruments"))["instruments"] == []
    finally:
        await answering.close()
        await runner.cleanup()
    refused = _client(f"http://127.0.0.1:{port}", telemetry=telemetry, read_attempts=1)
    base, _ = silent_server
    silent = _client(base, timeout_s=0.3, telemetry=telemetry)
    try:
        with pytest.raises(Unavailable):
            await refused.write("sendorder", {"symbol": "PF_XBTUSD"})
        with pytest.raises(OutcomeUnknown):
            await silent.write("editorder", {"orderId": "x"})
    finally:
        await refused.close()
        await silent.close()
    assert telemetry.requests == [
        ("krakenfutures", "instruments", "ok"),
        ("krakenfutures", "sendorder", "no_answer"),
        ("krakenfutures", "editorder", "no_answer"),
    ]
