"""`Client`: the blocking Python client of the krakengw gateway."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, Unpack

import grpc

from krakengw import builders
from krakengw.builders import DEFAULT_VENUE, AmendOptions, OrderOptions
from krakengw.decimals import DecimalLike
from krakengw.enums import ProductType, Side
from krakengw.errors import KrakenGwError
from krakengw.failover import Failover, SwitchingChannel, is_move, is_superseded
from krakengw.models import (
    Balance,
    BookUpdate,
    Fill,
    Heartbeat,
    Instrument,
    Limits,
    Order,
    Position,
    PublicTrade,
    SessionInfo,
    Subaccount,
    Ticker,
    Transfer,
)
from krakengw.order_entry import OrderEntry
from krakengw.resume import DEFAULT_MAX_BATCH, ExecutionStream, ReconnectPolicy
from krakengw.stubs import (
    ALREADY_LOGGED_ON_REASONS,
    LOGON_ID_MISMATCH,
    SESSION_LOST_REASONS,
    ClientCore,
    Stubs,
    channel_options,
)
from krakengw.v1 import (
    accounts_pb2,
    market_data_pb2,
    orders_pb2,
    sessions_pb2,
)

__all__ = ["Client"]

_GONE = (grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN)

T = TypeVar("T")


class Client:
    """Blocking client. Prices and quantities go in as Decimal (or int/str) and come out as
    Decimal; failures raise KrakenGwError. Use as a context manager: leaving it logs out (if
    logged on) and closes the channel.

    `timeout` bounds each unary call (seconds). With `wait_for_ready`, unary calls wait (within
    the timeout) for an unreachable gateway instead of failing fast with UNAVAILABLE; execution
    streams always wait and resume. `reconnect` tunes the execution stream's backoff.

    >>> with Client("127.0.0.1:50051", token) as gw:
    ...     gw.logon()
    ...     order = gw.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("50000"))

    `target` may be a list of the addresses of a fleet's gateways: calls, execution streams and
    the OrderEntry stream follow the session to the gateway that serves it, as AsyncClient's
    do (see krakengw.failover).
    """

    def __init__(
        self,
        target: str | Sequence[str],
        token: str,
        *,
        timeout: float | None = 10.0,
        wait_for_ready: bool = False,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        targets = [target] if isinstance(target, str) else list(target)

        def connect(address: str) -> grpc.Channel:
            if credentials is not None:
                return grpc.secure_channel(address, credentials, options=channel_options(options))
            return grpc.insecure_channel(address, options=channel_options(options))

        self._core = ClientCore(",".join(targets), token, timeout, wait_for_ready)
        # One address: a plain channel. Several: calls follow the session (krakengw.failover);
        # a resuming stream must fail fast on a dead gateway to move on, not wait for it.
        self._fleet = SwitchingChannel(targets, connect) if len(targets) > 1 else None
        self._failover = Failover(self._fleet, reconnect) if self._fleet is not None else None
        # The channel's connectivity, kept current by gRPC (no logout on exit when gone).
        self._state = grpc.ChannelConnectivity.IDLE
        self._channel: Any = self._fleet
        if self._fleet is None:
            plain = connect(targets[0])
            plain.subscribe(self._track_state, try_to_connect=False)
            self._channel = plain
        else:
            self._core.resume_options["wait_for_ready"] = False
        self._stubs = Stubs(self._channel)
        self._reconnect = reconnect
        self._logon_request: sessions_pb2.LogonRequest | None = None
        # Open execution streams, so logout() can end them instead of letting them reconnect.
        # Held while a Logon is in flight and its id is being taken, so a stream that meets
        # LOGON_ID_MISMATCH can tell "my client just logged on again" from "taken over", and
        # so that calls that lost the session together log on again once, not in a race.
        self._logon_lock = threading.Lock()
        self._streams: weakref.WeakSet[ExecutionStream] = weakref.WeakSet()

    def _track_state(self, state: grpc.ChannelConnectivity) -> None:
        self._state = state

    @property
    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata this client sends with each call (bearer token, and the logon id once
        logged on), for calls made through raw generated stubs. It holds the token: never log
        it."""
        metadata: tuple[tuple[str, str], ...] = self._core.unary_options["metadata"]
        return metadata

    def __repr__(self) -> str:
        return f"Client(target={self._core.target!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.logout_and_close()

    def logout_and_close(self) -> None:
        """Logs out if this client is logged on (ending the session cleanly, so the gateway
        does not wait for a heartbeat timeout), then closes the channel. `with` does this."""
        # The state arrives through a callback, so it may lag: only a known failure skips the
        # logout (a call into a dead gateway would put the connection into reconnect backoff).
        failed = self._state in _GONE
        if self._core.logon_id is not None and failed:
            # The gateway is gone (its session ends by itself); a call now would only put
            # the shared connection into reconnect backoff.
            self._forget_logon()
        elif self._core.logon_id is not None:
            try:
                self.logout()
            except KrakenGwError:
                # Gone already (gateway restarted, taken over, timed out): nothing to end.
                self._forget_logon()
        self.close()

    def close(self) -> None:
        """Closes the channel without logging out (the session then ends by heartbeat
        timeout); `with` and `logout_and_close` log out first."""
        if self._fleet is not None:
            for channel in self._fleet.channels:
                channel.close()
            return
        self._channel.unsubscribe(self._track_state)
        self._channel.close()

    def _unary(self, method: Any, request: Any) -> Any:
        failover = self._failover
        if failover is None:
            try:
                return method(request, **self._core.unary_options)
            except grpc.RpcError as error:
                raise self._core.error(error) from None
        is_logon = method is self._stubs.sessions.Logon
        attempt = 0
        while True:
            seen = failover.channel.generation
            used = self._core.logon_id
            try:
                return method(request, **self._core.unary_options)
            except grpc.RpcError as error:
                failure = self._core.error(error)
            logged_on = self._logon_request is not None
            superseded = is_superseded(failure, used, self._core.logon_id)
            delay = failover.retry_delay(
                failure,
                seen,
                attempt,
                logged_on=logged_on,
                is_logon=is_logon,
                superseded=superseded,
            )
            if delay is None:
                raise failure from None
            time.sleep(delay)  # the reconnect policy's backoff
            attempt += 1
            if not is_logon:
                self._logon_quietly(used)

    def _logon_quietly(self, used: str | None) -> None:
        """Log on again after a move or a lost session, unless another call of this client
        did since the failed call that carried logon id `used` (then that logon serves). A
        failure shows in the call repeated next (a refusal that names where the session is
        served moves there first)."""
        assert self._failover is not None
        with self._logon_lock:
            if self._logon_request is None or self._core.logon_id != used:
                return
            seen = self._failover.channel.generation
            try:
                response = self._stubs.sessions.Logon(
                    self._logon_request, **self._core.unary_options
                )
            except grpc.RpcError as error:
                self._failover.relogon_failed(self._core.error(error), seen)
                return
            self._core.set_logon_id(response.logon_id)

    def _stream(self, method: Any, request: Any, timeout: float | None = None) -> Iterator[Any]:
        call = method(request, timeout=timeout, **self._core.stream_options)
        try:
            yield from call
        except grpc.RpcError as error:
            raise self._core.error(error) from None
        finally:
            call.cancel()

    def _all_pages(
        self, method: Any, request: Any, field: str, convert: Callable[[Any], T]
    ) -> list[T]:
        items: list[T] = []
        seen: set[str] = set()
        while True:
            response = self._unary(method, request)
            items.extend(convert(m) for m in getattr(response, field))
            token = response.next_page_token
            if not token or token in seen:  # a repeated token would loop forever
                return items
            seen.add(token)
            request.page_token = token

    # --- session -------------------------------------------------------------------------

    def logon(
        self,
        *,
        heartbeat_interval: timedelta | None = None,
        cancel_on_disconnect: bool = False,
        client_name: str = "krakengw-python",
        takeover: bool = False,
    ) -> SessionInfo:
        """Starts the session named by the token. A session is live while any call or stream
        is active; without an open stream, call heartbeat() within the interval. A second
        logon of a live session fails with ALREADY_EXISTS [SESSION_ALREADY_ACTIVE], unless
        `takeover=True`: then this logon replaces the live one (e.g. this program crashed and
        restarted before the gateway noticed), whose calls and streams stop working.
        Every later call of this client carries the logon's id."""
        request = builders.logon(heartbeat_interval, cancel_on_disconnect, client_name, takeover)
        with self._logon_lock:
            response = self._unary(self._stubs.sessions.Logon, request)
            self._core.set_logon_id(response.logon_id)
        # A relogon after a lost session must not take over someone else's logon.
        request.takeover = False
        self._logon_request = request
        return SessionInfo.from_proto(response)

    def heartbeat(self, test_request_id: str = "") -> Heartbeat:
        request = sessions_pb2.HeartbeatRequest(test_request_id=test_request_id)
        return Heartbeat.from_session(self._unary(self._stubs.sessions.Heartbeat, request))

    def logout(self) -> int:
        """Ends the session and this client's execution streams; returns the number of
        orders canceled by cancel-on-disconnect."""
        response = self._unary(self._stubs.sessions.Logout, sessions_pb2.LogoutRequest())
        self._forget_logon()
        count: int = response.canceled_count
        return count

    def _forget_logon(self) -> None:
        self._logon_request = None
        self._core.set_logon_id(None)
        for stream in list(self._streams):
            stream.close()

    # --- orders --------------------------------------------------------------------------

    def submit_order(
        self,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        spec = builders.order_spec(symbol, side, qty, **options)
        request = orders_pb2.SubmitOrderRequest(order=spec)
        return Order.from_proto(self._unary(self._stubs.orders.SubmitOrder, request).order)

    def submit_order_batch(
        self, orders: Sequence[orders_pb2.OrderSpec]
    ) -> list[Order | KrakenGwError]:
        """Orders built with `krakengw.order_spec(...)`; one result per order, in order."""
        request = orders_pb2.SubmitOrderBatchRequest(orders=orders)
        response = self._unary(self._stubs.orders.SubmitOrderBatch, request)
        return self._core.batch_results(response.results)

    def amend_order(
        self,
        client_order_id: str | None = None,
        *,
        venue_order_id: str | None = None,
        **changes: Unpack[AmendOptions],
    ) -> Order:
        request = builders.amend_order(client_order_id, venue_order_id, changes)
        return Order.from_proto(self._unary(self._stubs.orders.AmendOrder, request).order)

    def replace_order(
        self,
        orig_client_order_id: str,
        symbol: str,
        side: Side | str,
        qty: DecimalLike | None = None,
        **options: Unpack[OrderOptions],
    ) -> Order:
        """Cancel/replace: the new order gets a new client order id."""
        spec = builders.order_spec(symbol, side, qty, **options)
        request = orders_pb2.ReplaceOrderRequest(
            orig_client_order_id=orig_client_order_id, order=spec
        )
        return Order.from_proto(self._unary(self._stubs.orders.ReplaceOrder, request).order)

    def cancel_order(
        self, client_order_id: str | None = None, *, venue_order_id: str | None = None
    ) -> Order:
        request = builders.cancel_order(client_order_id, venue_order_id)
        return Order.from_proto(self._unary(self._stubs.orders.CancelOrder, request).order)

    def cancel_order_batch(self, client_order_ids: Sequence[str]) -> list[Order | KrakenGwError]:
        request = builders.cancel_order_batch(client_order_ids)
        response = self._unary(self._stubs.orders.CancelOrderBatch, request)
        return self._core.batch_results(response.results)

    def cancel_all_orders(self, symbol: str | None = None, *, venue: str = DEFAULT_VENUE) -> int:
        request = orders_pb2.CancelAllOrdersRequest(
            instrument=builders.optional_instrument(symbol, venue)
        )
        count: int = self._unary(self._stubs.orders.CancelAllOrders, request).canceled_count
        return count

    def get_order(
        self, client_order_id: str | None = None, *, venue_order_id: str | None = None
    ) -> Order:
        request = builders.get_order(client_order_id, venue_order_id)
        return Order.from_proto(self._unary(self._stubs.orders.GetOrder, request).order)

    def list_open_orders(
        self, symbol: str | None = None, *, venue: str = DEFAULT_VENUE
    ) -> list[Order]:
        request = orders_pb2.ListOpenOrdersRequest(
            instrument=builders.optional_instrument(symbol, venue)
        )
        return self._all_pages(
            self._stubs.orders.ListOpenOrders, request, "orders", Order.from_proto
        )

    def list_orders(
        self,
        symbol: str | None = None,
        *,
        venue: str = DEFAULT_VENUE,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Order]:
        request = builders.list_orders(symbol, venue, start, end)
        return self._all_pages(self._stubs.orders.ListOrders, request, "orders", Order.from_proto)

    def order_entry(self) -> OrderEntry:
        """Opens the bidirectional OrderEntry stream (lowest latency); close it when done. With
        several gateway addresses it follows the session to the gateway that serves it (see
        krakengw.order_entry)."""

        def open_call(requests: Iterator[Any]) -> Any:
            if failover is not None:
                opened_at[0] = failover.channel.generation
            opened_with[0] = self._core.logon_id
            return self._stubs.orders.OrderEntry(requests, **self._core.stream_options)

        opened_with: list[str | None] = [None]  # the logon id the current call carries
        failover = self._failover
        if failover is None:
            return OrderEntry(self._core, open_call)
        opened_at = [failover.channel.generation]

        def superseded(failure: KrakenGwError) -> bool:
            return is_superseded(failure, opened_with[0], self._core.logon_id)

        def reopen(failure: KrakenGwError, attempt: int, requests: Iterator[Any]) -> Any:
            logged_on = self._logon_request is not None
            delay = failover.retry_delay(
                failure, opened_at[0], attempt, logged_on=logged_on, superseded=superseded(failure)
            )
            if delay is None:
                return None
            time.sleep(delay)  # the reconnect policy's backoff
            self._logon_quietly(opened_with[0])
            return open_call(requests)

        def follows(failure: KrakenGwError) -> bool:
            logged_on = self._logon_request is not None
            return failover.follows(failure, logged_on=logged_on, superseded=superseded(failure))

        return OrderEntry(self._core, open_call, reopen=reopen, follows=follows)

    # --- executions ----------------------------------------------------------------------

    def stream_executions(
        self,
        from_sequence: int = 0,
        *,
        drop_copy: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> ExecutionStream:
        """Reports after `from_sequence`, replayed then live; reconnects and resumes on its own
        (logging on again with the last logon's settings if the gateway lost the session).
        Iterate it; `last_sequence` tells where to resume in a later process.

        The gateway coalesces up to `max_batch` ready reports per message (replays and bursts
        take far fewer messages); they are still handed out one at a time, and the position
        advances per report. `max_batch=0` asks for one report per message."""

        opened_at = [0]  # the fleet generation the current call was opened at
        used: list[str | None] = [None]  # the logon id of the stream's latest call

        def open_call(request: Any) -> Any:
            if self._failover is not None:
                opened_at[0] = self._failover.channel.generation
            used[0] = self._core.logon_id
            return self._stubs.executions.StreamExecutions(request, **self._core.resume_options)

        def recover(failure: KrakenGwError) -> bool:
            if self._failover is not None and is_move(failure):
                self._failover.channel.switch(failure, opened_at[0])
                self._logon_quietly(used[0])
                return True
            return self._relogon(failure, used[0])

        stream = ExecutionStream(
            open_call,
            from_sequence,
            drop_copy=drop_copy,
            max_batch=max_batch,
            policy=self._reconnect,
            to_error=self._core.error,
            recover=recover,
        )
        self._streams.add(stream)
        return stream

    def _relogon(self, failure: KrakenGwError, used_logon_id: str | None) -> bool:
        """Whether a stream that failed with `failure` (its call sent `used_logon_id`) may
        reconnect: after logging on again if the gateway lost the session; at once if this
        client has logged on again since that call (its id changed); never if another client
        took the session over."""
        with self._logon_lock:
            if self._logon_request is None:
                return False
            if failure.reason == LOGON_ID_MISMATCH:
                return self._core.logon_id is not None and self._core.logon_id != used_logon_id
            if failure.reason not in SESSION_LOST_REASONS:
                return False
            if self._core.logon_id != used_logon_id:
                return True  # another call of this client logged on again since: resume

            try:
                response = self._unary(self._stubs.sessions.Logon, self._logon_request)
            except KrakenGwError as error:
                # A concurrent logon() of this client won the race: the session is live again.
                # (A fleet client's logon that found no gateway serving the session yet: the
                # stream tries again after its backoff.)
                return error.reason in ALREADY_LOGGED_ON_REASONS or (
                    self._failover is not None and is_move(error)
                )
            self._core.set_logon_id(response.logon_id)
            return True

    def list_fills(
        self,
        symbol: str | None = None,
        *,
        venue: str = DEFAULT_VENUE,
        client_order_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Fill]:
        request = builders.list_fills(symbol, venue, client_order_id, start, end)
        return self._all_pages(self._stubs.executions.ListFills, request, "fills", Fill.from_proto)

    # --- account -------------------------------------------------------------------------

    def list_balances(self, wallet: str | None = None) -> list[Balance]:
        request = accounts_pb2.ListBalancesRequest(wallet=wallet or "")
        return self._all_pages(
            self._stubs.accounts.ListBalances, request, "balances", Balance.from_proto
        )

    def list_positions(
        self, symbol: str | None = None, *, venue: str = DEFAULT_VENUE
    ) -> list[Position]:
        request = accounts_pb2.ListPositionsRequest(
            instrument=builders.optional_instrument(symbol, venue)
        )
        return self._all_pages(
            self._stubs.accounts.ListPositions, request, "positions", Position.from_proto
        )

    def stream_balances(self) -> Iterator[tuple[bool, list[Balance]]]:
        """(snapshot, balances) pairs: a full snapshot first, then changes."""
        for msg in self._stream(
            self._stubs.accounts.StreamBalances, accounts_pb2.StreamBalancesRequest()
        ):
            yield msg.snapshot, [Balance.from_proto(b) for b in msg.balances]

    def stream_positions(self) -> Iterator[tuple[bool, list[Position]]]:
        """(snapshot, positions) pairs: a full snapshot first, then changes."""
        for msg in self._stream(
            self._stubs.accounts.StreamPositions, accounts_pb2.StreamPositionsRequest()
        ):
            yield msg.snapshot, [Position.from_proto(p) for p in msg.positions]

    def list_subaccounts(self) -> list[Subaccount]:
        request = accounts_pb2.ListSubaccountsRequest()
        return self._all_pages(
            self._stubs.accounts.ListSubaccounts, request, "subaccounts", Subaccount.from_proto
        )

    def transfer_funds(
        self,
        asset: str,
        amount: DecimalLike,
        from_account: str,
        to_account: str,
        *,
        client_transfer_id: str | None = None,
    ) -> Transfer:
        request = builders.transfer_funds(
            asset, amount, from_account, to_account, client_transfer_id
        )
        return Transfer.from_proto(
            self._unary(self._stubs.accounts.TransferFunds, request).transfer
        )

    def get_limits(self) -> Limits:
        return Limits.from_proto(
            self._unary(self._stubs.accounts.GetLimits, accounts_pb2.GetLimitsRequest())
        )

    def engage_kill_switch(self, reason: str = "") -> int:
        """Cancels every open order of the account and refuses new ones; returns the count."""
        request = accounts_pb2.EngageKillSwitchRequest(reason=reason)
        count: int = self._unary(self._stubs.accounts.EngageKillSwitch, request).canceled_count
        return count

    def release_kill_switch(self) -> None:
        self._unary(self._stubs.accounts.ReleaseKillSwitch, accounts_pb2.ReleaseKillSwitchRequest())

    # --- instruments and market data -----------------------------------------------------

    def list_instruments(
        self, venue: str | None = None, product_type: ProductType | str | None = None
    ) -> list[Instrument]:
        request = builders.list_instruments(venue, product_type)
        return self._all_pages(
            self._stubs.instruments.ListInstruments, request, "instruments", Instrument.from_proto
        )

    def get_ticker(self, symbol: str, *, venue: str = DEFAULT_VENUE) -> Ticker:
        response = self._unary(self._stubs.market_data.GetTicker, builders.ticker(symbol, venue))
        return Ticker.from_proto(response.ticker)

    def stream_book(
        self,
        symbol: str,
        *,
        venue: str = DEFAULT_VENUE,
        depth: int = 0,
        timeout: float | None = None,
    ) -> Iterator[BookUpdate]:
        """Book snapshot, then updates. `timeout` bounds the whole stream (seconds; None: no
        deadline); when it passes, iteration raises KrakenGwError DEADLINE_EXCEEDED."""
        request = market_data_pb2.StreamBookRequest(
            instrument=builders.instrument(symbol, venue), depth=depth
        )
        for msg in self._stream(self._stubs.market_data.StreamBook, request, timeout):
            yield BookUpdate.from_proto(msg)

    def stream_trades(self, symbol: str, *, venue: str = DEFAULT_VENUE) -> Iterator[PublicTrade]:
        request = market_data_pb2.StreamTradesRequest(instrument=builders.instrument(symbol, venue))
        for msg in self._stream(self._stubs.market_data.StreamTrades, request):
            yield from (PublicTrade.from_proto(t) for t in msg.trades)
