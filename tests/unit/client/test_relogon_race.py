"""Several calls of one fleet client that lose the session together log on again once, and a
call refused for a logon id the client has replaced since is repeated with the current one.

A fake gateway on a real 127.0.0.1 socket that binds calls to logon ids like the real one: each
Logon gets a new id, a call carrying another id is refused with LOGON_ID_MISMATCH, and after
the test drops the session every call is refused with NOT_LOGGED_ON until a new Logon.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from decimal import Decimal

import grpc
import pytest

from krakengw import AsyncClient, Client, KrakenGwError, ReconnectPolicy
from krakengw.v1 import orders_pb2, orders_pb2_grpc, sessions_pb2, sessions_pb2_grpc
from tests.unit.client.fake_gateway import TOKEN, abort_with, error_status

POLICY = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, max_attempts=5)
WAIT_S = 10.0  # bounds every wait of the fake, so a broken client fails instead of hanging


class Bound:
    """The one session of the fake and the logon id its calls must carry."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.current: str | None = None
        self.logons = 0
        self.refused = 0  # calls answered NOT_LOGGED_ON
        self.hold_logon_until_refused = 0  # a Logon waits until this many were refused

    def drop(self) -> None:
        """The gateway lost the session (e.g. it lost the account's key lease)."""
        with self.cond:
            self.current = None

    def check(self, context: grpc.ServicerContext) -> None:
        used = dict(context.invocation_metadata()).get("krakengw-logon-id")
        with self.cond:
            current = self.current
            if current is None:
                self.refused += 1
                self.cond.notify_all()
        if current is None:
            code = grpc.StatusCode.FAILED_PRECONDITION
            abort_with(context, error_status(code, "not logged on", "NOT_LOGGED_ON"))
        if used != current:
            code = grpc.StatusCode.UNAUTHENTICATED
            abort_with(context, error_status(code, "another logon", "LOGON_ID_MISMATCH"))

    def mismatch(self, context: grpc.ServicerContext) -> bool:
        used = dict(context.invocation_metadata()).get("krakengw-logon-id")
        with self.cond:
            return used != self.current


class Sessions(sessions_pb2_grpc.SessionServiceServicer):
    def __init__(self, bound: Bound) -> None:
        self.bound = bound

    def Logon(
        self, request: sessions_pb2.LogonRequest, context: grpc.ServicerContext
    ) -> sessions_pb2.LogonResponse:
        bound = self.bound
        with bound.cond:
            bound.logons += 1
            bound.cond.wait_for(
                lambda: bound.refused >= bound.hold_logon_until_refused, timeout=WAIT_S
            )
            if bound.current is not None:
                code = grpc.StatusCode.ALREADY_EXISTS
                status = error_status(code, "already logged on", "SESSION_ALREADY_ACTIVE")
            else:
                bound.current = f"L{bound.logons}"
                return sessions_pb2.LogonResponse(session_id="s1", logon_id=bound.current)
        abort_with(context, status)
        raise AssertionError("unreachable")

    def Heartbeat(
        self, request: sessions_pb2.HeartbeatRequest, context: grpc.ServicerContext
    ) -> sessions_pb2.HeartbeatResponse:
        self.bound.check(context)
        return sessions_pb2.HeartbeatResponse()

    def Logout(
        self, request: sessions_pb2.LogoutRequest, context: grpc.ServicerContext
    ) -> sessions_pb2.LogoutResponse:
        return sessions_pb2.LogoutResponse()


class Orders(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, bound: Bound) -> None:
        self.bound = bound

    def OrderEntry(
        self,
        request_iterator: Iterator[orders_pb2.OrderEntryRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[orders_pb2.OrderEntryResponse]:
        """Like the gateway: each request is checked against the stream's logon id."""
        for request in request_iterator:
            cid = request.correlation_id
            if self.bound.mismatch(context):
                code = grpc.StatusCode.UNAUTHENTICATED
                error = error_status(code, "another logon", "LOGON_ID_MISMATCH")
                yield orders_pb2.OrderEntryResponse(correlation_id=cid, error=error)
                continue
            order = orders_pb2.Order(
                spec=request.submit_order.order, ord_status=orders_pb2.ORD_STATUS_NEW
            )
            ack = orders_pb2.SubmitOrderResponse(order=order)
            yield orders_pb2.OrderEntryResponse(correlation_id=cid, submit_order=ack)


@contextmanager
def _fleet() -> Iterator[tuple[list[str], Bound]]:
    """Two addresses of one fake gateway: a fleet client of it (it never moves here)."""
    bound = Bound()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    sessions_pb2_grpc.add_SessionServiceServicer_to_server(Sessions(bound), server)  # type: ignore[abstract]
    orders_pb2_grpc.add_OrderServiceServicer_to_server(Orders(bound), server)  # type: ignore[abstract]
    ports = [server.add_insecure_port("127.0.0.1:0") for _ in range(2)]
    server.start()
    try:
        yield [f"127.0.0.1:{port}" for port in ports], bound
    finally:
        server.stop(grace=None)


async def test_calls_that_lose_the_session_together_log_on_again_once() -> None:
    with _fleet() as (targets, bound):
        async with AsyncClient(targets, TOKEN, reconnect=POLICY) as client:
            await client.logon()
            bound.drop()
            # The relogon is answered only once both calls were refused: both want one.
            bound.hold_logon_until_refused = 2
            await asyncio.gather(client.heartbeat(), client.heartbeat())
            assert bound.logons == 2  # the first logon and one relogon


def test_the_blocking_client_logs_on_again_once_for_calls_that_lost_the_session() -> None:
    with _fleet() as (targets, bound), Client(targets, TOKEN, reconnect=POLICY) as client:
        client.logon()
        bound.drop()
        bound.hold_logon_until_refused = 2
        with futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: client.heartbeat(), range(2)))
        assert bound.logons == 2


async def test_an_order_entry_refused_for_a_replaced_logon_id_sends_again_with_the_new_one() -> (
    None
):
    with _fleet() as (targets, bound):
        async with AsyncClient(targets, TOKEN, reconnect=POLICY) as client:
            await client.logon()
            async with client.order_entry() as entry:  # carries the first logon's id
                bound.drop()
                await client.heartbeat()  # logs on again: the entry's id is replaced
                order = await entry.submit_order("BTC/USD", "buy", Decimal("0.01"))
            assert order.order_qty == Decimal("0.01")
            assert bound.logons == 2


def test_the_blocking_order_entry_sends_again_with_the_new_logon_id() -> None:
    with _fleet() as (targets, bound), Client(targets, TOKEN, reconnect=POLICY) as client:
        client.logon()
        with client.order_entry() as entry:
            bound.drop()
            client.heartbeat()
            order = entry.submit_order("BTC/USD", "buy", Decimal("0.01"))
        assert order.order_qty == Decimal("0.01")
        assert bound.logons == 2


async def test_a_logon_id_mismatch_of_the_current_id_is_not_repeated() -> None:
    """Someone else took the session over: the client's current id is refused, it stops."""
    with _fleet() as (targets, bound):
        async with AsyncClient(targets, TOKEN, reconnect=POLICY) as client:
            await client.logon()
            with bound.cond:
                bound.current = "someone-else"
            with pytest.raises(KrakenGwError) as refused:
                await client.heartbeat()
            assert refused.value.reason == "LOGON_ID_MISMATCH"
            assert bound.logons == 1
