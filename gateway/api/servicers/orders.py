"""OrderService: unary order entry and queries, and the bidirectional OrderEntry stream.

Each operation is one `_op(ctx, request) -> response` function; the unary RPCs and the stream
share them, so both paths behave identically.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from grpc import aio

from gateway.api import convert
from gateway.api.deps import ApiDeps
from gateway.api.errors import internal_status, to_rpc_status
from gateway.core import model as m
from gateway.core.errors import ErrorReason, GatewayError, InvalidArgument
from gateway.core.paging import page, page_size
from gateway.core.permissions import require, require_cancel
from gateway.core.service import TradingService
from krakengw.v1 import orders_pb2, orders_pb2_grpc

__all__ = ["OrderServicer"]

log = logging.getLogger(__name__)

MAX_BATCH = 100
_MAX_CORRELATION_ID = 128


def _result(item: m.Order | GatewayError) -> orders_pb2.OrderResult:
    if isinstance(item, GatewayError):
        return orders_pb2.OrderResult(error=to_rpc_status(item)[1])
    return orders_pb2.OrderResult(order=convert.order(item))


def _check_batch(n: int) -> None:
    if n == 0:
        raise InvalidArgument("the batch is empty", ErrorReason.MISSING_FIELD)
    if n > MAX_BATCH:
        raise InvalidArgument(
            f"a batch holds at most {MAX_BATCH} items",
            ErrorReason.BATCH_TOO_LARGE,
            metadata={"limit": str(MAX_BATCH)},
        )


def _in_window(o: m.Order, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or o.created_at >= start) and (end is None or o.created_at < end)


class OrderOps:
    """The order operations on a session context, shared by unary RPCs and OrderEntry."""

    def __init__(self, service: TradingService) -> None:
        self._s = service

    async def client_id(
        self, ctx: m.SessionContext, client_id: str, venue_id: str
    ) -> tuple[str, str | None]:
        """Resolve an order named by exactly one of its ids to its client order id and the
        session that owns that id (None when named by client order id: the core then means the
        caller's own order, see OrderQueries.own)."""
        client_id, venue_id = convert.order_ref(client_id, venue_id)
        if client_id:
            return client_id, None
        order = self._s.find_by_venue_order_id(ctx, venue_id)
        return order.client_order_id, order.session_id

    async def submit(
        self, ctx: m.SessionContext, req: orders_pb2.SubmitOrderRequest
    ) -> orders_pb2.SubmitOrderResponse:
        if not req.HasField("order"):
            raise InvalidArgument("order: is required", ErrorReason.MISSING_FIELD)
        order = await self._s.submit(ctx, convert.order_request(req.order))
        return orders_pb2.SubmitOrderResponse(order=convert.order(order))

    async def submit_batch(
        self, ctx: m.SessionContext, req: orders_pb2.SubmitOrderBatchRequest
    ) -> orders_pb2.SubmitOrderBatchResponse:
        _check_batch(len(req.orders))
        # Validate every item first: an invalid batch is refused whole, before any venue call.
        requests = [convert.order_request(o, f"orders[{i}]") for i, o in enumerate(req.orders)]
        results = await self._s.submit_batch(ctx, requests)
        return orders_pb2.SubmitOrderBatchResponse(results=[_result(r) for r in results])

    async def amend(
        self, ctx: m.SessionContext, req: orders_pb2.AmendOrderRequest
    ) -> orders_pb2.AmendOrderResponse:
        # Permission before the lookup: a session that may not act must not learn (through
        # NOT_FOUND or not) which venue order ids exist.
        require(ctx, m.Permission.TRADE)
        client_id, owner = await self.client_id(ctx, req.client_order_id, req.venue_order_id)
        order = await self._s.amend(ctx, convert.amend_request(req, client_id, owner))
        return orders_pb2.AmendOrderResponse(order=convert.order(order))

    async def replace(
        self, ctx: m.SessionContext, req: orders_pb2.ReplaceOrderRequest
    ) -> orders_pb2.ReplaceOrderResponse:
        orig = convert.client_order_id(req.orig_client_order_id, "orig_client_order_id")
        if not req.HasField("order"):
            raise InvalidArgument("order: is required", ErrorReason.MISSING_FIELD)
        new = convert.order_request(req.order)
        order = await self._s.replace(
            ctx, m.ReplaceRequest(orig_client_order_id=orig, new_order=new)
        )
        return orders_pb2.ReplaceOrderResponse(order=convert.order(order))

    async def cancel(
        self, ctx: m.SessionContext, req: orders_pb2.CancelOrderRequest
    ) -> orders_pb2.CancelOrderResponse:
        require_cancel(ctx)  # before the lookup, as in amend
        client_id, owner = await self.client_id(ctx, req.client_order_id, req.venue_order_id)
        order = await self._s.cancel(
            ctx, m.CancelRequest(client_order_id=client_id, session_id=owner)
        )
        return orders_pb2.CancelOrderResponse(order=convert.order(order))

    async def cancel_batch(
        self, ctx: m.SessionContext, req: orders_pb2.CancelOrderBatchRequest
    ) -> orders_pb2.CancelOrderBatchResponse:
        _check_batch(len(req.orders))
        require_cancel(ctx)  # before the lookups, as in amend
        ids = [await self.client_id(ctx, c.client_order_id, c.venue_order_id) for c in req.orders]
        results = await self._s.cancel_batch(
            ctx, [m.CancelRequest(client_order_id=i, session_id=owner) for i, owner in ids]
        )
        return orders_pb2.CancelOrderBatchResponse(results=[_result(r) for r in results])

    async def cancel_all(
        self, ctx: m.SessionContext, req: orders_pb2.CancelAllOrdersRequest
    ) -> orders_pb2.CancelAllOrdersResponse:
        only = convert.instrument_filter(req.instrument, req.HasField("instrument"))
        canceled = await self._s.cancel_all_orders(ctx, only.symbol, venue=only.venue)
        return orders_pb2.CancelAllOrdersResponse(
            canceled_count=len(canceled), client_order_ids=[o.client_order_id for o in canceled]
        )

    async def get(
        self, ctx: m.SessionContext, req: orders_pb2.GetOrderRequest
    ) -> orders_pb2.GetOrderResponse:
        client_id, owner = await self.client_id(ctx, req.client_order_id, req.venue_order_id)
        order = await self._s.get_order(ctx, client_id, owner)
        return orders_pb2.GetOrderResponse(order=convert.order(order))

    async def list_open(
        self, ctx: m.SessionContext, req: orders_pb2.ListOpenOrdersRequest
    ) -> orders_pb2.ListOpenOrdersResponse:
        only = convert.instrument_filter(req.instrument, req.HasField("instrument"))
        orders = await self._s.list_open_orders(ctx, only.symbol)
        got = page(
            [o for o in orders if only.venue_matches(o.venue)], req.page_size, req.page_token
        )
        return orders_pb2.ListOpenOrdersResponse(
            orders=[convert.order(o) for o in got.items], next_page_token=got.next_page_token
        )

    async def list_all(
        self, ctx: m.SessionContext, req: orders_pb2.ListOrdersRequest
    ) -> orders_pb2.ListOrdersResponse:
        only = convert.instrument_filter(req.instrument, req.HasField("instrument"))
        start = convert.time_in(req.start_time, req.HasField("start_time"), "start_time")
        end = convert.time_in(req.end_time, req.HasField("end_time"), "end_time")
        statuses = {convert.ord_status_in(s, "ord_statuses") for s in req.ord_statuses}
        got = await self._s.list_orders(
            ctx, symbol=only.symbol, page_size=page_size(req.page_size), page_token=req.page_token
        )
        # Filters the core does not take apply within the page (pages may come back shorter).
        items = [
            o
            for o in got.items
            if only.venue_matches(o.venue)
            and (not statuses or o.status in statuses)
            and _in_window(o, start, end)
        ]
        return orders_pb2.ListOrdersResponse(
            orders=[convert.order(o) for o in items], next_page_token=got.next_page_token
        )


_Op = Callable[[OrderOps, m.SessionContext, Any], Awaitable[Message]]

# OrderEntry oneof field (same name in request and response) -> operation.
_ENTRY_OPS: dict[str, _Op] = {
    "submit_order": OrderOps.submit,
    "submit_order_batch": OrderOps.submit_batch,
    "amend_order": OrderOps.amend,
    "replace_order": OrderOps.replace,
    "cancel_order": OrderOps.cancel,
    "cancel_order_batch": OrderOps.cancel_batch,
    "cancel_all_orders": OrderOps.cancel_all,
}


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps
        self._ops = OrderOps(deps.service)

    def _ctx(self) -> m.SessionContext:
        return self._d.active().context()

    async def SubmitOrder(
        self, request: orders_pb2.SubmitOrderRequest, context: aio.ServicerContext
    ) -> orders_pb2.SubmitOrderResponse:
        return await self._ops.submit(self._ctx(), request)

    async def SubmitOrderBatch(
        self, request: orders_pb2.SubmitOrderBatchRequest, context: aio.ServicerContext
    ) -> orders_pb2.SubmitOrderBatchResponse:
        return await self._ops.submit_batch(self._ctx(), request)

    async def AmendOrder(
        self, request: orders_pb2.AmendOrderRequest, context: aio.ServicerContext
    ) -> orders_pb2.AmendOrderResponse:
        return await self._ops.amend(self._ctx(), request)

    async def ReplaceOrder(
        self, request: orders_pb2.ReplaceOrderRequest, context: aio.ServicerContext
    ) -> orders_pb2.ReplaceOrderResponse:
        return await self._ops.replace(self._ctx(), request)

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: aio.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        return await self._ops.cancel(self._ctx(), request)

    async def CancelOrderBatch(
        self, request: orders_pb2.CancelOrderBatchRequest, context: aio.ServicerContext
    ) -> orders_pb2.CancelOrderBatchResponse:
        return await self._ops.cancel_batch(self._ctx(), request)

    async def CancelAllOrders(
        self, request: orders_pb2.CancelAllOrdersRequest, context: aio.ServicerContext
    ) -> orders_pb2.CancelAllOrdersResponse:
        return await self._ops.cancel_all(self._ctx(), request)

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: aio.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        return await self._ops.get(self._ctx(), request)

    async def ListOpenOrders(
        self, request: orders_pb2.ListOpenOrdersRequest, context: aio.ServicerContext
    ) -> orders_pb2.ListOpenOrdersResponse:
        return await self._ops.list_open(self._ctx(), request)

    async def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: aio.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        return await self._ops.list_all(self._ctx(), request)

    async def OrderEntry(
        self,
        request_iterator: AsyncIterator[orders_pb2.OrderEntryRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[orders_pb2.OrderEntryResponse]:
        """Requests run concurrently; each ack is written as soon as it is ready."""
        active = self._d.active()
        self._d.sessions.stream_opened(active)
        acks: asyncio.Queue[orders_pb2.OrderEntryResponse | None] = asyncio.Queue()
        pending: set[asyncio.Task[None]] = set()

        async def read() -> None:
            try:
                async for req in request_iterator:
                    self._d.sessions.touch(active)  # a request is the client's heartbeat too
                    task = asyncio.create_task(self._entry(req, acks))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.gather(*pending)
            finally:
                acks.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            while (ack := await acks.get()) is not None:
                yield ack
            await reader  # surfaces a failed request stream
        finally:
            reader.cancel()
            for task in list(pending):
                task.cancel()
            self._d.sessions.stream_closed(active)

    async def _entry(
        self,
        req: orders_pb2.OrderEntryRequest,
        acks: asyncio.Queue[orders_pb2.OrderEntryResponse | None],
    ) -> None:
        corr = req.correlation_id[:_MAX_CORRELATION_ID]
        kind = req.WhichOneof("request")
        try:
            if kind is None:
                raise InvalidArgument("request: is required", ErrorReason.MISSING_FIELD)
            ctx = self._ctx()
            response = await _ENTRY_OPS[kind](self._ops, ctx, getattr(req, kind))
            ack = orders_pb2.OrderEntryResponse(correlation_id=corr)
            getattr(ack, kind).CopyFrom(response)
        except GatewayError as exc:
            ack = orders_pb2.OrderEntryResponse(correlation_id=corr, error=to_rpc_status(exc)[1])
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            log.error("unexpected error in OrderEntry (ref %s)", ref, exc_info=exc)
            ack = orders_pb2.OrderEntryResponse(correlation_id=corr, error=internal_status(ref)[1])
        acks.put_nowait(ack)
