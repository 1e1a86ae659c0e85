"""A fleet's lease fence on the Kraken REST clients, at the last moment: a signed request that
passed the early check while the lease held, then waited for the connection pool (its only
connection kept busy by a public request the server holds) while the lease ran out on the
holder's clock and another gateway took the key (real PostgreSQL leases), is never written:
the server on 127.0.0.1 sees nothing of it, and the caller gets LeaseLost (KEY_LEASED).
Spot (httpx) and Futures (aiohttp)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from gateway.core.errors import ErrorReason
from gateway.core.leases import KeyInUse, KeyLease, LeaseLost
from gateway.journal import PostgresJournal
from gateway.leases.fence import LEASE_HEADER, AccountFence
from gateway.leases.postgres import PostgresKeyLeases
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient, gated_http_client
from tests.support.postgres import PostgresServer

SECRET = "c3VwZXItc2VjcmV0LWtyYWtlbi1zZWNyZXQ="
TTL_S = 2.0  # long enough for the signed request to pass the early check under load


@dataclass
class _Server:
    """HTTP/1.1 on 127.0.0.1 that records every request line it receives (with its headers),
    holds the answer to any path containing "hold" until `release` is set, and answers every
    request with `body`."""

    body: bytes
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: bytearray = field(default_factory=bytearray)  # every byte, all connections
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.received += head
                line, *header_lines = head.decode().split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (h.partition(":") for h in header_lines if h)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received += body
                self.requests.append((line, headers))
                if "hold" in line.lower():
                    self.held.set()
                    await self.release.wait()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                    + self.body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            # Bytes a refused request might still have sent before the connection closed.
            with contextlib.suppress(Exception):
                self.received += await reader.read()
            writer.close()


@contextlib.asynccontextmanager
async def _serving(body: bytes) -> AsyncIterator[_Server]:
    server = _Server(body)
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{tcp.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        server.release.set()
        tcp.close()
        await tcp.wait_closed()


@dataclass
class _Lease:
    fence: AccountFence
    gate_calls: list[bool]  # each gate check: did the lease hold
    first_check: asyncio.Event
    other: PostgresKeyLeases

    def gate(self) -> None:
        self.gate_calls.append(self.fence.valid())
        self.first_check.set()
        self.fence.check()


@contextlib.asynccontextmanager
async def _leased(pg: PostgresServer) -> AsyncIterator[_Lease]:
    url = pg.create_database()
    journal = await PostgresJournal.open(url, password=pg.password)  # creates key_leases
    one = await PostgresKeyLeases.open(url, password=pg.password, holder="gw-1", ttl_s=TTL_S)
    two = await PostgresKeyLeases.open(url, password=pg.password, holder="gw-2", ttl_s=TTL_S)
    try:
        lease = await one.acquire("key-a")
        yield _Lease(AccountFence("a", [lease]), [], asyncio.Event(), two)
    finally:
        await two.close()
        await one.close()
        await journal.close()


async def _until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def _lose_to_another_gateway(leased: _Lease) -> KeyLease:
    """The lease runs out on gw-1's own clock (as for a gateway frozen past its TTL), then
    gw-2 takes the key once the database says it expired."""
    await _until(lambda: not leased.fence.valid())
    async with asyncio.timeout(15):
        while True:
            try:
                return await leased.other.acquire("key-a")
            except KeyInUse:
                await asyncio.sleep(0.02)


async def _hold_pool_then_sign(
    server: _Server,
    leased: _Lease,
    public: Callable[[], asyncio.Future[object]],
    signed: Callable[[], asyncio.Future[object]],
) -> None:
    holding = asyncio.ensure_future(public())
    await asyncio.wait_for(server.held.wait(), 15)  # the only pooled connection is busy
    sending = asyncio.ensure_future(signed())
    await asyncio.wait_for(leased.first_check.wait(), 15)
    assert leased.gate_calls == [True]  # passed the early check while the lease held
    taken = await _lose_to_another_gateway(leased)
    assert (taken.holder, taken.token) == ("gw-2", 2)
    server.release.set()  # the pool's connection frees up: the signed request may go now
    await asyncio.wait_for(holding, 15)
    with pytest.raises(LeaseLost) as lost:
        await asyncio.wait_for(sending, 15)
    assert lost.value.reason is ErrorReason.KEY_LEASED
    assert leased.gate_calls[-1] is False  # stopped by the last check, not the early one
    assert len(leased.gate_calls) == 2


async def test_spot_signed_request_waiting_for_the_pool_is_never_written_after_the_lease_ends(
    postgres_server: PostgresServer,
) -> None:
    async with _serving(b'{"error":[],"result":{}}') as server, _leased(postgres_server) as leased:
        http = gated_http_client(leased.gate, leased.fence.request_headers(), max_connections=1)
        rest = KrakenSpotRestClient(
            server.url,
            KrakenCredentials("spot-key", SECRET),
            KrakenNonceSource("spot-key", InMemoryNonceStore()),
            KrakenRateGovernor(KrakenTier.PRO),
            http=http,
            read_attempts=1,
        )
        try:
            # Signed while it held: it names the lease it is sent under.
            assert await rest.read("Balance") == {}
            assert server.requests[-1][1][LEASE_HEADER.lower()] == "gw-1 token 1"
            leased.gate_calls.clear()
            leased.first_check.clear()
            await _hold_pool_then_sign(
                server,
                leased,
                lambda: asyncio.ensure_future(rest.public("Hold")),
                lambda: asyncio.ensure_future(rest.write("CancelAll", {})),
            )
        finally:
            await rest.close()
            await http.aclose()
    lines = [line for line, _ in server.requests]
    assert lines == ["POST /0/private/Balance HTTP/1.1", "GET /0/public/Hold HTTP/1.1"]
    assert b"CancelAll" not in server.received  # not one byte of it reached the server


async def test_futures_signed_request_waiting_for_the_pool_is_never_written_after_the_lease_ends(
    postgres_server: PostgresServer,
) -> None:
    async with _serving(b'{"result":"success"}') as server, _leased(postgres_server) as leased:
        rest = KrakenFuturesRestClient(
            server.url,
            KrakenCredentials("futures-key", SECRET),
            KrakenNonceSource("futures-key", InMemoryNonceStore()),
            KrakenFuturesRateGovernor(),
            read_attempts=1,
            before_send=leased.gate,
            private_headers=leased.fence.request_headers(),
            pool_size=1,
        )
        try:
            assert await rest.read("accounts") == {"result": "success"}
            assert server.requests[-1][1][LEASE_HEADER.lower()] == "gw-1 token 1"
            leased.gate_calls.clear()
            leased.first_check.clear()
            await _hold_pool_then_sign(
                server,
                leased,
                lambda: asyncio.ensure_future(rest.public("hold")),
                lambda: asyncio.ensure_future(rest.write("sendorder", {"symbol": "PF_XBTUSD"})),
            )
        finally:
            await rest.close()
    lines = [line for line, _ in server.requests]
    assert lines == [
        "GET /derivatives/api/v3/accounts HTTP/1.1",
        "GET /derivatives/api/v3/hold HTTP/1.1",
    ]
    assert b"sendorder" not in server.received


async def test_futures_body_writer_checks_the_gate_again() -> None:
    """A request with a body is written by aiohttp's writer task after `send` (Python 3.11: a
    loop turn later): a lease lost in between still stops it, and the caller gets the error."""
    async with _serving(b'{"result":"success"}') as server:
        checks: list[str] = []

        def gate() -> None:
            checks.append("check")
            if len(checks) > 2:  # passes the early check and `send`, not the body writer
                raise LeaseLost("lease gone")

        rest = KrakenFuturesRestClient(
            server.url,
            KrakenCredentials("futures-key", SECRET),
            KrakenNonceSource("futures-key", InMemoryNonceStore()),
            KrakenFuturesRateGovernor(),
            before_send=gate,
        )
        try:
            with pytest.raises(LeaseLost):
                await rest.write("sendorder", {"symbol": "PF_XBTUSD"})
            assert checks == ["check"] * 3
            assert await rest.public("instruments") == {"result": "success"}  # ungated
        finally:
            await rest.close()
    assert [line for line, _ in server.requests] == ["GET /derivatives/api/v3/instruments HTTP/1.1"]
    assert b"sendorder" not in server.received
