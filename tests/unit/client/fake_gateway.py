"""A scripted fake gateway on a real 127.0.0.1 socket, for the Python client's tests.

It implements just enough of the contract (sessions, a few order calls, the execution stream)
with behaviour the tests script per call; it records what the client sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from krakengw.v1 import (
    common_pb2,
    executions_pb2,
    executions_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
)

TOKEN = "tok-s3cr3t-value"
# How long a held stream waits for the client to go away before the server gives up.
HOLD_LIMIT_S = 30.0


def error_status(
    code: grpc.StatusCode, message: str, reason: str = "", retry_after_s: int | None = None
) -> status_pb2.Status:
    """A google.rpc.Status as the gateway sends it: ErrorInfo (+ RetryInfo)."""
    status = status_pb2.Status(code=code.value[0], message=message)
    if reason:
        info = error_details_pb2.ErrorInfo(
            reason=f"ERROR_REASON_{reason}", domain="krakengw", metadata={"field": "price"}
        )
        packed = any_pb2.Any()
        packed.Pack(info)
        status.details.append(packed)
    if retry_after_s is not None:
        retry = error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=retry_after_s)
        )
        packed = any_pb2.Any()
        packed.Pack(retry)
        status.details.append(packed)
    return status


def abort_with(context: grpc.ServicerContext, status: status_pb2.Status) -> None:
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(next(c for c in grpc.StatusCode if c.value[0] == status.code), status.message)


def report(seq: int) -> executions_pb2.StreamExecutionsResponse:
    return executions_pb2.StreamExecutionsResponse(
        execution_report=executions_pb2.ExecutionReport(
            sequence=seq,
            account_sequence=seq,
            exec_id=f"E{seq}",
            exec_type=executions_pb2.EXEC_TYPE_NEW,
            client_order_id=f"c{seq}",
            instrument=common_pb2.InstrumentId(venue="kraken", symbol="BTC/USD"),
            order_qty="1.50",
            cum_qty="0",
            leaves_qty="1.50",
        )
    )


@dataclass
class StreamPlan:
    """What one StreamExecutions call does: replay from `from_sequence + 1 - overlap`, send
    at most `count` reports (skipping `skip`), in `execution_reports` batches of `batch` when
    set, then end with `abort` or hold the stream open."""

    overlap: int = 0
    count: int | None = None
    skip: int | None = None
    abort: status_pb2.Status | None = None
    heartbeat_first: bool = False
    batch: int = 0


@dataclass
class FakeGateway:
    total_reports: int = 0
    stream_plans: list[StreamPlan] = field(default_factory=list)
    stream_requests: list[executions_pb2.StreamExecutionsRequest] = field(default_factory=list)
    unary_error: status_pb2.Status | None = None
    order_requests: list[Any] = field(default_factory=list)
    list_pages: list[orders_pb2.ListOpenOrdersResponse] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    logons: int = 0
    logon_errors: list[status_pb2.Status] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, context: grpc.ServicerContext) -> None:
        with self.lock:
            for key, value in context.invocation_metadata():
                if key == "authorization":
                    self.authorizations.append(value)

    def fail_if_scripted(self, context: grpc.ServicerContext) -> None:
        if self.unary_error is not None:
            abort_with(context, self.unary_error)


class Sessions(sessions_pb2_grpc.SessionServiceServicer):
    def __init__(self, gw: FakeGateway) -> None:
        self.gw = gw

    def Logon(
        self, request: sessions_pb2.LogonRequest, context: grpc.ServicerContext
    ) -> sessions_pb2.LogonResponse:
        self.gw.seen(context)
        self.gw.logons += 1
        if self.gw.logon_errors:
            abort_with(context, self.gw.logon_errors.pop(0))
        return sessions_pb2.LogonResponse(
            session_id="s1",
            account="acct",
            permissions=[sessions_pb2.PERMISSION_READ, sessions_pb2.PERMISSION_TRADE],
            last_sequence=7,
            cancel_on_disconnect=request.cancel_on_disconnect,
        )

    def Logout(
        self, request: sessions_pb2.LogoutRequest, context: grpc.ServicerContext
    ) -> sessions_pb2.LogoutResponse:
        self.gw.seen(context)
        return sessions_pb2.LogoutResponse(canceled_count=2)


class Orders(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, gw: FakeGateway) -> None:
        self.gw = gw

    def SubmitOrder(
        self, request: orders_pb2.SubmitOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.SubmitOrderResponse:
        self.gw.seen(context)
        self.gw.fail_if_scripted(context)
        self.gw.order_requests.append(request)
        order = orders_pb2.Order(
            spec=request.order,
            ord_status=orders_pb2.ORD_STATUS_NEW,
            venue_order_id="OABCDE-FGHIJ-KLMNOP",
            cum_qty="0.25",
            leaves_qty="0.75",
            avg_px="50000.10",
        )
        return orders_pb2.SubmitOrderResponse(order=order)

    def SubmitOrderBatch(
        self, request: orders_pb2.SubmitOrderBatchRequest, context: grpc.ServicerContext
    ) -> orders_pb2.SubmitOrderBatchResponse:
        self.gw.seen(context)
        rejected = error_status(
            grpc.StatusCode.INVALID_ARGUMENT, "price off tick", "PRICE_OFF_TICK"
        )
        results = [
            orders_pb2.OrderResult(error=rejected)
            if spec.price.endswith("5")
            else orders_pb2.OrderResult(order=orders_pb2.Order(spec=spec))
            for spec in request.orders
        ]
        return orders_pb2.SubmitOrderBatchResponse(results=results)

    def OrderEntry(
        self,
        request_iterator: Iterator[orders_pb2.OrderEntryRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[orders_pb2.OrderEntryResponse]:
        """Acks each request at once, except submits whose client order id starts with "pair":
        the first of two is held and acked after the second (acks out of request order)."""
        self.gw.seen(context)
        held = None
        for request in request_iterator:
            ack = self._entry_ack(request)
            paired = request.WhichOneof("request") == "submit_order" and (
                request.submit_order.order.client_order_id.startswith("pair")
            )
            if paired and held is None:
                held = ack
                continue
            yield ack
            if paired and held is not None:
                yield held
                held = None

    def _entry_ack(self, request: orders_pb2.OrderEntryRequest) -> orders_pb2.OrderEntryResponse:
        cid = request.correlation_id
        kind = request.WhichOneof("request")
        if kind == "submit_order":
            order = orders_pb2.Order(
                spec=request.submit_order.order, ord_status=orders_pb2.ORD_STATUS_NEW
            )
            return orders_pb2.OrderEntryResponse(
                correlation_id=cid, submit_order=orders_pb2.SubmitOrderResponse(order=order)
            )
        if kind == "cancel_all_orders":
            return orders_pb2.OrderEntryResponse(
                correlation_id=cid,
                cancel_all_orders=orders_pb2.CancelAllOrdersResponse(canceled_count=3),
            )
        missing = error_status(grpc.StatusCode.NOT_FOUND, "no such order", "ORDER_NOT_FOUND")
        return orders_pb2.OrderEntryResponse(correlation_id=cid, error=missing)

    def ListOpenOrders(
        self, request: orders_pb2.ListOpenOrdersRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOpenOrdersResponse:
        self.gw.seen(context)
        self.gw.order_requests.append(request)
        page = int(request.page_token or "0")
        return self.gw.list_pages[page]


class Executions(executions_pb2_grpc.ExecutionServiceServicer):
    def __init__(self, gw: FakeGateway) -> None:
        self.gw = gw

    def StreamExecutions(
        self, request: executions_pb2.StreamExecutionsRequest, context: grpc.ServicerContext
    ) -> Iterator[executions_pb2.StreamExecutionsResponse]:
        gw = self.gw
        gw.seen(context)
        with gw.lock:
            gw.stream_requests.append(request)
            plan = gw.stream_plans.pop(0) if gw.stream_plans else StreamPlan()
        if plan.heartbeat_first:
            yield executions_pb2.StreamExecutionsResponse(
                heartbeat=executions_pb2.Heartbeat(last_sequence=request.from_sequence)
            )
        first = max(1, request.from_sequence + 1 - plan.overlap)
        last = (
            gw.total_reports
            if plan.count is None
            else min(gw.total_reports, first + plan.count - 1)
        )
        sequences = [seq for seq in range(first, last + 1) if seq != plan.skip]
        if plan.batch:
            for i in range(0, len(sequences), plan.batch):
                reports = [report(seq).execution_report for seq in sequences[i : i + plan.batch]]
                yield executions_pb2.StreamExecutionsResponse(
                    execution_reports=executions_pb2.ExecutionReportBatch(reports=reports)
                )
        else:
            for seq in sequences:
                yield report(seq)
        if plan.abort is not None:
            abort_with(context, plan.abort)
        gone = threading.Event()
        context.add_callback(gone.set)
        gone.wait(HOLD_LIMIT_S)


@contextmanager
def serve_fake_gateway() -> Iterator[tuple[str, FakeGateway]]:
    gw = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    # Only the calls the tests use are implemented; the rest answer UNIMPLEMENTED.
    sessions_pb2_grpc.add_SessionServiceServicer_to_server(Sessions(gw), server)  # type: ignore[abstract]
    orders_pb2_grpc.add_OrderServiceServicer_to_server(Orders(gw), server)  # type: ignore[abstract]
    executions_pb2_grpc.add_ExecutionServiceServicer_to_server(Executions(gw), server)  # type: ignore[abstract]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", gw
    finally:
        server.stop(grace=None)
