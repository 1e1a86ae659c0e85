"""The application service the gRPC servicers call (no grpc here).

It owns the in-memory order index, enforces session ownership and permissions, validates and
risk-checks before any venue call, drives the state machine of orders.py and journals every
report (the journal publishes it live only after commit).

Concurrency: everything runs on one event loop. State changes happen synchronously between
awaits and are journaled in the order they happen. Calls that reach a venue run in their own
task (shielded), so a client that disconnects mid-call cannot leave an order half-processed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    FailedPrecondition,
    GatewayError,
    Internal,
    InvalidArgument,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.core.events import (
    AmendAck,
    OrderFilled,
    OrderRejected,
    SubmitAck,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.instruments import InstrumentCatalog
from gateway.core.model import (
    PENDING_STATUSES,
    AmendRequest,
    CancelRequest,
    ExecType,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    OrdStatus,
    Permission,
    RateBudget,
    RejectInfo,
    ReplaceRequest,
    SessionContext,
)
from gateway.core.order_index import OrderIndex, OrderKey
from gateway.core.orders import (
    live_status,
    make_report,
    new_order,
    same_request,
    transition,
)
from gateway.core.ports import JournalPort, OrderEntryPort, RateBudgetPort, ReportSubscription
from gateway.core.risk import RiskEngine, RiskLimits
from gateway.core.validation import (
    check_id,
    validate_amend,
    validate_order,
)
from gateway.core.venue_updates import Update, absent_at_venue, from_event, from_venue_state

log = logging.getLogger(__name__)

T = TypeVar("T")

# Venue errors that prove the request was not executed: safe to report as a rejection.
DEFINITIVE = (
    VenueRejected,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
    ResourceExhausted,
    Unauthenticated,
    FailedPrecondition,
)
_CANCEL_PERMS = frozenset({Permission.TRADE, Permission.CANCEL_ONLY})


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; an empty `next_page_token` means the last page."""

    items: list[T]
    next_page_token: str = ""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _page(items: list[T], page_size: int, page_token: str) -> Page[T]:
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise InvalidArgument("bad page token", ErrorReason.INVALID_PAGE_TOKEN) from None
    if start < 0 or page_size < 0:
        raise InvalidArgument("bad page token or size", ErrorReason.INVALID_PAGE_TOKEN)
    size = min(page_size or 100, 1000)
    end = start + size
    return Page(items[start:end], str(end) if end < len(items) else "")


class _AccountSink:
    """The VenueEventSink handed to one (account, venue) adapter."""

    def __init__(self, service: TradingService, account: str, venue: str) -> None:
        self._service = service
        self._account = account
        self._venue = venue

    async def on_venue_event(self, event: VenueEvent) -> None:
        await self._service._on_venue_event(self._account, self._venue, event)


class TradingService:
    """Orders, fills and execution streams for sessions.

    `resolve_delays`: seconds between queries that settle an outcome-unknown order (the last
    one repeats); `not_found_confirmations`: how many "venue does not know it" answers in a row
    make a pending order definitively rejected/canceled. The defaults wait >= 3.5 s, so an order
    still in flight inside the venue is not declared absent too early.
    """

    def __init__(
        self,
        journal: JournalPort,
        *,
        clock: Callable[[], datetime] | None = None,
        resolve_delays: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0),
        not_found_confirmations: int = 3,
    ) -> None:
        self.journal = journal
        self.risk = RiskEngine()
        self._now = clock or _utcnow
        self._resolve_delays = tuple(resolve_delays) or (1.0,)
        self._confirmations = max(1, not_found_confirmations)
        self._orders = OrderIndex()
        self._inflight: dict[OrderKey, asyncio.Future[Order]] = {}
        self._results: dict[OrderKey, Order] = {}
        self._ports: dict[tuple[str, str], OrderEntryPort] = {}
        self.catalog = InstrumentCatalog()
        self._resolvers: dict[OrderKey, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Load orders from the journal. Call once before serving."""
        for order in await self.journal.load_orders():
            self._orders.put(order)

    async def close(self) -> None:
        """Stop background resolution tasks."""
        tasks = [*self._resolvers.values(), *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- wiring ---------------------------------------------------------------------------
    def add_instruments(self, instruments: Iterable[Instrument]) -> None:
        self.catalog.add(instruments)

    def instruments(self, venue: str | None = None) -> list[Instrument]:
        return self.catalog.list(venue)

    def instrument(self, symbol: str, venue: str = "") -> Instrument:
        """Raises InvalidArgument(UNKNOWN_SYMBOL), or INVALID_FIELD if the symbol is listed on
        several venues and none was named."""
        return self.catalog.get(symbol, venue)

    def attach_venue(self, account: str, port: OrderEntryPort) -> None:
        """Route `account`'s orders on `port.venue` to `port`; gives it the event sink and
        resumes settling the account's pending orders there."""
        self._ports[(account, port.venue)] = port
        port.set_event_sink(_AccountSink(self, account, port.venue))
        for order in self._orders.account_orders(account):
            if order.venue == port.venue and order.status in PENDING_STATUSES:
                self._schedule_resolve((account, order.client_order_id))

    def detach_venue(self, account: str, venue: str) -> None:
        self._ports.pop((account, venue), None)

    def set_risk_limits(self, account: str, limits: RiskLimits) -> None:
        self.risk.set_limits(account, limits)

    def rate_budgets(self, ctx: SessionContext) -> list[RateBudget]:
        """The venue rate budgets of the session's account: from each of its venue ports that
        models them (`RateBudgetPort`), in attach order. Readable by any session."""
        budgets: list[RateBudget] = []
        for (account, _venue), port in self._ports.items():
            if account == ctx.account and isinstance(port, RateBudgetPort):
                budgets.extend(port.rate_budgets())
        return budgets

    def update_last_price(self, venue: str, symbol: str, price: Decimal) -> None:
        self.risk.update_last_price(venue, symbol, price)

    async def reconcile(self, account: str, venue: str | None = None) -> None:
        """Merge the venue's recent fills and settle every non-terminal order of the account
        from the venue's own view (restart, reconnect)."""
        for (acct, port_venue), port in list(self._ports.items()):
            if acct != account or (venue is not None and port_venue != venue):
                continue
            keys = [
                (account, o.client_order_id)
                for o in self._orders.account_orders(account)
                if o.venue == port_venue and o.is_open
            ]
            for listed in await port.open_orders():
                known = self._orders.find(
                    account, port_venue, listed.client_order_id, listed.venue_order_id
                )
                if known is None:
                    # Placed outside this gateway, or sent just before a crash that lost its
                    # journal entry: reported, not adopted (no session to give it to).
                    log.warning("venue %s has an open order unknown to the journal", port_venue)
            if not keys:
                continue
            since = min(self._orders[k].created_at for k in keys)
            for fill in await port.recent_fills(since):
                await self._on_venue_event(account, port_venue, fill)
            for key in keys:
                order = self._orders[key]
                if order.is_terminal:
                    continue
                state = await port.query_order(
                    order.client_order_id, order.venue_order_id, self._instrument_of(order)
                )
                if state is None:
                    if order.status in PENDING_STATUSES:
                        self._schedule_resolve(key)
                    continue
                await self._apply_venue_state(key, state, port)

    # -- order entry ----------------------------------------------------------------------
    async def submit(self, ctx: SessionContext, request: OrderRequest) -> Order:
        """Idempotent on (account, client_order_id). Returns the order after the venue's answer:
        NEW (or later), REJECTED (venue refused; see order.reject), or PENDING_NEW (outcome
        unknown, being resolved). Raises InvalidArgument, PermissionDenied, RiskRejected,
        FailedPrecondition(KILL_SWITCH_ACTIVE), AlreadyExists (same id, different request),
        ResourceExhausted (the venue's rate governor refused to send; the order is REJECTED)."""
        self._require(ctx, Permission.TRADE)
        return await self._submit(ctx, request)

    async def submit_batch(
        self, ctx: SessionContext, requests: Sequence[OrderRequest]
    ) -> list[Order | GatewayError]:
        """Each order independently (idempotency, validation, risk per item). Orders that pass
        and share a venue and symbol go to the venue as one batch."""
        self._require(ctx, Permission.TRADE)
        results: list[Order | GatewayError | None] = [None] * len(requests)
        groups: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        deferred: list[int] = []  # duplicates and validate-only: handled like single submits
        seen: set[str] = set()
        accepted = 0
        # No await until every new order exists: nothing can slip in between check and create.
        for i, request in enumerate(requests):
            try:
                if request.client_order_id in seen:
                    raise AlreadyExists(
                        "client_order_id repeated within the batch",
                        ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
                    )
                seen.add(request.client_order_id)
                if (ctx.account, request.client_order_id) in self._orders or request.validate_only:
                    deferred.append(i)
                    continue
                instrument = self._prepare(ctx, request, open_orders_delta=accepted)
                groups[(instrument.venue, instrument.symbol)].append(i)
                accepted += 1
            except GatewayError as exc:
                results[i] = exc
        batches = [
            (
                indexes,
                self._start_group(
                    ctx, [requests[i] for i in indexes], self.catalog.get(g[1], g[0])
                ),
            )
            for g, indexes in groups.items()
        ]
        for i in deferred:
            try:
                results[i] = await self._submit(ctx, requests[i])
            except GatewayError as exc:
                results[i] = exc
        for indexes, task in batches:
            try:
                orders = await asyncio.shield(task)
            except GatewayError as exc:
                orders = [exc] * len(indexes)
            for i, order_or_error in zip(indexes, orders, strict=True):
                results[i] = order_or_error
        return [r if r is not None else Internal("batch item lost") for r in results]

    async def amend(self, ctx: SessionContext, request: AmendRequest) -> Order:
        self._require(ctx, Permission.TRADE)
        order = self._own(ctx, request.client_order_id, write=True)
        self._require_working(order, ErrorReason.ORDER_NOT_AMENDABLE)
        instrument = self._instrument_of(order)
        validate_amend(request, order, instrument)
        changed = replace(
            order.request,
            qty=request.qty if request.qty is not None else order.qty,
            price=request.price if request.price is not None else order.price,
        )
        self.risk.check(ctx.account, changed, instrument, open_orders=0)
        port = self._port(ctx.account, order.venue)
        moved = transition(order, OrdStatus.PENDING_REPLACE, self._now())
        first = self._emit(moved, ExecType.PENDING_REPLACE)
        return await self._run_shielded(self._amend(moved, request, instrument, port, first))

    async def replace(self, ctx: SessionContext, request: ReplaceRequest) -> Order:
        """Cancel/replace; returns the new order (its orig_client_order_id names the old)."""
        self._require(ctx, Permission.TRADE)
        new_request = request.new_order
        check_id(request.orig_client_order_id, "orig_client_order_id")
        key = (ctx.account, new_request.client_order_id)
        existing = self._orders.get(key)
        if existing is not None:
            if existing.orig_client_order_id != request.orig_client_order_id:
                raise AlreadyExists(
                    "client_order_id already used for another order",
                    ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
                )
            return await self._duplicate(ctx, existing, new_request)
        old = self._own(ctx, request.orig_client_order_id, write=True)
        self._require_working(old, ErrorReason.ORDER_NOT_AMENDABLE)
        instrument = self._prepare(ctx, new_request, open_orders_delta=-1)
        if instrument.venue != old.venue or instrument.symbol != old.symbol:
            raise InvalidArgument(
                "a replacement must keep the symbol",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "symbol"},
            )
        port = self._port(ctx.account, old.venue)
        now = self._now()
        new = new_order(
            account=ctx.account,
            session_id=ctx.session_id,
            request=new_request,
            instrument=instrument,
            now=now,
            orig_client_order_id=old.client_order_id,
        )
        pending = [
            self._emit(transition(old, OrdStatus.PENDING_REPLACE, now), ExecType.PENDING_REPLACE),
            self._emit(new, ExecType.PENDING_NEW),
        ]
        task = self._spawn(self._replace(old, new, instrument, port, pending))
        self._inflight[key] = task
        return await asyncio.shield(task)

    async def cancel(self, ctx: SessionContext, request: CancelRequest) -> Order:
        self._require_any(ctx, _CANCEL_PERMS, ErrorReason.PERMISSION_DENIED_CANCEL)
        order = self._own(ctx, request.client_order_id, write=True)
        if order.status is OrdStatus.PENDING_CANCEL:
            return order  # already being canceled: idempotent
        self._require_working(order, ErrorReason.ORDER_NOT_CANCELABLE)
        port = self._port(ctx.account, order.venue)
        moved = transition(order, OrdStatus.PENDING_CANCEL, self._now())
        first = self._emit(moved, ExecType.PENDING_CANCEL)
        return await self._run_shielded(self._cancel(moved, port, first))

    async def cancel_batch(
        self, ctx: SessionContext, requests: Sequence[CancelRequest]
    ) -> list[Order | GatewayError]:
        self._require_any(ctx, _CANCEL_PERMS, ErrorReason.PERMISSION_DENIED_CANCEL)
        results: list[Order | GatewayError | None] = [None] * len(requests)
        groups: defaultdict[str, list[tuple[int, Order]]] = defaultdict(list)
        for i, request in enumerate(requests):
            try:
                order = self._own(ctx, request.client_order_id, write=True)
                if order.status is OrdStatus.PENDING_CANCEL:
                    results[i] = order
                    continue
                self._require_working(order, ErrorReason.ORDER_NOT_CANCELABLE)
                self._port(ctx.account, order.venue)
                groups[order.venue].append((i, order))
            except GatewayError as exc:
                results[i] = exc
        now = self._now()
        started = []
        for venue, items in groups.items():
            port = self._port(ctx.account, venue)
            moved = [transition(o, OrdStatus.PENDING_CANCEL, now) for _, o in items]
            first = [self._emit(o, ExecType.PENDING_CANCEL) for o in moved]
            started.append((items, self._spawn(self._cancel_group(moved, port, first))))
        for items, task in started:
            outcome = await asyncio.shield(task)
            for (i, _), result in zip(items, outcome, strict=True):
                results[i] = result
        return [r if r is not None else Internal("batch item lost") for r in results]

    async def cancel_all(self, ctx: SessionContext, symbol: str | None = None) -> int:
        """Cancel the session's open orders (of one symbol if given); returns how many."""
        self._require_any(ctx, _CANCEL_PERMS, ErrorReason.PERMISSION_DENIED_CANCEL)
        requests = [
            CancelRequest(client_order_id=o.client_order_id)
            for o in self._session_orders(ctx)
            if o.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
            and (symbol is None or o.symbol == symbol)
        ]
        results = await self.cancel_batch(ctx, requests)
        return sum(1 for r in results if isinstance(r, Order))

    async def set_kill_switch(self, ctx: SessionContext, active: bool) -> int:
        """On: refuse new orders of the account and cancel all its open orders at every venue
        (returns how many orders were canceled). TRADE or CANCEL_ONLY may switch it on; only
        TRADE may switch it off."""
        if active:
            self._require_any(ctx, _CANCEL_PERMS, ErrorReason.PERMISSION_DENIED_CANCEL)
        else:
            self._require(ctx, Permission.TRADE)
        self.risk.set_kill_switch(ctx.account, active)
        if not active:
            return 0
        now = self._now()
        work = []
        for (acct, venue), port in list(self._ports.items()):
            if acct != ctx.account:
                continue
            keys = [
                (acct, o.client_order_id)
                for o in self._orders.account_orders(acct)
                if o.venue == venue and o.is_open and o.status is not OrdStatus.PENDING_CANCEL
            ]
            first = [
                self._emit(
                    transition(self._orders[k], OrdStatus.PENDING_CANCEL, now),
                    ExecType.PENDING_CANCEL,
                )
                for k in keys
            ]
            work.append(self._spawn(self._kill(port, keys, first)))
        counts = [await asyncio.shield(task) for task in work]
        return sum(counts)

    def kill_switch_active(self, account: str) -> bool:
        return self.risk.kill_switch_active(account)

    # -- queries --------------------------------------------------------------------------
    async def get_order(self, ctx: SessionContext, client_order_id: str) -> Order:
        """NotFound for unknown ids and other sessions' orders (drop copy sees the account)."""
        return self._own(ctx, client_order_id, write=False)

    async def list_open_orders(self, ctx: SessionContext, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self._visible_orders(ctx)
            if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    async def list_orders(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Order]:
        """All orders (open and closed), newest first."""
        orders = [o for o in self._visible_orders(ctx) if symbol is None or o.symbol == symbol]
        orders.sort(key=lambda o: o.created_at, reverse=True)
        return _page(orders, page_size, page_token)

    async def list_fills(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Fill]:
        """Fills, newest first (by venue time, else order time)."""
        fills = [
            (f.venue_time or o.updated_at, f)
            for o in self._visible_orders(ctx)
            if symbol is None or o.symbol == symbol
            for f in o.fills
        ]
        fills.sort(key=lambda pair: pair[0], reverse=True)
        return _page([f for _, f in fills], page_size, page_token)

    # -- execution stream -----------------------------------------------------------------
    def stream_executions(self, ctx: SessionContext, from_sequence: int) -> ReportSubscription:
        """The session's reports after `from_sequence` (replay, then live). For a drop-copy
        session: every report of its account, resumed on `account_sequence`."""
        if from_sequence < 0:
            raise InvalidArgument(
                "from_sequence must be >= 0",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "from_sequence"},
            )
        if ctx.is_drop_copy:
            self._require(ctx, Permission.DROP_COPY)
            return self.journal.subscribe_account(ctx.account, from_sequence)
        return self.journal.subscribe(ctx.session_id, from_sequence)

    async def last_sequence(self, ctx: SessionContext) -> int:
        if ctx.is_drop_copy:
            return await self.journal.last_account_sequence(ctx.account)
        return await self.journal.last_sequence(ctx.session_id)

    # -- guards ---------------------------------------------------------------------------
    def _require(self, ctx: SessionContext, permission: Permission) -> None:
        reason = {
            Permission.TRADE: ErrorReason.PERMISSION_DENIED_TRADE,
            Permission.DROP_COPY: ErrorReason.PERMISSION_DENIED_DROP_COPY,
            Permission.TRANSFER: ErrorReason.PERMISSION_DENIED_TRANSFER,
        }.get(permission, ErrorReason.PERMISSION_DENIED_READ)
        self._require_any(ctx, frozenset({permission}), reason)

    @staticmethod
    def _require_any(
        ctx: SessionContext, allowed: frozenset[Permission], reason: ErrorReason
    ) -> None:
        if not ctx.permissions & allowed:
            names = " or ".join(sorted(p.value for p in allowed))
            raise PermissionDenied(f"session lacks permission {names}", reason)

    def _own(self, ctx: SessionContext, client_order_id: str, *, write: bool) -> Order:
        check_id(client_order_id, "client_order_id")
        order = self._orders.get((ctx.account, client_order_id))
        visible = order is not None and (
            order.session_id == ctx.session_id or (ctx.is_drop_copy and not write)
        )
        if order is None or not visible:
            raise NotFound(f"order {client_order_id} not found", ErrorReason.ORDER_NOT_FOUND)
        return order

    @staticmethod
    def _require_working(order: Order, reason: ErrorReason) -> None:
        if order.is_terminal:
            raise FailedPrecondition(f"order is {order.status.value}", reason)
        if order.status in PENDING_STATUSES:
            raise FailedPrecondition(
                f"order is {order.status.value}; wait for the venue", ErrorReason.ORDER_PENDING
            )

    def _session_orders(self, ctx: SessionContext) -> list[Order]:
        return self._orders.session_orders(ctx.account, ctx.session_id)

    def _visible_orders(self, ctx: SessionContext) -> list[Order]:
        if ctx.is_drop_copy:
            return self._orders.account_orders(ctx.account)
        return self._session_orders(ctx)

    def _port(self, account: str, venue: str) -> OrderEntryPort:
        port = self._ports.get((account, venue))
        if port is None:
            raise Unavailable(
                f"venue {venue} is not connected for this account",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return port

    def _instrument_of(self, order: Order) -> Instrument:
        return self.instrument(order.symbol, order.venue)

    def _prepare(
        self, ctx: SessionContext, request: OrderRequest, open_orders_delta: int = 0
    ) -> Instrument:
        """Every check before a venue call: symbol, validation, connection, kill switch, risk."""
        check_id(request.client_order_id, "client_order_id")
        instrument = self.instrument(request.symbol, request.venue)
        validate_order(request, instrument, self._now())
        self._port(ctx.account, instrument.venue)
        open_orders = self._orders.open_count(ctx.account) + open_orders_delta
        self.risk.check(ctx.account, request, instrument, open_orders)
        return instrument

    # -- submit internals -----------------------------------------------------------------
    async def _submit(self, ctx: SessionContext, request: OrderRequest) -> Order:
        key = (ctx.account, request.client_order_id)
        existing = self._orders.get(key)
        if existing is not None:
            return await self._duplicate(ctx, existing, request)
        instrument = self._prepare(ctx, request)
        port = self._port(ctx.account, instrument.venue)
        if request.validate_only:
            return await self._validate_only(ctx, request, instrument, port)
        order = new_order(
            account=ctx.account,
            session_id=ctx.session_id,
            request=request,
            instrument=instrument,
            now=self._now(),
        )
        first = self._emit(order, ExecType.PENDING_NEW)
        # The venue call runs in the caller's task (no task hop: lowest latency to the venue);
        # duplicates arriving meanwhile wait on `waiter`.
        waiter: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._inflight[key] = waiter
        try:
            result = await self._send_new(key, request, instrument, port, [first])
        except asyncio.CancelledError:
            waiter.set_result(self._orders[key])  # the order exists; it is being resolved
            raise
        except BaseException as exc:
            waiter.set_exception(exc)
            waiter.exception()  # mark retrieved: there may be no duplicate waiting
            raise
        else:
            waiter.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)

    async def _duplicate(
        self, ctx: SessionContext, existing: Order, request: OrderRequest
    ) -> Order:
        if existing.session_id != ctx.session_id or not same_request(existing.request, request):
            raise AlreadyExists(
                f"client_order_id {request.client_order_id} was used for a different request",
                ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
            )
        key = (ctx.account, request.client_order_id)
        task = self._inflight.get(key)
        if task is not None:
            return await asyncio.shield(task)  # a concurrent duplicate waits for the original
        return self._results.get(key, existing)

    async def _validate_only(
        self,
        ctx: SessionContext,
        request: OrderRequest,
        instrument: Instrument,
        port: OrderEntryPort,
    ) -> Order:
        ack = await port.submit(request, instrument)
        now = self._now()
        probe = new_order(
            account=ctx.account,
            session_id=ctx.session_id,
            request=request,
            instrument=instrument,
            now=now,
        )
        return replace(probe, status=ack.status, venue_order_id=ack.venue_order_id or None)

    async def _send_new(
        self,
        key: OrderKey,
        request: OrderRequest,
        instrument: Instrument,
        port: OrderEntryPort,
        pending: list[Awaitable[None]],
    ) -> Order:
        refusal: ResourceExhausted | None = None
        try:
            ack = await port.submit(request, instrument)
        except DEFINITIVE as exc:
            pending.append(self._reject_new(key, exc))
            if isinstance(exc, ResourceExhausted):
                refusal = exc
        except BaseException as exc:
            # Includes the caller being cancelled mid-send: the venue may have the order.
            self._outcome_unknown(key, "submit", exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            pending.append(self._acked(key, ack))
        await self._settle_ahead(pending, 1)
        result = self._orders[key]
        self._results[key] = result
        if refusal is not None:
            # The stream shows the rejection; the caller also gets RESOURCE_EXHAUSTED with the
            # governor's retry delay, so it can pace itself (retry under a new client order id).
            raise refusal
        return result

    def _start_group(
        self, ctx: SessionContext, requests: list[OrderRequest], instrument: Instrument
    ) -> asyncio.Task[list[Order | GatewayError]]:
        """Create the batch's orders now (no await), then send them in one venue call."""
        port = self._port(ctx.account, instrument.venue)
        now = self._now()
        keys: list[OrderKey] = []
        pending: list[Awaitable[None]] = []
        for request in requests:
            order = new_order(
                account=ctx.account,
                session_id=ctx.session_id,
                request=request,
                instrument=instrument,
                now=now,
            )
            keys.append((ctx.account, request.client_order_id))
            pending.append(self._emit(order, ExecType.PENDING_NEW))
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for key in keys:
            # Duplicates arriving meanwhile wait for this batch like for a single submit.
            self._inflight[key] = self._spawn(self._await_batch(waiter, key))
        return self._spawn(self._submit_group(keys, requests, instrument, port, pending, waiter))

    async def _submit_group(
        self,
        keys: list[OrderKey],
        requests: list[OrderRequest],
        instrument: Instrument,
        port: OrderEntryPort,
        pending: list[Awaitable[None]],
        waiter: asyncio.Future[None],
    ) -> list[Order | GatewayError]:
        ahead = len(pending)
        try:
            try:
                acks: Sequence[SubmitAck | GatewayError] = await port.submit_batch(
                    [(r, instrument) for r in requests]
                )
            except DEFINITIVE as exc:
                acks = [exc] * len(keys)
            except Exception as exc:
                acks = [_unknown(exc)] * len(keys)
            for key, ack in zip(keys, _per_item(acks, len(keys)), strict=True):
                if isinstance(ack, SubmitAck):
                    pending.append(self._acked(key, ack))
                elif isinstance(ack, DEFINITIVE):
                    pending.append(self._reject_new(key, ack))
                else:
                    self._outcome_unknown(key, "submit_batch", ack)
            await self._settle_ahead(pending, ahead)
            results: list[Order | GatewayError] = []
            for key, ack in zip(keys, _per_item(acks, len(keys)), strict=True):
                self._results[key] = self._orders[key]
                # A paced item reports the refusal itself, like a single submit does.
                results.append(ack if isinstance(ack, ResourceExhausted) else self._orders[key])
            waiter.set_result(None)
            return results
        except BaseException as exc:
            waiter.set_exception(exc)
            raise
        finally:
            for key in keys:
                self._inflight.pop(key, None)

    async def _await_batch(self, waiter: asyncio.Future[None], key: OrderKey) -> Order:
        await waiter
        return self._orders[key]

    def _acked(self, key: OrderKey, ack: SubmitAck) -> Awaitable[None]:
        order = self._orders[key]
        venue_id = order.venue_order_id or ack.venue_order_id or None
        if order.status is OrdStatus.PENDING_NEW and ack.status is not OrdStatus.PENDING_NEW:
            moved = transition(order, OrdStatus.NEW, self._now(), venue_order_id=venue_id)
            return self._emit(moved, ExecType.NEW, venue_time=ack.venue_time)
        # Events got there first, or the venue only acknowledged receipt: keep the id only.
        return self._save_quietly(replace(order, venue_order_id=venue_id))

    def _reject_new(self, key: OrderKey, exc: GatewayError) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is not OrdStatus.PENDING_NEW:
            log.warning("venue refused order %s after it progressed; keeping its state", key[1])
            return _done()
        reject = RejectInfo(reason=exc.reason, text=exc.message, venue_text=exc.venue_text or "")
        moved = transition(order, OrdStatus.REJECTED, self._now(), reject=reject)
        return self._emit(moved, ExecType.REJECTED)

    def _outcome_unknown(self, key: OrderKey, what: str, exc: BaseException) -> None:
        kind = exc.reason.name if isinstance(exc, GatewayError) else type(exc).__name__
        log.warning("%s outcome unknown for order %s (%s); resolving by query", what, key[1], kind)
        self._schedule_resolve(key)

    # -- amend / replace / cancel internals ----------------------------------------------
    async def _amend(
        self,
        order: Order,
        request: AmendRequest,
        instrument: Instrument,
        port: OrderEntryPort,
        first: Awaitable[None],
    ) -> Order:
        key = (order.account, order.client_order_id)
        pending = [first]
        try:
            ack = await port.amend(order, request, instrument)
        except DEFINITIVE as exc:
            pending.append(self._restore_after_refusal(key, OrdStatus.PENDING_REPLACE, exc))
            await self._settle_ahead(pending, 1)
            raise
        except Exception as exc:
            self._outcome_unknown(key, "amend", exc)
        else:
            pending.append(self._amended(key, request, ack))
        await self._settle_ahead(pending, 1)
        return self._orders[key]

    def _amended(self, key: OrderKey, request: AmendRequest, ack: AmendAck) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is not OrdStatus.PENDING_REPLACE:
            return self._save_quietly(
                replace(order, venue_order_id=ack.venue_order_id or order.venue_order_id)
            )
        changed = replace(
            order,
            qty=_first(ack.qty, request.qty, order.qty),
            price=_pick(ack.price, request.price, order.price),
            stop_price=_pick(ack.stop_price, request.stop_price, order.stop_price),
            display_qty=_pick(request.display_qty, order.display_qty),
            trailing_offset=_pick(request.trailing_offset, order.trailing_offset),
            limit_offset=_pick(request.limit_offset, order.limit_offset),
            venue_order_id=ack.venue_order_id or order.venue_order_id,
        )
        moved = transition(changed, live_status(changed), self._now())
        return self._emit(moved, ExecType.REPLACED, venue_time=ack.venue_time)

    def _restore_after_refusal(
        self, key: OrderKey, pending_status: OrdStatus, exc: GatewayError
    ) -> Awaitable[None]:
        """The venue refused a cancel/amend: the order works on, unchanged (FIX 35=9)."""
        order = self._orders[key]
        if order.status is not pending_status:
            return _done()
        reject = RejectInfo(reason=exc.reason, text=exc.message, venue_text=exc.venue_text or "")
        moved = transition(order, live_status(order), self._now())
        if exc.reason in (ErrorReason.UNKNOWN_ORDER, ErrorReason.ORDER_NOT_FOUND):
            self._schedule_resolve(key)  # our view may be stale: ask the venue
        return self._emit(moved, ExecType.ORDER_STATUS, reject=reject)

    async def _replace(
        self,
        old: Order,
        new: Order,
        instrument: Instrument,
        port: OrderEntryPort,
        pending: list[Awaitable[None]],
    ) -> Order:
        old_key = (old.account, old.client_order_id)
        new_key = (new.account, new.client_order_id)
        ahead = len(pending)
        try:
            try:
                ack = await port.replace(old, new.request, instrument)
            except DEFINITIVE as exc:
                pending.append(self._restore_after_refusal(old_key, OrdStatus.PENDING_REPLACE, exc))
                pending.append(self._reject_new(new_key, exc))
            except Exception as exc:
                self._outcome_unknown(old_key, "replace", exc)
                self._outcome_unknown(new_key, "replace", exc)
            else:
                current_old = self._orders[old_key]
                if current_old.status is OrdStatus.PENDING_REPLACE:
                    done_old = transition(current_old, OrdStatus.REPLACED, self._now())
                    pending.append(self._emit(done_old, ExecType.REPLACED))
                pending.append(self._acked(new_key, ack))
            await self._settle_ahead(pending, ahead)
            result = self._orders[new_key]
            self._results[new_key] = result
            return result
        finally:
            self._inflight.pop(new_key, None)

    async def _cancel(self, order: Order, port: OrderEntryPort, first: Awaitable[None]) -> Order:
        key = (order.account, order.client_order_id)
        pending = [first]
        try:
            await port.cancel(order)
        except DEFINITIVE as exc:
            pending.append(self._restore_after_refusal(key, OrdStatus.PENDING_CANCEL, exc))
            await self._settle_ahead(pending, 1)
            raise
        except Exception as exc:
            self._outcome_unknown(key, "cancel", exc)
        else:
            pending.append(self._canceled(key, ""))
        await self._settle_ahead(pending, 1)
        return self._orders[key]

    async def _cancel_group(
        self, orders: list[Order], port: OrderEntryPort, pending: list[Awaitable[None]]
    ) -> list[Order | GatewayError]:
        keys = [(o.account, o.client_order_id) for o in orders]
        ahead = len(pending)
        outcomes: Sequence[GatewayError | None]
        try:
            outcomes = _per_item(await port.cancel_batch(orders), len(keys))
        except DEFINITIVE as exc:
            outcomes = [exc] * len(orders)
        except Exception as exc:
            outcomes = [_unknown(exc)] * len(orders)
        for key, outcome in zip(keys, outcomes, strict=True):
            if outcome is None:
                pending.append(self._canceled(key, ""))
            elif isinstance(outcome, DEFINITIVE):
                pending.append(self._restore_after_refusal(key, OrdStatus.PENDING_CANCEL, outcome))
            else:
                self._outcome_unknown(key, "cancel_batch", outcome)
        await self._settle_ahead(pending, ahead)
        # Refusals are the caller's answer; otherwise the order (canceled, or still pending).
        return [
            outcome if isinstance(outcome, DEFINITIVE) else self._orders[key]
            for key, outcome in zip(keys, outcomes, strict=True)
        ]

    def _canceled(self, key: OrderKey, text: str) -> Awaitable[None]:
        order = self._orders[key]
        if order.is_terminal:
            return _done()
        return self._emit(
            transition(order, OrdStatus.CANCELED, self._now()), ExecType.CANCELED, text=text
        )

    async def _kill(
        self, port: OrderEntryPort, keys: list[OrderKey], pending: list[Awaitable[None]]
    ) -> int:
        count = 0
        try:
            await port.cancel_all()
        except Exception as exc:
            for key in keys:
                self._outcome_unknown(key, "cancel_all", exc)
        else:
            for key in keys:
                status = self._orders[key].status
                if status is OrdStatus.PENDING_CANCEL:
                    pending.append(self._canceled(key, "kill switch"))
                count += status in (OrdStatus.PENDING_CANCEL, OrdStatus.CANCELED)
        await self._settle(pending)
        return count

    # -- venue events and resolution ------------------------------------------------------
    async def _on_venue_event(self, account: str, venue: str, event: VenueEvent) -> None:
        key = self._orders.find(account, venue, event.client_order_id, event.venue_order_id)
        if key is None:
            log.info("venue event %s for an order this gateway does not know", type(event).__name__)
            return
        self._detach(self._apply_event(key, event))

    def _apply_event(self, key: OrderKey, event: VenueEvent) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is OrdStatus.REJECTED and not isinstance(event, OrderRejected):
            log.error("venue reports activity on rejected order %s; check it", key[1])
        if isinstance(event, OrderFilled):
            self.risk.update_last_price(order.venue, order.symbol, event.price)
        return self._commit(from_event(order, event, self._now()))

    def _schedule_resolve(self, key: OrderKey) -> None:
        if key in self._resolvers:
            return
        task = asyncio.get_running_loop().create_task(self._resolve(key))
        self._resolvers[key] = task
        task.add_done_callback(lambda _t: self._resolvers.pop(key, None))

    async def _resolve(self, key: OrderKey) -> None:
        """Settle an outcome-unknown order by asking the venue, with backoff; never resend."""
        not_found = 0
        for attempt in itertools.count():
            await asyncio.sleep(self._resolve_delays[min(attempt, len(self._resolve_delays) - 1)])
            order = self._orders.get(key)
            if order is None or order.status not in PENDING_STATUSES:
                return
            port = self._ports.get((order.account, order.venue))
            if port is None:
                continue  # the venue is detached; attach_venue schedules us again
            try:
                state = await port.query_order(
                    order.client_order_id, order.venue_order_id, self._instrument_of(order)
                )
            except Exception as exc:
                log.warning("query of order %s failed (%s); retrying", key[1], type(exc).__name__)
                continue
            try:
                if state is not None:
                    not_found = 0
                    await self._apply_venue_state(key, state, port)
                    continue
                not_found += 1
                if not_found >= self._confirmations:
                    await self._settle(
                        [self._commit(absent_at_venue(self._orders[key], self._now()))]
                    )
            except Exception:
                log.exception("settling order %s failed; retrying", key[1])

    async def _apply_venue_state(
        self, key: OrderKey, state: VenueOrderState, port: OrderEntryPort
    ) -> None:
        """Bring our order in line with the venue's view: fills first, then status."""
        pending: list[Awaitable[None]] = [
            self._apply_event(key, replace(f, client_order_id=key[1])) for f in state.fills
        ]
        if state.cum_qty > self._orders[key].cum_qty:
            since = self._orders[key].created_at
            for fill in await port.recent_fills(since):
                if (
                    self._orders.find(
                        key[0], self._orders[key].venue, fill.client_order_id, fill.venue_order_id
                    )
                    == key
                ):
                    pending.append(self._apply_event(key, fill))
        order = self._orders[key]
        if state.cum_qty > order.cum_qty:
            log.warning("order %s: venue reports more executed qty than known fills", key[1])
        pending.append(self._commit(from_venue_state(order, state, self._now())))
        await self._settle(pending)

    # -- state, journal -------------------------------------------------------------------
    def _emit(self, order: Order, exec_type: ExecType, **report: Any) -> Awaitable[None]:
        """Store the new state and journal it with its report (in call order)."""
        self._orders.put(order)
        saved = self.journal.save_orders([order])
        appended = self.journal.append([make_report(order, exec_type, self._now(), **report)])
        if exec_type in _WRITE_AHEAD:
            self.journal.expedite()  # the caller will wait for it once the venue answers
        return _both(saved, appended)

    def _commit(self, update: Update | None) -> Awaitable[None]:
        if update is None:
            return _done()
        if update.exec_type is None:
            return self._save_quietly(update.order)
        return self._emit(update.order, update.exec_type, **update.report)

    def _save_quietly(self, order: Order) -> Awaitable[None]:
        """A change without a report (e.g. the venue order id learnt late)."""
        self._orders.put(order)
        return self.journal.save_orders([order])

    async def _settle(self, pending: Iterable[Awaitable[Any]]) -> None:
        try:
            for item in pending:
                await item
        except GatewayError:
            raise
        except Exception as exc:
            log.exception("journal write failed")
            raise Internal("journal write failed", ErrorReason.JOURNAL_FAILURE) from exc

    async def _settle_ahead(self, pending: Sequence[Awaitable[Any]], ahead: int) -> None:
        """Wait for the write-ahead records only (the first `ahead`: the PENDING_* states,
        journaled while the venue call ran); the outcome's records commit behind them in call
        order. The caller hears the venue's answer without waiting for a second commit. After a
        crash in between, the journal holds the pending state and restart reconciliation asks
        the venue, so no outcome is lost."""
        await self._settle(pending[:ahead])
        for item in pending[ahead:]:
            self._detach(item)

    def _detach(self, write: Awaitable[Any]) -> None:
        """Let a journal write complete on its own; a failure is logged (the next awaited write
        of the same journal fails too and reaches its caller as JOURNAL_FAILURE)."""
        future = asyncio.ensure_future(write)
        if future.done():
            _log_write_failure(future)
        else:
            future.add_done_callback(_log_write_failure)

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_shielded(self, coro: Coroutine[Any, Any, T]) -> T:
        """Finish venue work even if the caller goes away."""
        return await asyncio.shield(self._spawn(coro))


# Reports journaled before the venue call whose outcome they anticipate (see _settle_ahead).
_WRITE_AHEAD = frozenset({ExecType.PENDING_NEW, ExecType.PENDING_CANCEL, ExecType.PENDING_REPLACE})


def _log_write_failure(future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        log.error("journal write failed", exc_info=exc)


def _unknown(exc: BaseException) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    return OutcomeUnknown(f"venue call failed: {type(exc).__name__}", ErrorReason.VENUE_TIMEOUT)


def _per_item(results: Sequence[T], count: int) -> list[T | GatewayError]:
    """Exactly `count` results: a venue that answered for fewer items left those unknown."""
    padded: list[T | GatewayError] = list(results[:count])
    missing = OutcomeUnknown("the venue gave no result for this item", ErrorReason.VENUE_TIMEOUT)
    padded.extend([missing] * (count - len(padded)))
    return padded


def _pick(*values: T | None) -> T | None:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)


def _first(*values: T | None) -> T:
    value = _pick(*values)
    if value is None:
        raise Internal("no value")
    return value


def _both(first: Awaitable[Any], second: Awaitable[Any]) -> Awaitable[Any]:
    # A future, not a coroutine: dropping it unawaited (after an earlier failure) is harmless.
    return asyncio.gather(first, second)


def _done() -> Awaitable[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done
