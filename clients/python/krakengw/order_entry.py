"""The bidirectional OrderEntry stream: the unary order calls' requests and acks over one
long-lived call, matched by correlation id, for the lowest latency.

    async with client.order_entry() as entry:
        order = await entry.submit_order("BTC/USD", "buy", Decimal("0.01"), price=50000)

Acks may come back in any order; each call waits only for its own. If the stream breaks, every
waiting call fails with the stream's KrakenGwError and the entry must be reopened (the client
order id makes a resubmit safe: a duplicate returns the original order). A client given several
gateway addresses (a fleet) does that itself when the stream or a request's ack says the
session is served elsewhere (or its gateway is gone, or lost the session): it moves, logs on
again, opens the stream there and sends the requests still waiting for their ack again, within
its reconnect policy (see krakengw.failover); the waiting calls see only their acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
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


# reopen(failure, attempt): after the stream (or a request's ack) failed with `failure`, move
# and log on again as the client's failover says, and open a new OrderEntry call; None: give up.
AsyncReopen = Callable[[KrakenGwError, int], Awaitable[Any | None]]
# The blocking form: also given the request iterator the new call is to send.
Reopen = Callable[[KrakenGwError, int, Iterator[Any]], Any | None]
# Whether a failure says the stream is to be opened again (the client's Failover.follows).
Follows = Callable[[KrakenGwError], bool]


class _StreamMoved(Exception):
    """A request's ack said the session is elsewhere: leave this call for a new one."""

    def __init__(self, failure: KrakenGwError) -> None:
        super().__init__(failure.message)
        self.failure = failure


class _Correlator(Generic[F]):
    """Pending requests by correlation id; resolves each with its ack or error. The request
    messages are kept until their ack, so a reopened stream can send them again."""

    def __init__(
        self, core: ClientCore, new_future: Callable[[], F], follows: Follows | None = None
    ) -> None:
        self._core = core
        self._new_future = new_future
        self._follows = follows
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[orders_pb2.OrderEntryRequest, F]] = {}
        self._lock = threading.Lock()
        self.failure: KrakenGwError | None = None

    def open(self, field: str, request: Any) -> tuple[orders_pb2.OrderEntryRequest, F]:
        correlation_id = str(next(self._ids))
        message = orders_pb2.OrderEntryRequest(correlation_id=correlation_id, **{field: request})
        future = self._new_future()
        with self._lock:
            if self.failure is not None:
                raise self.failure
            self._pending[correlation_id] = (message, future)
        return message, future

    def settle(self, response: orders_pb2.OrderEntryResponse) -> tuple[F, Any] | None:
        """The waiting future and its outcome (an ack message or a KrakenGwError). Raises
        _StreamMoved, keeping the request, when the ack says the session is elsewhere."""
        kind = response.WhichOneof("response")
        outcome: Any
        if kind == "error":
            outcome = KrakenGwError.from_status(response.error, self._core.secrets)
            if self._follows is not None and self._follows(outcome):
                raise _StreamMoved(outcome)
        elif kind is None:
            outcome = KrakenGwError(grpc.StatusCode.UNKNOWN, "empty OrderEntry response")
        else:
            outcome = getattr(response, kind)
        with self._lock:
            entry = self._pending.pop(response.correlation_id, None)
        if entry is None:
            return None  # an ack for a request this side gave up on (or a repeated one)
        return entry[1], outcome

    def waiting(self) -> list[orders_pb2.OrderEntryRequest]:
        """The requests sent and not acknowledged yet, in the order they were made."""
        with self._lock:
            return [message for message, _ in self._pending.values()]

    def discard(self, message: orders_pb2.OrderEntryRequest) -> None:
        with self._lock:
            self._pending.pop(message.correlation_id, None)

    def fail_all(self, failure: KrakenGwError) -> list[F]:
        with self._lock:
            self.failure = failure
            pending, self._pending = [f for _, f in self._pending.values()], {}
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

    def __init__(
        self,
        core: ClientCore,
        open_call: Callable[[Iterator[Any]], Any],
        *,
        reopen: Reopen | None = None,
        follows: Follows | None = None,
    ) -> None:
        self._core = core
        self._reopen = reopen
        self._closing = False
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox_lock = threading.Lock()  # swapped with the call it feeds
        self._correlator: _Correlator[Future[Any]] = _Correlator(core, Future, follows)
        self._call = open_call(self._requests(self._outbox))
        self._reader = threading.Thread(target=self._read, name="krakengw-order-entry", daemon=True)
        self._reader.start()

    def _requests(self, outbox: queue.SimpleQueue[Any]) -> Iterator[Any]:
        while (item := outbox.get()) is not self._CLOSE:
            yield item

    def _read(self) -> None:
        failure = KrakenGwError(grpc.StatusCode.CANCELLED, "order entry stream closed")
        attempt = 0
        while True:
            call = self._call
            try:
                for response in call:
                    settled = self._correlator.settle(response)
                    attempt = 0
                    if settled is not None:
                        future, outcome = settled
                        if isinstance(outcome, KrakenGwError):
                            future.set_exception(outcome)
                        else:
                            future.set_result(outcome)
                break
            except grpc.RpcError as error:
                failure = self._core.error(error)
            except _StreamMoved as moved:
                failure = moved.failure
                call.cancel()
            if self._closing or self._reopen is None or not self._move(failure, attempt):
                break
            attempt += 1
        for future in self._correlator.fail_all(failure):
            future.set_exception(failure)

    def _move(self, failure: KrakenGwError, attempt: int) -> bool:
        """Open the stream again where the session is served; send what waits for an ack."""
        assert self._reopen is not None
        outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        call = self._reopen(failure, attempt, self._requests(outbox))
        if call is None:
            return False
        with self._outbox_lock:
            self._outbox.put(self._CLOSE)  # ends the old call's request iterator
            self._outbox, self._call = outbox, call
            for message in self._correlator.waiting():
                outbox.put(message)
        return True

    def _send(self, field: str, request: Any) -> Any:
        message, future = self._correlator.open(field, request)
        with self._outbox_lock:
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
        with self._outbox_lock:
            self._closing = True
            self._outbox.put(self._CLOSE)
        self._reader.join()

    def cancel(self) -> None:
        """Abandons the stream: waiting calls fail with CANCELLED."""
        with self._outbox_lock:
            self._closing = True
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

    def __init__(
        self,
        core: ClientCore,
        call: Any,
        *,
        reopen: AsyncReopen | None = None,
        follows: Follows | None = None,
    ) -> None:
        self._core = core
        self._call = call
        self._reopen = reopen
        self._closing = False
        loop = asyncio.get_running_loop()
        self._correlator: _Correlator[asyncio.Future[Any]] = _Correlator(
            core, loop.create_future, follows
        )
        self._write_lock = asyncio.Lock()  # also held while the call is replaced
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        failure = KrakenGwError(grpc.StatusCode.CANCELLED, "order entry stream closed")
        attempt = 0
        while True:
            call = self._call
            try:
                async for response in call:
                    settled = self._correlator.settle(response)
                    attempt = 0
                    if settled is not None and not settled[0].done():
                        future, outcome = settled
                        if isinstance(outcome, KrakenGwError):
                            future.set_exception(outcome)
                        else:
                            future.set_result(outcome)
                break
            except grpc.RpcError as error:
                failure = self._core.error(error)
            except _StreamMoved as moved:
                failure = moved.failure
                call.cancel()
            except asyncio.CancelledError:
                break  # the call was cancelled: fail what is still waiting
            if self._closing or self._reopen is None or not await self._move(failure, attempt):
                break
            attempt += 1
        for future in self._correlator.fail_all(failure):
            if not future.done():
                future.set_exception(failure)

    async def _move(self, failure: KrakenGwError, attempt: int) -> bool:
        """Open the stream again where the session is served; send what waits for an ack."""
        assert self._reopen is not None
        call = await self._reopen(failure, attempt)
        if call is None:
            return False
        async with self._write_lock:
            self._call = call
            for message in self._correlator.waiting():
                with contextlib.suppress(grpc.RpcError, grpc.aio.UsageError):
                    await call.write(message)  # a failure shows in the read: moves again
        return True

    async def _send(self, field: str, request: Any) -> Any:
        message, future = self._correlator.open(field, request)
        try:
            async with self._write_lock:  # grpc.aio allows one write in flight per call
                await self._call.write(message)
        except (grpc.RpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as error:
            if self._reopen is not None and not self._closing:
                # The reader sees the call fail too and sends this request again where the
                # session is served (or gives up, failing it).
                return await future
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
        async with self._write_lock:
            self._closing = True
            await self._call.done_writing()
        await self._reader

    async def cancel(self) -> None:
        """Abandons the stream: waiting calls fail with CANCELLED."""
        self._closing = True
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
