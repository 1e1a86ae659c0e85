"""Logon, key leasing, authentication and cancel-on-disconnect through the real server."""

from __future__ import annotations

import logging
from decimal import Decimal

import grpc
import pytest

from krakengw import KrakenGwError, OrdStatus, Permission
from krakengw.v1 import sessions_pb2, sessions_pb2_grpc
from tests.integration.api.conftest import RunningGateway


async def test_logon_reports_account_and_permissions(gateway: RunningGateway) -> None:
    info = await gateway.client("a").logon()
    assert info.session_id == "a"
    assert info.account == "acct-a"
    # The account grants drop_copy too, but session `a` does not ask for it: an account grants
    # at most, it does not hand drop_copy to every session.
    assert set(info.permissions) == {Permission.READ, Permission.TRADE, Permission.CANCEL_ONLY}
    assert info.last_sequence == 0


async def test_a_session_without_drop_copy_cannot_watch_the_account(
    gateway: RunningGateway,
) -> None:
    client = gateway.client("a")
    await client.logon()
    with pytest.raises(KrakenGwError) as err:
        async for _ in client.stream_executions(0, drop_copy=True):
            break
    assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert err.value.reason == "PERMISSION_DENIED_DROP_COPY"


async def test_second_logon_on_same_session_is_refused(gateway: RunningGateway) -> None:
    await gateway.client("a").logon()
    with pytest.raises(KrakenGwError) as err:
        await gateway.client("a").logon()
    assert err.value.code is grpc.StatusCode.ALREADY_EXISTS
    assert err.value.reason == "SESSION_ALREADY_ACTIVE"


async def test_second_logon_on_a_leased_key_is_refused_until_logout(
    gateway: RunningGateway,
) -> None:
    first = gateway.client("a")
    await first.logon()
    with pytest.raises(KrakenGwError) as err:
        await gateway.client("a2").logon()
    assert err.value.code is grpc.StatusCode.ALREADY_EXISTS
    assert err.value.reason == "KEY_LEASED"
    assert "'a'" in err.value.message  # names the holder, never the key
    await first.logout()
    await gateway.client("a2").logon()


async def test_drop_copy_observer_logs_on_beside_the_key_holder(gateway: RunningGateway) -> None:
    await gateway.client("a").logon()
    info = await gateway.client("audit").logon()
    assert set(info.permissions) == {Permission.READ, Permission.DROP_COPY}


async def test_unknown_token_is_unauthenticated(gateway: RunningGateway) -> None:
    with pytest.raises(KrakenGwError) as err:
        await gateway.client("a", token="not-a-configured-token").logon()
    assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
    assert err.value.reason == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer "])
async def test_missing_or_malformed_authorization_is_unauthenticated(
    gateway: RunningGateway, header: str | None
) -> None:
    metadata = () if header is None else (("authorization", header),)
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = sessions_pb2_grpc.SessionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Logon(sessions_pb2.LogonRequest(), metadata=metadata)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_calls_before_logon_fail_precondition(gateway: RunningGateway) -> None:
    with pytest.raises(KrakenGwError) as err:
        await gateway.client("a").list_open_orders()
    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.reason == "SESSION_NOT_FOUND"


async def test_heartbeat_echoes_test_request_id(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    beat = await client.heartbeat("ping-1")
    assert beat.time is not None and beat.last_sequence == 0
    # The client model drops the echo; check it on the wire.
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = sessions_pb2_grpc.SessionServiceStub(channel)
        reply = await stub.Heartbeat(
            sessions_pb2.HeartbeatRequest(test_request_id="ping-1"), metadata=client.call_metadata
        )
    assert reply.test_request_id == "ping-1"


async def test_logout_with_cancel_on_disconnect_cancels_open_orders(
    gateway: RunningGateway,
) -> None:
    client = gateway.client("a")
    await client.logon(cancel_on_disconnect=True)
    order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
    assert order.ord_status is OrdStatus.NEW
    assert await client.logout() == 1
    again = gateway.client("a")
    await again.logon()
    assert (await again.get_order(order.client_order_id)).ord_status is OrdStatus.CANCELED


async def test_logout_without_cancel_on_disconnect_keeps_orders(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
    assert await client.logout() == 0
    again = gateway.client("a")
    await again.logon()
    assert (await again.get_order(order.client_order_id)).ord_status is OrdStatus.NEW


async def test_logon_logs_the_client_name(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.sessions.registry")
    await gateway.client("a").logon(client_name="desk-7 algo")
    await gateway.client("a").logon(client_name="desk-7\nrestart", takeover=True)
    names = [getattr(r, "client_name", None) for r in caplog.records if r.name.endswith("registry")]
    # Escaped: a caller's name cannot forge a log line.
    assert names == ["desk-7 algo", "desk-7\\nrestart"]
