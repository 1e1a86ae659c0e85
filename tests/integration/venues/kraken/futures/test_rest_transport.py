"""The Futures REST client's transport outcomes on real sockets: nothing listening -> not sent
(Unavailable); an answer that never comes after a send -> OutcomeUnknown; a read is retried."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gateway.core.errors import ErrorReason, OutcomeUnknown, Unavailable
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
