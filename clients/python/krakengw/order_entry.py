"""The bidirectional OrderEntry stream: the unary order calls' requests and acks over one
long-lived call, matched by correlation id, for the lowest latency.

    async with client.order_entry() as entry:
        order = await entry.submit_order("BTC/USD", "buy", Decimal("0.01"), price=50000)

Acks may come back in any order; each call waits only for its own. If the stream breaks, every
waiting call fails with the stream's KrakenGwError and the entry must be reopened (the client
order id makes a resubmit safe: a duplicate returns the original order).
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar, Unpack

import grpc

from krakengw import builders
from krakengw.builders import DEFAULT_VENUE, AmendOptions, OrderOptions
from krakengw.decimals import DecimalLike
from krakengw.enums import Side
from krakengw.errors import KrakenGwError
from krakengw.models import Order
from krakengw.stubs import ClientCore
from krakengw.v1 import orders_pb2

__all__ = ["AsyncOrderEntry", "OrderEntry"]

F = TypeVar("F")


class _Correlator(Generic[F]):
    """Pending requests by correlation id; resolves each with its ack or error."""

    def __init__(self, core: ClientCore, new_future: Callable[[], F]) -> None:
        self._core = core
        self._new_future = new_future
        self._ids = itertools.count(1)
        self._pending: dict[str, F] = {}
        self._lock = threading.Lock()
        self.failure: KrakenGwError | None = None

    def open(self, field: str, request: Any) -> tuple[orders_pb2.OrderEntryRequest, F]:
        if self.failure is not None:
            raise self.failure
        correlation_id = str(next(self._ids))
        future = self._new_future()
        with self._lock:
            self._pending[correlation_id] = future
        return orders_pb2.OrderEntryRequest(
            correlation_id=correlation_id, **{field: request}
        ), future

    def settle(self, response: orders_pb2.OrderEntryResponse) -> tuple[F, Any] | None:
        """The waiting future and its outcome (an ack message or a KrakenGwError)."""
        with self._lock:
            future = self._pending.pop(response.correlation_id, None)
        if future is None:
            return None  # an ack for a request this side gave up on
        kind = response.WhichOneof("response")
        if kind == "error":
            return future, KrakenGwError.from_status(response.error, self._core.secrets)
        if kind is None:
            return future, KrakenGwError(grpc.StatusCode.UNKNOWN, "empty OrderEntry response")
        return future, getattr(response, kind)

    def discard(self, message: orders_pb2.OrderEntryRequest) -> None:
        with self._lock:
            self._pending.pop(message.correlation_id, None)

    def fail_all(self, failure: KrakenGwError) -> list[F]:
        with self._lock:
            self.failure = failure
            pending, self._pending = list(self._pending.values()), {}
        return pending


def _submit(symbol: str, side: Side | str, qty: DecimalLike | None, options: OrderOptions) -> Any:
    spec = builders.order_spec(symbol, side, qty, **options)
    return orders_pb2.SubmitOrderRequest(order=spec)


def _replace(
    orig_client_order_id: str,
    symbol: str,
    side: Side | str,
    qty: DecimalLike | None,
    options: OrderOptions,
) -> Any:
    spec = builders.order_spec(symbol, side, qty, **options)
    return orders_pb2.ReplaceOrderRequest(orig_client_order_id=orig_client_order_id, order=spec)


def _cancel_all(symbol: str | None, venue: str) -> Any:
    return orders_pb2.CancelAllOrdersRequest(instrument=builders.optional_instrument(symbol, venue))


class OrderEntry:
    """Blocking OrderEntry stream; safe to use from several threads at once. Each method
    returns what the unary Client method returns (Order, int, or a list of results)."""

    _CLOSE = object()

    def __init__(self, core: ClientCore, open_call: Callable[[Iterator[Any]], Any]) -> None:
        self._core = core
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._correlator: _Correlator[Future[Any]] = _Correlator(core, Future)
        self._call = open_call(self._requests())
        self._reader = threading.Thread(target=self._read, name="krakengw-order-entry", daemon=True)
        self._reader.start()

    def _requests(self) -> Iterator[Any]:
        while (item := self._outbox.get()) is not self._CLOSE:
            yield item

    def _read(self) -> None:
        failure = KrakenGwError(grpc.StatusCode.CANCELLED, "order entry stream closed")
        try:
            for response in self._call:
                settled = self._correlator.settle(response)
                if settled is not None:
                    future, outcome = settled
                    if isinstance(outcome, KrakenGwError):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        except grpc.RpcError as error:
            failure = self._core.error(error)
        for future in self._correlator.fail_all(failure):
            future.set_exception(failure)

    def _send(self, field: str, request: Any) -> Any:
        message, future = self._correlator.open(field, request)
        self._outbox.put(message)
        return future.result()

    def submit_order(
        self,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        ack = self._send("submit_order", _submit(symbol, side, qty, options))
        return Order.from_proto(ack.order)

    def amend_order(
        self,
        client_order_id: str | None = None,
        *,
        venue_order_id: str | None = None,
        **changes: Unpack[AmendOptions],
    ) -> Order:
        request = builders.amend_order(client_order_id, venue_order_id, changes)
        return Order.from_proto(self._send("amend_order", request).order)

    def replace_order(
        self,
        orig_client_order_id: str,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        request = _replace(orig_client_order_id, symbol, side, qty, options)
        return Order.from_proto(self._send("replace_order", request).order)

    def cancel_order(
        self, client_order_id: str | None = None, *, venue_order_id: str | None = None
    ) -> Order:
        request = builders.cancel_order(client_order_id, venue_order_id)
        return Order.from_proto(self._send("cancel_order", request).order)

    def cancel_all_orders(self, symbol: str | None = None, *, venue: str = DEFAULT_VENUE) -> int:
        ack = self._send("cancel_all_orders", _cancel_all(symbol, venue))
        return int(ack.canceled_count)

    def submit_order_batch(
        self, orders: Sequence[orders_pb2.OrderSpec]
    ) -> list[Order | KrakenGwError]:
        request = orders_pb2.SubmitOrderBatchRequest(orders=orders)
        return self._core.batch_results(self._send("submit_order_batch", request).results)

    def cancel_order_batch(self, client_order_ids: Sequence[str]) -> list[Order | KrakenGwError]:
        request = builders.cancel_order_batch(client_order_ids)
        return self._core.batch_results(self._send("cancel_order_batch", request).results)

    def close(self) -> None:
        """Half-closes the stream; acks still in flight are delivered first."""
        self._outbox.put(self._CLOSE)
        self._reader.join()

    def cancel(self) -> None:
        """Abandons the stream: waiting calls fail with CANCELLED."""
        self._call.cancel()
        self._outbox.put(self._CLOSE)
        self._reader.join()

    def __enter__(self) -> OrderEntry:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # After an error in the block, do not wait for acks the caller no longer wants.
        if exc_type is not None:
            self.cancel()
        else:
            self.close()


class AsyncOrderEntry:
    """Asyncio OrderEntry stream; methods are coroutines returning what AsyncClient's do."""

    def __init__(self, core: ClientCore, call: Any) -> None:
        self._core = core
        self._call = call
        loop = asyncio.get_running_loop()
        self._correlator: _Correlator[asyncio.Future[Any]] = _Correlator(core, loop.create_future)
        self._write_lock = asyncio.Lock()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        failure = KrakenGwError(grpc.StatusCode.CANCELLED, "order entry stream closed")
        try:
            async for response in self._call:
                settled = self._correlator.settle(response)
                if settled is not None and not settled[0].done():
                    future, outcome = settled
                    if isinstance(outcome, KrakenGwError):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        except grpc.RpcError as error:
            failure = self._core.error(error)
        except asyncio.CancelledError:
            pass  # the call was cancelled: fail what is still waiting
        for future in self._correlator.fail_all(failure):
            if not future.done():
                future.set_exception(failure)

    async def _send(self, field: str, request: Any) -> Any:
        message, future = self._correlator.open(field, request)
        try:
            async with self._write_lock:  # grpc.aio allows one write in flight per call
                await self._call.write(message)
        except (grpc.RpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as error:
            self._correlator.discard(message)
            if isinstance(error, grpc.RpcError):
                raise self._core.error(error) from None
            raise KrakenGwError(grpc.StatusCode.CANCELLED, "order entry stream closed") from None
        return await future

    async def submit_order(
        self,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        ack = await self._send("submit_order", _submit(symbol, side, qty, options))
        return Order.from_proto(ack.order)

    async def amend_order(
        self,
        client_order_id: str | None = None,
        *,
        venue_order_id: str | None = None,
        **changes: Unpack[AmendOptions],
    ) -> Order:
        request = builders.amend_order(client_order_id, venue_order_id, changes)
        return Order.from_proto((await self._send("amend_order", request)).order)

    async def replace_order(
        self,
        orig_client_order_id: str,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        request = _replace(orig_client_order_id, symbol, side, qty, options)
        return Order.from_proto((await self._send("replace_order", request)).order)

    async def cancel_order(
        self, client_order_id: str | None = None, *, venue_order_id: str | None = None
    ) -> Order:
        request = builders.cancel_order(client_order_id, venue_order_id)
        return Order.from_proto((await self._send("cancel_order", request)).order)

    async def cancel_all_orders(
        self, symbol: str | None = None, *, venue: str = DEFAULT_VENUE
    ) -> int:
        ack = await self._send("cancel_all_orders", _cancel_all(symbol, venue))
        return int(ack.canceled_count)

    async def submit_order_batch(
        self, orders: Sequence[orders_pb2.OrderSpec]
    ) -> list[Order | KrakenGwError]:
        request = orders_pb2.SubmitOrderBatchRequest(orders=orders)
        ack = await self._send("submit_order_batch", request)
        return self._core.batch_results(ack.results)

    async def cancel_order_batch(
        self, client_order_ids: Sequence[str]
    ) -> list[Order | KrakenGwError]:
        request = builders.cancel_order_batch(client_order_ids)
        ack = await self._send("cancel_order_batch", request)
        return self._core.batch_results(ack.results)

    async def close(self) -> None:
        """Half-closes the stream; acks still in flight are delivered first."""
        await self._call.done_writing()
        await self._reader

    async def cancel(self) -> None:
        """Abandons the stream: waiting calls fail with CANCELLED."""
        self._call.cancel()
        await self._reader

    async def __aenter__(self) -> AsyncOrderEntry:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # After an error in the block, do not wait for acks the caller no longer wants.
        if exc_type is not None:
            await self.cancel()
        else:
            await self.close()
