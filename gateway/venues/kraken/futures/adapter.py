"""The Kraken Futures venue for one API key: the core's order-entry, order-history, account,
instrument and rate-budget ports (venue `krakenfutures`).

Sends go over REST v3 (sendorder, editorder, cancelorder, batchorder, cancelallorders), each
once: an answer lost after sending is `OutcomeUnknown`, which the core settles with
`query_order` (orders/status by order id or cliOrdId, then the order history), never by
resending. An outcome status
missing from the explicit tables (errors.py) is logged and also settled by query.

Executions come over the WS v1 feeds, through one ordered path into the core: `open_orders`
(accepted, triggered, amended, restated, canceled) and `fills` (de-duplicated by fill id, the
same path REST catch-up fills take). On every (re)connect the snapshots reconcile: fills in the
snapshot are replayed (duplicates dropped), and tracked orders missing from the open-orders
snapshot are looked up with orders/status (then the order history) and settled. Until the
first reconciliation is done the venue refuses new orders, so a restart reports missed
executions first.

Restart reconciliation (the core's) costs a bounded number of calls whatever the number of
journaled orders: openorders, fills, and, when some order is neither open nor filled, the order
history since the oldest open order (`closed_orders`, paged, from the `/history` pool), not one
orders/status per order (only orders still pending when the process stopped are queried).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    InvalidArgument,
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
from gateway.venues.kraken.common.dead_man import KrakenDeadManSwitch
from gateway.venues.kraken.common.symbols import kraken_asset
from gateway.venues.kraken.common.wire_format import fmt
from gateway.venues.kraken.common.wire_scalars import KrakenParseError
from gateway.venues.kraken.futures.executions import KrakenFuturesFeed, kraken_futures_order_ids
from gateway.venues.kraken.futures.order_params import (
    MAX_BATCH_ORDERS,
    batch_cancel_element,
    batch_send_element,
    build_edit_order_params,
    build_send_order_params,
    encode_batch,
    kraken_futures_cli_ord_id,
    leverage_preference_params,
    refuse_unsupported,
    rfc3339,
)
from gateway.venues.kraken.futures.parse_account import (
    parse_accounts,
    parse_open_positions,
    parse_ws_balances,
    parse_ws_positions,
)
from gateway.venues.kraken.futures.parse_fills import parse_rest_fill, parse_ws_fill
from gateway.venues.kraken.futures.parse_history import parse_closed_orders
from gateway.venues.kraken.futures.parse_instruments import KrakenFuturesSymbols
from gateway.venues.kraken.futures.parse_orders import (
    KrakenFuturesOutcome,
    parse_batch_status,
    parse_cancel_all,
    parse_cancel_status,
    parse_edit_status,
    parse_open_order,
    parse_order_status,
    parse_send_status,
    parse_ws_open_order_snapshot,
    parse_ws_open_orders,
)
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from gateway.venues.kraken.futures.wire_values import VENUE, KrakenFuturesOrderChange
from gateway.venues.kraken.futures.ws import (
    DEFAULT_STALE_AFTER_S,
    JsonMessage,
    KrakenFuturesPrivateWs,
    KrakenFuturesWsError,
)

log = logging.getLogger(__name__)

DEFAULT_READY_TIMEOUT_S = 15.0
# Our clock may lead Kraken's: the history is read from a little before the oldest open order.
HISTORY_OVERLAP = timedelta(seconds=30)
_CLOSED = frozenset({OrdStatus.FILLED, OrdStatus.CANCELED, OrdStatus.EXPIRED, OrdStatus.REJECTED})


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _unparseable(what: str, exc: KrakenParseError) -> OutcomeUnknown:
    log.error("Kraken Futures %s answer not understood (%s); settling by query", what, exc)
    return OutcomeUnknown(
        f"Kraken Futures {what} answer not understood; the outcome is being resolved",
        ErrorReason.VENUE_RESPONSE_UNPARSEABLE,
    )


class KrakenFuturesVenue:
    """OrderEntryPort + OrderHistoryPort + AccountPort + InstrumentPort + RateBudgetPort of
    Kraken Futures."""

    venue = VENUE

    def __init__(
        self,
        *,
        account: str,
        rest: KrakenFuturesRestClient,
        ws_url: str,
        journal: JournalPort,
        governor: KrakenFuturesRateGovernor,
        instruments: Sequence[Instrument],
        symbols: KrakenFuturesSymbols,
        fills_since: datetime | None = None,
        ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
        subaccounts: Sequence[Subaccount] = (),
        ws_stale_after_s: float = DEFAULT_STALE_AFTER_S,
        ws_before_send: Callable[[], None] | None = None,
    ) -> None:
        self._account = account
        self._rest = rest
        self._governor = governor
        self._instruments = list(instruments)
        self.symbols = symbols
        self._ready_timeout = ready_timeout_s
        self._fills_since = fills_since or datetime.now(UTC)
        self._subaccounts = list(subaccounts)
        self._sink: VenueEventSink | None = None
        self.ids = kraken_futures_order_ids(journal, account)
        self.feed = KrakenFuturesFeed(self.ids, self._push)
        self.ws = KrakenFuturesPrivateWs(
            ws_url,
            rest.signer,
            self._on_ws_message,
            stale_after_s=ws_stale_after_s,
            before_send=ws_before_send,
        )
        self.dead_man = KrakenDeadManSwitch(self._send_dead_man)
        self._ready = asyncio.Event()
        # The maxLeverage this adapter last set per Kraken symbol: an order naming the same
        # leverage again sends no PUT (a change made elsewhere on the key is not seen).
        self._leverage_set: dict[str, Decimal] = {}
        # Held from the PUT until the order is answered, so two orders naming different
        # leverage on one symbol cannot swap preferences between PUT and send.
        self._leverage_locks: dict[str, asyncio.Lock] = {}
        self._snapshot_orders: set[str] | None = None  # open order ids of this connect's snapshot
        self._balance_queues: set[asyncio.Queue[Sequence[Balance]]] = set()
        self._position_queues: set[asyncio.Queue[Sequence[Position]]] = set()
        self._ws_positions: dict[str, Position] = {}  # the feed's latest, by unified symbol
        self.reconciliations = 0  # completed snapshot reconciliations (tests, metrics)
        self._reconciled = asyncio.Condition()

    def __repr__(self) -> str:
        return f"KrakenFuturesVenue(account={self._account!r}, key_id={self._rest.key_id!r})"

    # -- lifecycle ------------------------------------------------------------------------
    def set_event_sink(self, sink: VenueEventSink) -> None:
        self._sink = sink
        self.start()

    def start(self) -> None:
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
                "not yet reconciled with Kraken Futures; retry shortly",
                ErrorReason.VENUE_UNAVAILABLE,
            ) from None

    async def _push(self, event: VenueEvent) -> None:
        if self._sink is not None:
            await self._sink.on_venue_event(event)

    # -- WS feeds -------------------------------------------------------------------------
    async def _on_ws_message(self, msg: JsonMessage) -> None:
        event = msg.get("event")
        if event in ("error", "subscribed_failed"):
            raise KrakenFuturesWsError(f"Kraken Futures WS refused: {msg.get('message')}")
        feed = msg.get("feed")
        if event is not None or feed in (None, "heartbeat"):
            return
        if feed == "open_orders_snapshot":
            await self._on_orders_snapshot(msg)
        elif feed == "fills_snapshot":
            await self._on_fills_snapshot(msg)
        elif feed == "open_orders":
            await self._on_order_update(msg)
        elif feed == "fills":
            for row in msg.get("fills") or []:
                await self.feed.emit_fill(parse_ws_fill(row))
        elif feed == "open_positions":
            positions = parse_ws_positions(msg, self.symbols)
            self._ws_positions = {p.symbol: p for p in positions}  # each message is complete
            for queue in self._position_queues:
                queue.put_nowait(positions)
        elif feed in ("balances", "balances_snapshot"):
            balances = parse_ws_balances(msg)
            for bqueue in self._balance_queues:
                bqueue.put_nowait(balances)

    async def _on_orders_snapshot(self, msg: JsonMessage) -> None:
        """First snapshot of a (re)connect: track what is open; settle the rest after fills."""
        open_ids: set[str] = set()
        for row in msg.get("orders") or []:
            state = parse_ws_open_order_snapshot(row, self.symbols)
            open_ids.add(state.venue_order_id)
            if state.venue_order_id not in self.ids.live:
                client = await self.ids.client_id(state.client_order_id)
                if client is not None:
                    self.ids.track(state.venue_order_id, client, state.symbol)
        self._snapshot_orders = open_ids

    async def _on_fills_snapshot(self, msg: JsonMessage) -> None:
        fills = [parse_ws_fill(row) for row in msg.get("fills") or []]
        since = self.feed.last_fill_time or self._fills_since
        await self.feed.emit_fills(
            f for f in fills if f.venue_time is None or f.venue_time >= since
        )
        open_ids, self._snapshot_orders = self._snapshot_orders or set(), None
        vanished = [vid for vid in list(self.ids.live) if vid not in open_ids]
        if vanished:
            await self._settle_vanished(vanished)
        async with self._reconciled:
            self.reconciliations += 1
            self._reconciled.notify_all()
        self._ready.set()

    async def wait_reconciliations(self, count: int, timeout_s: float) -> None:
        """Wait until `count` snapshot reconciliations (connects) have completed."""
        async with asyncio.timeout(timeout_s), self._reconciled:
            await self._reconciled.wait_for(lambda: self.reconciliations >= count)

    async def _settle_vanished(self, venue_ids: list[str]) -> None:
        """Tracked orders that closed while the feed was away: their fills came with the
        snapshot (or come from REST now); a cancel is reported here, with Kraken's reason.
        orders/status knows only orders closed in the last 5 seconds: the others are looked
        up in the order history since the oldest one's last change."""
        payload = await self._rest.read("orders/status", [("orderIds", v) for v in venue_ids])
        states = {s.venue_order_id: s for s in self._order_states(payload)}
        unanswered = [v for v in venue_ids if v not in states]
        if unanswered:
            oldest = max(self.ids.age(v) for v in unanswered)
            since = datetime.now(UTC) - timedelta(seconds=oldest)
            for found in await self._history_states(since, venue_ids=set(unanswered)):
                states[found.venue_order_id] = found
        missing_fills = any(v not in states for v in venue_ids)
        for vid in venue_ids:
            state = states.get(vid)
            tracked = self.ids.live.get(vid)
            if state is None or state.status not in _CLOSED:
                continue
            if state.status is OrdStatus.CANCELED and tracked is not None:
                await self._push(
                    OrderCanceled(
                        client_order_id=tracked.client_order_id,
                        venue_order_id=vid,
                        text=state.text or "canceled while the feed was reconnecting",
                    )
                )
            missing_fills |= state.cum_qty > 0
            self.ids.untrack(vid)
        if missing_fills:
            # Also the fills of an order neither list knows yet: the core learns it traded.
            await self.feed.emit_fills(await self._rest_fills(self._fills_since))

    async def _on_order_update(self, msg: JsonMessage) -> None:
        update = parse_ws_open_orders(msg)
        C = KrakenFuturesOrderChange
        if update.change is C.ACCEPTED and update.order_id not in self.ids.live:
            client = await self.ids.client_id(update.cli_ord_id)
            if client is not None:
                symbol = self.symbols.unified(update.symbol) if update.symbol else ""
                self.ids.track(update.order_id, client, symbol)
        if update.is_cancel:
            self.ids.untrack(update.order_id)
        if update.event is not None:
            await self.feed.emit(update.event)

    # -- OrderEntryPort -------------------------------------------------------------------
    def check_order(self, request: OrderRequest, instrument: Instrument, now: datetime) -> None:
        """OrderRulesPort: what Kraken Futures has no field for is refused before the order
        exists (INVALID_ARGUMENT), not rejected after it was journaled."""
        refuse_unsupported(request)

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        await self._await_ready()
        cli = kraken_futures_cli_ord_id(request.client_order_id).value
        params = build_send_order_params(request, instrument, cli_ord_id=cli)
        async with AsyncExitStack() as held:
            await self._set_leverage([(request, instrument)], held)
            await self.ids.venue_client_id_for(
                request.client_order_id
            )  # journals a mapped id first
            payload = await self._rest.write("sendorder", params)
        try:
            outcome = parse_send_status(payload)
        except KrakenParseError as exc:
            raise _unparseable("sendorder", exc) from None
        return self._acked(outcome, request, instrument)

    async def _set_leverage(
        self, items: Sequence[tuple[OrderRequest, Instrument]], held: AsyncExitStack
    ) -> None:
        """Isolated margin at each order's leverage on its symbol, before the orders are sent;
        the symbol's lock is entered on `held`. Two leverages for one symbol are refused."""
        wanted: dict[str, tuple[Decimal, Instrument]] = {}
        for request, instrument in items:
            if request.leverage is None:
                continue
            symbol = instrument.venue_symbol
            if wanted.setdefault(symbol, (request.leverage, instrument))[0] != request.leverage:
                raise InvalidArgument(
                    f"one batch names two leverages for {instrument.symbol}",
                    ErrorReason.INVALID_FIELD,
                    metadata={"field": "leverage"},
                )
        for symbol in sorted(wanted):
            leverage, instrument = wanted[symbol]
            await held.enter_async_context(self._leverage_locks.setdefault(symbol, asyncio.Lock()))
            if self._leverage_set.get(symbol) != leverage:
                params = leverage_preference_params(instrument, leverage)
                await self._rest.put("leveragepreferences", params)
                self._leverage_set[symbol] = leverage

    def _acked(
        self, outcome: KrakenFuturesOutcome, request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        if outcome.error is not None:
            raise outcome.error
        if outcome.order_id is None:
            raise _unparseable("sendorder", KrakenParseError("accepted without an order id"))
        if outcome.order_id not in self.ids.live:
            self.ids.track(outcome.order_id, request.client_order_id, instrument.symbol)
        return SubmitAck(venue_order_id=outcome.order_id, venue_time=datetime.now(UTC))

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
        await self._await_ready()
        elements = []
        for i, (request, instrument) in enumerate(chunk):
            cli = kraken_futures_cli_ord_id(request.client_order_id).value
            params = build_send_order_params(request, instrument, cli_ord_id=cli)
            elements.append(batch_send_element(params, str(i)))
        form = [("json", encode_batch(elements))]
        deadlines = [r.deadline for r, _ in chunk if r.deadline is not None]
        if deadlines:
            form.append(("ProcessBefore", rfc3339(min(deadlines))))
        async with AsyncExitStack() as held:
            await self._set_leverage(chunk, held)
            for request, _ in chunk:
                await self.ids.venue_client_id_for(request.client_order_id)
            payload = await self._rest.write("batchorder", form, batch_size=len(chunk))
        try:
            outcomes = parse_batch_status(payload, ["send"] * len(chunk))
        except KrakenParseError as exc:
            raise _unparseable("batchorder", exc) from None
        acks: list[SubmitAck | GatewayError] = []
        for (request, instrument), outcome in zip(chunk, outcomes, strict=True):
            try:
                acks.append(self._acked(outcome, request, instrument))
            except GatewayError as exc:
                acks.append(exc)
        return acks

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        venue_id = order.venue_order_id
        cli = await self.ids.venue_client_id_for(order.client_order_id)
        params = build_edit_order_params(amend, order.request, order_id=venue_id, cli_ord_id=cli)
        echo_key = venue_id or ""
        self.feed.expect_amended[echo_key] += 1
        try:
            payload = await self._rest.write("editorder", params)
            try:
                outcome = parse_edit_status(payload)
            except KrakenParseError as exc:
                raise _unparseable("editorder", exc) from None
            if outcome.error is not None:
                raise outcome.error
        except OutcomeUnknown:
            raise  # it may have happened: the echo, if any, is still ours
        except BaseException:
            self.feed.expect_amended[echo_key] -= 1
            raise
        self.ids.touch(echo_key)
        return AmendAck(
            venue_order_id=outcome.order_id or echo_key,
            qty=amend.qty,
            price=amend.price,
            stop_price=amend.stop_price,
            venue_time=datetime.now(UTC),
        )

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        """Cancel, then submit: editorder cannot give an order a new cliOrdId. The old order's
        cancel echo is swallowed (the core reports it REPLACED)."""
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
            await self._push(
                OrderCanceled(
                    client_order_id=order.client_order_id,
                    venue_order_id=order.venue_order_id,
                    text="canceled for a replacement that Kraken Futures refused",
                )
            )
            raise

    async def cancel(self, order: Order) -> None:
        venue_id = order.venue_order_id
        cli = await self.ids.venue_client_id_for(order.client_order_id)
        params = {"order_id": venue_id} if venue_id else {"cliOrdId": cli}
        payload = await self._rest.write("cancelorder", params)
        try:
            outcome = parse_cancel_status(payload)
        except KrakenParseError as exc:
            raise _unparseable("cancelorder", exc) from None
        if outcome.error is not None:
            raise outcome.error
        self.ids.untrack(venue_id)

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        results: list[GatewayError | None] = []
        for chunk in _chunks(orders, MAX_BATCH_ORDERS):
            try:
                results.extend(await self._cancel_chunk(chunk))
            except GatewayError as exc:
                results.extend([exc] * len(chunk))
        return results

    async def _cancel_chunk(self, orders: Sequence[Order]) -> list[GatewayError | None]:
        if len(orders) == 1:
            try:
                await self.cancel(orders[0])
                return [None]
            except GatewayError as exc:
                return [exc]
        elements = [
            batch_cancel_element(
                o.venue_order_id, await self.ids.venue_client_id_for(o.client_order_id)
            )
            for o in orders
        ]
        payload = await self._rest.write(
            "batchorder", [("json", encode_batch(elements))], batch_size=len(orders), cancel=True
        )
        try:
            outcomes = parse_batch_status(payload, ["cancel"] * len(orders))
        except KrakenParseError as exc:
            raise _unparseable("batchorder", exc) from None
        results: list[GatewayError | None] = []
        for order, outcome in zip(orders, outcomes, strict=True):
            if outcome.error is None:
                self.ids.untrack(order.venue_order_id)
            results.append(outcome.error)
        return results

    async def cancel_all(self, symbol: str | None = None) -> int:
        params = {"symbol": self.symbols.kraken(symbol)} if symbol else {}
        payload = await self._rest.write("cancelallorders", params)
        # The open_orders feed reports each cancelled order to the core.
        return len(parse_cancel_all(payload))

    def _order_states(self, payload: dict[str, Any]) -> list[VenueOrderState]:
        states = []
        for row in payload.get("orders") or []:
            try:
                states.append(parse_order_status(row, self.symbols))
            except KrakenParseError as exc:
                log.error("orders/status row not understood: %s", exc)
                raise
        return states

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        """orders/status, which Kraken answers only for orders open or closed in the last 5
        seconds; then the order history since the oldest order this process may be asked about
        (`fills_since`); then the fills. None only when all three miss the order."""
        cli = await self.ids.venue_client_id_for(client_order_id)
        params = [("orderIds", venue_order_id)] if venue_order_id else [("cliOrdIds", cli)]
        states = self._order_states(await self._rest.read("orders/status", params))
        if not states:
            states = await self._history_states(
                self._fills_since,
                venue_ids={venue_order_id} if venue_order_id else set(),
                client_ids=set() if venue_order_id else {client_order_id},
            )
        if not states:
            fills = [
                f
                for f in await self._rest_fills(self._fills_since)
                if f.venue_order_id == venue_order_id or f.client_order_id == cli
            ]
            if fills:
                # It exists and traded, but its closing is not listed yet: not "unknown".
                await self.feed.emit_fills(fills)
                raise Unavailable(
                    "Kraken Futures lists fills of this order but not yet its state; retrying",
                    ErrorReason.VENUE_UNAVAILABLE,
                )
            return None
        state = states[-1]  # by cliOrdId: the newest order that carried it
        is_open = state.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
        if is_open and state.venue_order_id not in self.ids.live:
            self.ids.track(state.venue_order_id, client_order_id, instrument.symbol)
        return state

    async def _history_states(
        self,
        since: datetime,
        *,
        venue_ids: Collection[str] = (),
        client_ids: Collection[str] = (),
    ) -> list[VenueOrderState]:
        """The closed orders of the order history (the history pool) since `since` that carry
        one of `venue_ids` or (client ids as the core knows them) `client_ids`."""
        return [
            s
            for s in await self.closed_orders(since)
            if s.venue_order_id in venue_ids or s.client_order_id in client_ids
        ]

    async def closed_orders(self, since: datetime) -> Sequence[VenueOrderState]:
        """OrderHistoryPort: orders closed since `since` (less the clock overlap), from the
        account's order history (`/api/history/v2/orders`, the history pool, one token a
        page), oldest event first, all pages. orders/status cannot serve: Kraken answers it only
        for orders open or closed in the last 5 seconds. Trigger orders cancelled before they
        triggered are in the trigger history, not here."""
        start = since - HISTORY_OVERLAP
        params = {"since": str(int(start.timestamp() * 1000)), "sort": "asc"}
        elements: list[Any] = []
        token: str | None = None
        while True:
            page = params if token is None else params | {"continuation_token": token}
            payload = await self._rest.history("orders", page)
            elements.extend(payload.get("elements") or [])
            token = payload.get("continuationToken")
            if not token:
                break
        try:
            states = parse_closed_orders(elements, self.symbols)
        except KrakenParseError as exc:
            log.error("order history not understood: %s", exc)
            raise
        return [
            replace(s, client_order_id=await self.ids.client_id(s.client_order_id)) for s in states
        ]

    async def open_orders(self) -> Sequence[VenueOrderState]:
        payload = await self._rest.read("openorders")
        return [parse_open_order(row, self.symbols) for row in payload.get("openOrders") or []]

    async def _rest_fills(self, since: datetime | None) -> list[OrderFilled]:
        payload = await self._rest.read("fills")
        fills = [parse_rest_fill(row) for row in payload.get("fills") or []]
        fills = [f for f in fills if since is None or f.venue_time is None or f.venue_time >= since]
        fills.sort(key=lambda f: f.venue_time or datetime.min.replace(tzinfo=UTC))
        return fills

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        await self._await_ready()
        out = []
        for fill in await self._rest_fills(since):
            event = await self.feed.normalise(fill)
            assert isinstance(event, OrderFilled)
            out.append(event)
        return out

    # -- AccountPort ----------------------------------------------------------------------
    async def balances(self) -> Sequence[Balance]:
        return parse_accounts(await self._rest.read("accounts"))

    async def positions(self) -> Sequence[Position]:
        """REST openpositions (size, entry price), with the mark price, PnL, liquidation price,
        leverage and margin of the open_positions feed when it shows the same size."""
        rows = parse_open_positions(await self._rest.read("openpositions"), self.symbols)
        out = []
        for row in rows:
            feed = self._ws_positions.get(row.symbol)
            if feed is not None and feed.qty == row.qty:
                row = replace(
                    row,
                    mark_price=feed.mark_price,
                    unrealized_pnl=feed.unrealized_pnl,
                    liquidation_price=feed.liquidation_price,
                    leverage=feed.leverage,
                    margin=feed.margin,
                )
            out.append(row)
        return out

    async def subaccounts(self) -> Sequence[Subaccount]:
        return list(self._subaccounts)

    async def transfer(self, request: TransferRequest) -> Transfer:
        """Between the flex wallets of the master and a subaccount (transfer/subaccount)."""
        await self._rest.write(
            "transfer/subaccount",
            {
                "fromUser": request.from_account,
                "toUser": request.to_account,
                "fromAccount": "flex",
                "toAccount": "flex",
                "unit": kraken_asset(request.asset),
                "amount": fmt(request.amount),
            },
        )
        return Transfer(
            transfer_id=request.client_transfer_id,
            asset=request.asset,
            amount=request.amount,
            from_account=request.from_account,
            to_account=request.to_account,
            status=TransferStatus.COMPLETED,
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
        queue: asyncio.Queue[Sequence[Position]] = asyncio.Queue()
        self._position_queues.add(queue)
        try:
            yield await self.positions()
            while True:
                yield await queue.get()
        finally:
            self._position_queues.discard(queue)

    # -- InstrumentPort / RateBudgetPort --------------------------------------------------
    async def instruments(self) -> Sequence[Instrument]:
        return list(self._instruments)

    def rate_budgets(self) -> Sequence[RateBudget]:
        """`futures_derivatives` (500 per 10 s) and `futures_history` (100 per 10 min)."""
        return self._governor.rate_budgets(self.venue, time=datetime.now(UTC))

    # -- safety ---------------------------------------------------------------------------
    async def _send_dead_man(self, timeout_s: int) -> None:
        await self._rest.write("cancelallordersafter", {"timeout": str(timeout_s)})
