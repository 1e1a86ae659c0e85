"""Issue 9 (trust): calls bound to their logon, takeover, logout on exit, expiring tokens,
duplicate auth headers, malformed messages and heartbeat/schedule validation, end to end
through the real server and the real Python client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2

from gateway.app import GatewayApp
from gateway.config import load_config
from krakengw import AsyncClient, Client, KrakenGwError
from krakengw.v1 import sessions_pb2, sessions_pb2_grpc
from tests.integration.api.conftest import (
    CONFIG,
    RunningGateway,
    counting_factory,
    make_tokens,
    start_gateway,
    write_config,
)
from tests.integration.api.helpers import bearer, error_info

TIMEOUT = 10


async def test_a_copied_token_alone_cannot_act_in_a_live_session(
    gateway: RunningGateway,
) -> None:
    owner = gateway.client("a")
    await owner.logon()
    thief = gateway.client("a")  # same token, never logged on: no logon id
    with pytest.raises(KrakenGwError) as err:
        await thief.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
    assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
    assert err.value.reason == "LOGON_ID_MISMATCH"
    with pytest.raises(KrakenGwError) as err:
        await thief.logout()
    assert err.value.reason == "LOGON_ID_MISMATCH"
    assert gateway.venue_calls() == 0
    # The owner is untouched.
    await owner.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
    assert gateway.venue_calls() == 1


async def test_takeover_replaces_the_live_logon_of_the_same_session(
    gateway: RunningGateway,
) -> None:
    crashed = gateway.client("a")
    await crashed.logon()
    order = await crashed.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
    stream = crashed.stream_executions(0)
    await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    restarted = gateway.client("a")
    with pytest.raises(KrakenGwError) as err:
        await restarted.logon()
    assert err.value.reason == "SESSION_ALREADY_ACTIVE"
    info = await restarted.logon(takeover=True)
    assert info.session_id == "a"
    # The new logon owns the session and its orders; the old one is out, its stream ended.
    assert (await restarted.get_order(order.client_order_id)).venue_order_id
    with pytest.raises(KrakenGwError) as err:
        await crashed.list_open_orders()
    assert err.value.reason == "LOGON_ID_MISMATCH"
    with pytest.raises((StopAsyncIteration, KrakenGwError)):
        for _ in range(3):  # what was already delivered (PENDING_NEW, NEW), then the end
            await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    # The key lease stayed with the session throughout: a2 (same key) is still refused.
    with pytest.raises(KrakenGwError) as err:
        await gateway.client("a2").logon()
    assert err.value.reason == "KEY_LEASED"


async def test_leaving_async_with_logs_out(gateway: RunningGateway) -> None:
    async with AsyncClient(gateway.target, gateway.tokens["a"]) as client:
        await client.logon(cancel_on_disconnect=True)
        await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
        assert gateway.app.sessions.active_count() == 1
    assert gateway.app.sessions.active_count() == 0
    # Logged out, not timed out: cancel-on-disconnect ran and a plain logon works again.
    again = gateway.client("a")
    await again.logon()
    assert await again.list_open_orders() == []


async def test_leaving_the_blocking_client_logs_out(gateway: RunningGateway) -> None:
    def use() -> None:
        with Client(gateway.target, gateway.tokens["a"]) as client:
            client.logon()

    await asyncio.to_thread(use)
    assert gateway.app.sessions.active_count() == 0


async def test_duplicate_authorization_headers_are_refused(gateway: RunningGateway) -> None:
    metadata = (*bearer(gateway.tokens["a"]), *bearer(gateway.tokens["b"]))
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = sessions_pb2_grpc.SessionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Logon(sessions_pb2.LogonRequest(), metadata=metadata)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert gateway.app.sessions.active_count() == 0


async def test_a_token_past_its_expiry_no_longer_authenticates(tmp_path: Path) -> None:
    body = CONFIG.replace(
        'token_env = "TOKEN_B"', 'token_env = "TOKEN_B"\ntoken_expires = 2001-01-01T00:00:00Z'
    ).replace('token_env = "TOKEN_RO"', 'token_env = "TOKEN_RO"\ntoken_expires = 2999-01-01Z')
    body = body.replace("2999-01-01Z", "2999-01-01T00:00:00Z")
    running = await start_gateway(tmp_path, body)
    try:
        with pytest.raises(KrakenGwError) as err:
            await running.client("b").logon()
        assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
        assert running.tokens["b"] not in str(err.value)
        await running.client("ro").logon()  # not expired yet
    finally:
        for client in running.clients:
            await client.close()
        await running.app.stop()


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[tuple[GatewayApp, dict[str, str], str]]:
    tokens = make_tokens()
    env = {f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    config = load_config(write_config(tmp_path), environ=env)
    app = await GatewayApp.build(config, venues=counting_factory({}), metrics=True)
    port = await app.start("127.0.0.1:0")
    try:
        yield app, tokens, f"127.0.0.1:{port}"
    finally:
        await app.stop()


def _malformed_count(app: GatewayApp) -> float:
    assert app.metrics is not None
    value = app.metrics.registry.get_sample_value(
        "krakengw_malformed_requests_total",
        {"method": "/krakengw.v1.OrderService/SubmitOrder"},
    )
    return value or 0.0


GARBAGE = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, length-delimited, length beyond the buffer


async def test_malformed_protobuf_is_invalid_argument_logged_once_and_counted(
    metered: tuple[GatewayApp, dict[str, str], str], caplog: pytest.LogCaptureFixture
) -> None:
    app, tokens, target = metered
    client = AsyncClient(target, tokens["a"])
    await client.logon()
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    async with grpc.aio.insecure_channel(target) as channel:
        raw = channel.unary_unary("/krakengw.v1.OrderService/SubmitOrder")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await raw(GARBAGE, metadata=client.call_metadata)
    await client.close()
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(err.value).reason == "ERROR_REASON_MALFORMED_REQUEST"
    details = err.value.details() or ""
    assert "Traceback" not in details and "DecodeError" not in details
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "SubmitOrder" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    assert _malformed_count(app) == 1


async def test_unauthenticated_garbage_is_refused_before_decoding(
    metered: tuple[GatewayApp, dict[str, str], str], caplog: pytest.LogCaptureFixture
) -> None:
    app, _tokens, target = metered
    caplog.set_level(logging.DEBUG)
    async with grpc.aio.insecure_channel(target) as channel:
        raw = channel.unary_unary("/krakengw.v1.OrderService/SubmitOrder")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await raw(GARBAGE, metadata=bearer("not-a-token"))
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert _malformed_count(app) == 0  # never decoded
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "interval",
    [
        duration_pb2.Duration(seconds=-5),
        duration_pb2.Duration(seconds=1, nanos=-1),
        duration_pb2.Duration(nanos=2_000_000_000),
        duration_pb2.Duration(seconds=10**9),
    ],
)
async def test_a_nonsense_heartbeat_interval_is_refused(
    gateway: RunningGateway, interval: duration_pb2.Duration
) -> None:
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = sessions_pb2_grpc.SessionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Logon(
                sessions_pb2.LogonRequest(heartbeat_interval=interval),
                metadata=bearer(gateway.tokens["a"]),
            )
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(err.value)
    assert info.reason == "ERROR_REASON_INVALID_FIELD"
    assert info.metadata["field"] == "heartbeat_interval"
    assert gateway.app.sessions.active_count() == 0


@pytest.mark.parametrize("field", ["start_time", "expire_time"])
async def test_a_start_or_expire_time_in_year_9999_is_refused_before_the_venue(
    gateway: RunningGateway, field: str
) -> None:
    client = gateway.client("a")
    await client.logon()
    far = datetime(9999, 1, 1, tzinfo=UTC)
    extra = {"time_in_force": "GTD"} if field == "expire_time" else {}
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order(
            "BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"), **{field: far}, **extra
        )  # type: ignore[call-overload]
    assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.reason == "INVALID_FIELD"
    assert err.value.metadata["field"].endswith(field)
    assert gateway.venue_calls() == 0
    # Within the horizon it goes through.
    soon = datetime.now(UTC) + timedelta(days=2)
    await client.submit_order(
        "BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"), **{field: soon}, **extra
    )  # type: ignore[call-overload]
    assert gateway.venue_calls() == 1


async def test_an_unknown_venue_is_its_own_reason(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order(
            "BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"), venue="nasdaq"
        )
    assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.reason == "UNKNOWN_VENUE"
    assert err.value.metadata["field"].endswith("venue")
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order("NOPE/USD", "buy", Decimal("0.01"), price=Decimal("1"))
    assert err.value.reason == "UNKNOWN_SYMBOL"
    assert gateway.venue_calls() == 0
