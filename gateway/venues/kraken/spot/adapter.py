"""The Kraken Spot venue for one API key: the core's order-entry, account and instrument ports.

Order entry uses the WS v2 trading methods when the private WebSocket is up and REST otherwise;
a request is sent once, on one path: only "not sent at all" falls back to REST. Every answer
lost after sending is `OutcomeUnknown` for the core to settle with `query_order`.

Events reach the core through one ordered path (the executions feed): live WS updates, and on
every (re)connect the snapshot plus a REST catch-up (fills since the last one seen, tracked
orders that closed meanwhile). Until the first catch-up is done the venue refuses new orders
and `recent_fills` waits, so a restart reports every missed fill once, in order, before
anything new happens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    OutcomeUnknown,
    Unavailable,
)
from gateway.core.events import (
    AmendAck,
    OrderCanceled,
    OrderFilled,
    SubmitAck,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.model import (
    AmendRequest,
    Balance,
    Instrument,
    Order,
    OrderRequest,
    OrdStatus,
    Position,
    RateBudget,
    Subaccount,
    Transfer,
    TransferRequest,
    TransferStatus,
)
from gateway.core.ports import JournalPort, VenueEventSink
from gateway.core.venue_status import VenueStatus
from gateway.venues.kraken.common.dead_man import KrakenDeadManSwitch
from gateway.venues.kraken.common.ratelimit import (
    KrakenRateGovernor,
    KrakenRateHeadroom,
    KrakenTradeAction,
    spot_rate_budgets,
)
from gateway.venues.kraken.common.symbols import KrakenSymbolMap, kraken_asset
from gateway.venues.kraken.common.wire_format import fmt
from gateway.venues.kraken.spot.executions import KrakenSpotExecutionsFeed, kraken_spot_order_ids
from gateway.venues.kraken.spot.order_params import MAX_BATCH_ORDERS, check_expire_time
from gateway.venues.kraken.spot.parse import (
    KrakenSpotTradeBalance,
    build_add_order_batch_params,
    build_add_order_params,
    build_amend_order_params,
    build_ws_add_order_params,
    build_ws_amend_order_params,
    build_ws_batch_add_params,
    parse_add_order_result,
    parse_balance_ex,
    parse_batch_add_result,
    parse_executions_message,
    parse_open_positions,
    parse_trade_balance,
    parse_ws_balances,
    ws_response_error,
)
from gateway.venues.kraken.spot.reconcile import KrakenSpotReconciler
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient, not_sent
from gateway.venues.kraken.spot.wire_values import VENUE
from gateway.venues.kraken.spot.ws import JsonMessage, KrakenSpotPrivateWs, KrakenSpotWsNotSent

log = logging.getLogger(__name__)

BATCH_CANCEL_MAX = 50
DEFAULT_READY_TIMEOUT_S = 15.0

# WS `status` channel values that refuse new orders, and the reason the core reports.
_STATUS_REFUSALS = {
    "maintenance": (ErrorReason.VENUE_MAINTENANCE, "Kraken is in maintenance"),
    "cancel_only": (ErrorReason.VENUE_CANCEL_ONLY, "Kraken is in cancel-only mode"),
}

_Send = Callable[[], Awaitable[Any]]


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class KrakenSpotVenue:
    """OrderEntryPort + AccountPort + InstrumentPort of Kraken Spot for one key."""

    venue = VENUE

    def __init__(
        self,
        *,
        account: str,
        rest: KrakenSpotRestClient,
        ws_private_url: str,
        journal: JournalPort,
        governor: KrakenRateGovernor,
        instruments: Sequence[Instrument],
        symbols: KrakenSymbolMap,
        fills_since: datetime | None = None,
        use_ws_trading: bool = True,
        ack_timeout_s: float = 5.0,
        ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
        dead_man: KrakenDeadManSwitch | None = None,
        subaccounts: Sequence[Subaccount] = (),
        ws_before_send: Callable[[], None] | None = None,
    ) -> None:
        self._account = account
        self._rest = rest
        self._governor = governor
        self._instruments = list(instruments)
        self._use_ws = use_ws_trading
        self._ready_timeout = ready_timeout_s
        # Fills before this are either covered by `fills_since` (the journal's restart point)
        # or belong to no order this process placed.
        self._fills_since = fills_since or datetime.now(UTC)
        self._subaccounts = list(subaccounts)
        self._sink: VenueEventSink | None = None
        self.ids = kraken_spot_order_ids(journal, account)
        self.feed = KrakenSpotExecutionsFeed(self.ids, governor, self._push)
        self.reconciler = KrakenSpotReconciler(rest, self.ids, self.feed, symbols)
        self.ws = KrakenSpotPrivateWs(
            ws_private_url,
            rest,
            self._on_ws_message,
            ack_timeout_s=ack_timeout_s,
            before_send=ws_before_send,
        )
        self.dead_man = dead_man or KrakenDeadManSwitch(self._send_dead_man)
        self._ready = asyncio.Event()
        self.system_status = "online"
        self._balance_queues: set[asyncio.Queue[Sequence[Balance]]] = set()
        self.sequence_gaps = 0

    def __repr__(self) -> str:
        return f"KrakenSpotVenue(account={self._account!r}, key_id={self._rest.key_id!r})"

    # -- lifecycle ------------------------------------------------------------------------
    def set_event_sink(self, sink: VenueEventSink) -> None:
        self._sink = sink
        self.start()

    def start(self) -> None:
        """Connect the private WebSocket (first snapshot + catch-up make the venue ready)."""
        self.ws.start()

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        async with asyncio.timeout(timeout_s or self._ready_timeout):
            await self._ready.wait()

    async def close(self) -> None:
        if self.dead_man.is_armed:
            await self.dead_man.disarm()
        await self.ws.stop()

    async def _await_ready(self) -> None:
        if self._ready.is_set():
            return
        try:
            await self.wait_ready()
        except TimeoutError:
            raise Unavailable(
                "not yet reconciled with Kraken; retry shortly", ErrorReason.VENUE_UNAVAILABLE
            ) from None

    async def _push(self, event: VenueEvent) -> None:
        if self._sink is not None:
            await self._sink.on_venue_event(event)

    # -- private WebSocket messages -------------------------------------------------------
    async def _on_ws_message(self, msg: JsonMessage) -> None:
        channel = msg.get("channel")
        if channel == "executions":
            await self._on_executions(msg)
        elif channel == "balances":
            update = parse_ws_balances(msg)
            for queue in self._balance_queues:
                queue.put_nowait(update)
        elif channel == "status":
            for data in msg.get("data", ()):
                self.system_status = str(data.get("system", "online"))
        elif channel == "_subscribed":
            result = msg.get("result") or {}
            if "maxratecount" in result:
                self._governor.set_max_ratecount(float(result["maxratecount"]))

    async def _on_executions(self, msg: JsonMessage) -> None:
        batch = parse_executions_message(msg)
        if batch.snapshot:
            self.feed.last_sequence = batch.sequence
            since = self.feed.last_fill_time or self._fills_since
            await self.reconciler.catch_up(batch, since)
            self._ready.set()
            return
        last, seq = self.feed.last_sequence, batch.sequence
        if last is not None and seq is not None and seq <= last:
            return  # a repeated message: everything in it was applied already
        self.feed.last_sequence = seq
        await self.feed.on_update(batch)
        if last is not None and seq is not None and seq != last + 1:
            # A lost message: reconnect, and the new snapshot's catch-up fills the hole.
            self.sequence_gaps += 1
            log.warning("executions sequence gap (%s after %s); re-syncing", seq, last)
            await self.ws.reconnect()

    # -- sending --------------------------------------------------------------------------
    async def _send(self, ws_method: str, ws_params: dict[str, Any] | None, rest: _Send) -> Any:
        """WS trading method if connected (and enabled), else the REST fallback."""
        if self._use_ws and ws_params is not None:
            try:
                msg = await self.ws.trade(ws_method, ws_params)
            except KrakenSpotWsNotSent:
                pass
            else:
                error = ws_response_error(msg, after_send=True)
                if error is not None:
                    raise error
                return msg.get("result")
        return await rest()

    async def _send_spent(
        self, pair: str, cost: float, ws_method: str, ws_params: dict[str, Any], rest: _Send
    ) -> Any:
        """`_send` of a request whose trading cost is paid: given back if it never left."""
        try:
            return await self._send(ws_method, ws_params, rest)
        except Unavailable as exc:
            if not_sent(exc):
                self._governor.refund_trade(pair, cost)
            raise

    def _check_status(self, post_only: bool) -> None:
        refusal = _STATUS_REFUSALS.get(self.system_status)
        if refusal is None and self.system_status == "post_only" and not post_only:
            refusal = (ErrorReason.VENUE_POST_ONLY, "Kraken accepts post-only orders only")
        if refusal is not None:
            reason, text = refusal
            raise Unavailable(f"{text}: new orders are refused", reason)

    # -- OrderRulesPort -------------------------------------------------------------------
    def check_order(self, request: OrderRequest, instrument: Instrument, now: datetime) -> None:
        check_expire_time(request, now)

    # -- OrderEntryPort -------------------------------------------------------------------
    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        await self._await_ready()
        self._check_status(request.post_only)
        cl = await self.ids.venue_client_id_for(request.client_order_id)
        cost = await self._governor.acquire_trade(instrument.symbol, KrakenTradeAction.ADD)
        result = await self._send_spent(
            instrument.symbol,
            cost,
            "add_order",
            build_ws_add_order_params(request, instrument, cl_ord_id=cl),
            lambda: self._rest.write(
                "AddOrder", build_add_order_params(request, instrument, cl_ord_id=cl)
            ),
        )
        venue_id = _order_id(result)
        if request.validate_only or venue_id is None:
            return SubmitAck(venue_order_id="")
        self.ids.track(venue_id, request.client_order_id, instrument.symbol)
        return SubmitAck(venue_order_id=venue_id, venue_time=datetime.now(UTC))

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        results: list[SubmitAck | GatewayError] = []
        for chunk in _chunks(items, MAX_BATCH_ORDERS):
            try:
                results.extend(await self._submit_chunk(chunk))
            except GatewayError as exc:
                results.extend([exc] * len(chunk))
        return results

    async def _submit_chunk(
        self, chunk: Sequence[tuple[OrderRequest, Instrument]]
    ) -> list[SubmitAck | GatewayError]:
        if len(chunk) == 1:
            try:
                return [await self.submit(*chunk[0])]
            except GatewayError as exc:
                return [exc]
        await self._await_ready()
        requests = [r for r, _ in chunk]
        instrument = chunk[0][1]
        self._check_status(all(r.post_only for r in requests))
        cls = [await self.ids.venue_client_id_for(r.client_order_id) for r in requests]
        cost = await self._governor.acquire_trade(
            instrument.symbol, KrakenTradeAction.BATCH_ADD, count=len(chunk)
        )
        result = await self._send_spent(
            instrument.symbol,
            cost,
            "batch_add",
            build_ws_batch_add_params(requests, instrument, cl_ord_ids=cls),
            lambda: self._rest.write(
                "AddOrderBatch",
                build_add_order_batch_params(requests, instrument, cl_ord_ids=cls),
                as_json=True,
            ),
        )
        acks: list[SubmitAck | GatewayError] = []
        for request, outcome in zip(requests, parse_batch_add_result(result), strict=False):
            if isinstance(outcome, GatewayError):
                acks.append(outcome)
                continue
            self.ids.track(outcome, request.client_order_id, instrument.symbol)
            acks.append(SubmitAck(venue_order_id=outcome))
        return acks

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        venue_id = order.venue_order_id
        cl = await self.ids.venue_client_id_for(order.client_order_id)
        ref: dict[str, str] = {"order_id": venue_id} if venue_id else {"cl_ord_id": cl}
        rest_ref: dict[str, str] = {"txid": venue_id} if venue_id else {"cl_ord_id": cl}
        # Built first: a field that means nothing for the order's type (a trailing offset on a
        # limit order, ...) is refused before any budget is spent or anything is sent.
        ws_params = build_ws_amend_order_params(amend, order.request, **ref)
        rest_params = build_amend_order_params(amend, order.request, **rest_ref)
        await self._governor.acquire_trade(
            instrument.symbol, KrakenTradeAction.AMEND, order_ages_s=[self.ids.age(venue_id)]
        )
        echo_key = venue_id or ""
        self.feed.expect_amended[echo_key] += 1
        try:
            await self._send(
                "amend_order",
                ws_params,
                lambda: self._rest.write("AmendOrder", rest_params),
            )
        except OutcomeUnknown:
            raise  # it may have happened: the echo, if any, is still ours
        except BaseException:
            self.feed.expect_amended[echo_key] -= 1
            raise
        self.ids.touch(echo_key)
        return AmendAck(
            venue_order_id=echo_key,
            qty=amend.qty,
            price=amend.price,
            stop_price=amend.stop_price,
            venue_time=datetime.now(UTC),
        )

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        """Cancel, then submit the new order. Kraken's EditOrder cannot carry a cl_ord_id, so
        the new client order id needs a new order. The old order's cancel echo is swallowed
        (the core reports it REPLACED)."""
        old_id = order.venue_order_id or ""
        self.feed.replacing.add(old_id)
        try:
            await self.cancel(order)
        except BaseException:
            self.feed.replacing.discard(old_id)
            raise
        try:
            return await self.submit(new_request, instrument)
        except OutcomeUnknown:
            raise
        except GatewayError:
            # The old order is gone but nothing replaces it: say so before refusing.
            await self._push(
                OrderCanceled(
                    client_order_id=order.client_order_id,
                    venue_order_id=order.venue_order_id,
                    text="canceled for a replacement that Kraken refused",
                )
            )
            raise

    async def cancel(self, order: Order) -> None:
        venue_id = order.venue_order_id
        cl = await self.ids.venue_client_id_for(order.client_order_id)
        await self._governor.acquire_trade(
            order.symbol, KrakenTradeAction.CANCEL, order_ages_s=[self.ids.age(venue_id)]
        )
        ws_ref: dict[str, Any] = {"order_id": [venue_id]} if venue_id else {"cl_ord_id": [cl]}
        rest_ref = {"txid": venue_id} if venue_id else {"cl_ord_id": cl}
        await self._send("cancel_order", ws_ref, lambda: self._rest.write("CancelOrder", rest_ref))
        self.ids.untrack(venue_id)

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        if len(orders) == 1:
            try:
                await self.cancel(orders[0])
                return [None]
            except GatewayError as exc:
                return [exc]
        results: list[GatewayError | None] = []
        for chunk in _chunks(orders, BATCH_CANCEL_MAX):
            try:
                results.extend(await self._cancel_chunk(chunk))
            except GatewayError as exc:
                results.extend([exc] * len(chunk))
        return results

    async def _cancel_chunk(self, orders: Sequence[Order]) -> list[GatewayError | None]:
        by_id = [o.venue_order_id for o in orders if o.venue_order_id]
        by_cl = [
            await self.ids.venue_client_id_for(o.client_order_id)
            for o in orders
            if not o.venue_order_id
        ]
        for symbol in {o.symbol for o in orders}:
            ages = [self.ids.age(o.venue_order_id) for o in orders if o.symbol == symbol]
            await self._governor.acquire_trade(
                symbol, KrakenTradeAction.BATCH_CANCEL, order_ages_s=ages, count=len(ages)
            )
        ws_params: dict[str, Any] = {"orders": by_id}
        rest_params: dict[str, Any] = {"orders": by_id}
        if by_cl:
            ws_params["cl_ord_id"] = by_cl
            rest_params["cl_ord_ids"] = by_cl
        result = await self._send(
            "batch_cancel",
            ws_params,
            lambda: self._rest.write("CancelOrderBatch", rest_params, as_json=True),
        )
        count = int((result or {}).get("count", 0))
        if count == len(orders):
            for order in orders:
                self.ids.untrack(order.venue_order_id)
            return [None] * len(orders)
        # Kraken only says how many: the core settles each by query.
        unknown = OutcomeUnknown(
            f"Kraken canceled {count} of {len(orders)} orders", ErrorReason.VENUE_TIMEOUT
        )
        return [unknown] * len(orders)

    async def cancel_all(self, symbol: str | None = None) -> int:
        if symbol is not None:
            live = [(vid, t) for vid, t in list(self.ids.live.items()) if t.symbol == symbol]
            canceled = 0
            for chunk in _chunks(live, BATCH_CANCEL_MAX):
                canceled += await self._batch_cancel_ids([vid for vid, _ in chunk])
            return canceled
        result = await self._send("cancel_all", {}, lambda: self._rest.write("CancelAll", {}))
        # The executions feed reports each canceled order.
        return int((result or {}).get("count", 0))

    async def _batch_cancel_ids(self, venue_ids: list[str]) -> int:
        result = await self._send(
            "batch_cancel",
            {"orders": venue_ids},
            lambda: self._rest.write("CancelOrderBatch", {"orders": venue_ids}, as_json=True),
        )
        return int((result or {}).get("count", 0))

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        cl = await self.ids.venue_client_id_for(client_order_id)
        state = await self.reconciler.query_order(cl, venue_order_id)
        if state is None:
            return None
        open_now = state.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
        if open_now and state.venue_order_id not in self.ids.live:
            self.ids.track(state.venue_order_id, client_order_id, instrument.symbol)
        return state

    async def open_orders(self) -> Sequence[VenueOrderState]:
        """Every open order of the key, in one call; the ones the journal knows are tracked."""
        states = await self.reconciler.open_orders()
        for state in states:
            client = state.client_order_id
            if client is not None and state.venue_order_id not in self.ids.live:
                self.ids.track(state.venue_order_id, client, state.symbol)
        return states

    async def closed_orders(self, since: datetime) -> Sequence[VenueOrderState]:
        """OrderHistoryPort: ClosedOrders since `since`, paged (50 a call)."""
        return await self.reconciler.closed_orders(since)

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        # After the first catch-up: the core then sees only fills it already has.
        await self._await_ready()
        fills = await self.reconciler.fills_since(since)
        return [await _as_fill(self.feed, f) for f in fills]

    # -- AccountPort ----------------------------------------------------------------------
    async def balances(self) -> Sequence[Balance]:
        return parse_balance_ex(await self._rest.read("BalanceEx"))

    async def trade_balance(self, asset: str = "USD") -> KrakenSpotTradeBalance:
        result = await self._rest.read("TradeBalance", {"asset": kraken_asset(asset)})
        return parse_trade_balance(result)

    async def positions(self) -> Sequence[Position]:
        result = await self._rest.read("OpenPositions", {"docalcs": "true"})
        return parse_open_positions(result or {}, self.reconciler.symbols)

    async def subaccounts(self) -> Sequence[Subaccount]:
        return list(self._subaccounts)  # Kraken Spot has no list call: from the config

    async def transfer(self, request: TransferRequest) -> Transfer:
        result = await self._rest.write(
            "AccountTransfer",
            {
                "asset": kraken_asset(request.asset),
                "amount": fmt(request.amount),
                "from": request.from_account,
                "to": request.to_account,
            },
        )
        status = str(result.get("status", "pending"))
        return Transfer(
            transfer_id=str(result.get("transfer_id", "")),
            asset=request.asset,
            amount=request.amount,
            from_account=request.from_account,
            to_account=request.to_account,
            status=TransferStatus.COMPLETED if status == "complete" else TransferStatus.PENDING,
            time=datetime.now(UTC),
        )

    async def stream_balances(self) -> AsyncIterator[Sequence[Balance]]:
        queue: asyncio.Queue[Sequence[Balance]] = asyncio.Queue()
        self._balance_queues.add(queue)
        try:
            yield await self.balances()
            while True:
                yield await queue.get()
        finally:
            self._balance_queues.discard(queue)

    async def stream_positions(self) -> AsyncIterator[Sequence[Position]]:
        yield await self.positions()
        await asyncio.Event().wait()  # spot margin positions change only with trades

    # -- InstrumentPort -------------------------------------------------------------------
    async def instruments(self) -> Sequence[Instrument]:
        return list(self._instruments)

    # -- limits ---------------------------------------------------------------------------
    def rate_headroom(self) -> KrakenRateHeadroom:
        """The governor's modelled budgets of this key (for GetLimits and metrics): the REST
        counter and one `spot_trading:<symbol>` counter per pair traded so far."""
        return self._governor.headroom()

    def venue_status(self) -> VenueStatus:
        """VenueStatusPort: the private WebSocket, Kraken's system status, the dead man's
        switch of this key."""
        switch = self.dead_man
        return VenueStatus(
            venue=self.venue,
            key_id=self._rest.key_id,
            connected=self.ws.connected,
            system_status=self.system_status,
            dead_man_armed=switch.is_armed,
            dead_man_timeout_s=switch.timeout_s,
            dead_man_expires_in_s=switch.expires_in(),
        )

    def rate_budgets(self) -> Sequence[RateBudget]:
        """RateBudgetPort: `spot_rest` and a `spot_trading` budget per pair traded so far."""
        return spot_rate_budgets(self._governor.headroom(), self.venue, time=datetime.now(UTC))

    # -- safety ---------------------------------------------------------------------------
    async def _send_dead_man(self, timeout_s: int) -> None:
        await self._send(
            "cancel_all_orders_after",
            {"timeout": timeout_s},
            lambda: self._rest.write("CancelAllOrdersAfter", {"timeout": str(timeout_s)}),
        )


def _order_id(result: Any) -> str | None:
    """The order id of a WS add_order result or a REST AddOrder result."""
    if isinstance(result, dict) and "order_id" in result:
        return str(result["order_id"])
    if isinstance(result, dict):
        return parse_add_order_result(result)  # type: ignore[arg-type]
    return None


async def _as_fill(feed: KrakenSpotExecutionsFeed, fill: OrderFilled) -> OrderFilled:
    event = await feed.normalise(fill)
    assert isinstance(event, OrderFilled)
    return event
