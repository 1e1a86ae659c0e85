"""The application service the gRPC servicers call (no grpc here): the order commands.

`TradingService` enforces session ownership and permissions, validates and risk-checks before
any venue call, drives the state machine of orders.py and journals every report through the
`OrderLedger` (the journal publishes it live only after commit). It composes the collaborators
that share the ledger: `OrderResolver` (core/resolution.py: venue events, outcome resolution,
reconciliation) and `OrderQueries` (core/queries.py: order reads; the read methods here delegate
there), over `VenueRoutes` (core/routing.py: one port set per account and venue). Account and
market data reads are `TradingService.data` (core/venue_data.py).

Concurrency: everything runs on one event loop. State changes happen synchronously between
awaits and are journaled in the order they happen. Calls that reach a venue run in their own
task (shielded), so a client that disconnects mid-call cannot leave an order half-processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway.core.crash_points import crash_point
from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    FailedPrecondition,
    GatewayError,
    Internal,
    InvalidArgument,
    OutcomeUnknown,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.core.events import (
    AmendAck,
    SubmitAck,
)
from gateway.core.instruments import InstrumentCatalog
from gateway.core.ledger import OrderLedger, done
from gateway.core.model import (
    PENDING_STATUSES,
    AmendRequest,
    CancelRequest,
    ExecType,
    Fill,
    Instrument,
    KillSwitch,
    Order,
    OrderRequest,
    OrdStatus,
    Permission,
    RateBudget,
    RejectInfo,
    ReplaceRequest,
    SessionContext,
)
from gateway.core.order_index import OrderKey, order_key
from gateway.core.orders import (
    live_status,
    new_order,
    same_request,
    transition,
)
from gateway.core.paging import Page
from gateway.core.permissions import is_risk_desk, require, require_cancel
from gateway.core.ports import (
    JournalPort,
    OrderEntryPort,
    OrderRulesPort,
    ReportSubscription,
    VenuePorts,
)
from gateway.core.queries import OrderQueries
from gateway.core.resolution import OrderResolver
from gateway.core.risk import RiskEngine, RiskLimits
from gateway.core.routing import VenueRoutes
from gateway.core.telemetry import Telemetry
from gateway.core.tracing import span
from gateway.core.validation import (
    check_id,
    validate_amend,
    validate_order,
)
from gateway.core.venue_data import VenueData
from gateway.core.venue_ids import venue_amend, venue_order, venue_request

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


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        self.catalog = InstrumentCatalog()
        self._now = clock or _utcnow
        self._ledger = OrderLedger(journal, self._now)
        self._orders = self._ledger.orders
        self._routes = VenueRoutes()
        self._resolver = OrderResolver(
            self._ledger,
            self._routes,
            self.catalog,
            resolve_delays=resolve_delays,
            not_found_confirmations=not_found_confirmations,
        )
        self.queries = OrderQueries(self._ledger)
        self.data = VenueData(self._routes, self.catalog, journal)
        self._inflight: dict[OrderKey, asyncio.Future[Order]] = {}
        self._results: dict[OrderKey, Order] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Accounts whose orders are not yet reconciled with their venues: new orders and amends
        # wait (refused UNAVAILABLE/RECONCILING) until the journal agrees with the venue.
        self._reconciling: set[str] = set()
        # Bench only (bench/order_entry.py measures what the wait costs): True sends a new order
        # while its PENDING_NEW commits, as the gateway did before, which can leave an order
        # live at the venue that the journal never saw. Nothing in the gateway sets it.
        self.bench_send_before_write_ahead = False

    async def start(self) -> None:
        """Load orders and engaged kill switches from the journal. Call once before serving."""
        await self._ledger.load()
        for account, text in (await self.journal.load_records(KILL_SWITCH_RECORD)).items():
            self.risk.set_kill_switch(account, _kill_switch_from_json(text))
            log.warning("kill switch still engaged for account %s (journaled)", account)

    async def load_account(self, account: str) -> None:
        """Load `account`'s orders from the journal again: another gateway sharing the journal
        served it until now (a fleet takeover). Call before attach_venue and reconcile."""
        for order in await self.journal.load_orders(account):
            self._orders.put(order)

    @property
    def telemetry(self) -> Telemetry:
        """Where unknown outcomes and their resolution are reported (no-op by default)."""
        return self._resolver.telemetry

    @telemetry.setter
    def telemetry(self, telemetry: Telemetry) -> None:
        self._resolver.telemetry = telemetry

    async def close(self) -> None:
        """Stop background venue calls and resolution tasks."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._resolver.close()
        await self.risk.close()

    # -- wiring ---------------------------------------------------------------------------
    def add_instruments(self, instruments: Iterable[Instrument]) -> None:
        self.catalog.add(instruments)

    def instruments(self, venue: str | None = None) -> list[Instrument]:
        return self.catalog.list(venue)

    def instrument(self, symbol: str, venue: str = "") -> Instrument:
        """Raises InvalidArgument(UNKNOWN_SYMBOL), or INVALID_FIELD if the symbol is listed on
        several venues and none was named."""
        return self.catalog.get(symbol, venue)

    def attach(self, account: str, ports: VenuePorts) -> None:
        """Route `account`'s requests on `ports.venue` to `ports`; gives the order entry port
        its event sink and resumes settling the account's pending orders there."""
        self._routes.attach(account, ports)
        ports.order_entry.set_event_sink(self._resolver.sink(account, ports.venue))
        self._resolver.resume(account, ports.venue)

    def attach_venue(self, account: str, port: OrderEntryPort) -> None:
        """`attach` a venue that has only an order entry port (and its rate budgets)."""
        self.attach(account, VenuePorts(order_entry=port))

    def venue_ports(self, account: str, venue: str) -> VenuePorts:
        """The port set `account` has on `venue` (Unavailable if none is attached)."""
        return self._routes.ports(account, venue)

    def attached_venues(self, account: str) -> list[VenuePorts]:
        """The port sets attached for `account` now, one per venue (for observers)."""
        return [ports for _, ports in self._routes.venues_of(account)]

    def detach_venue(self, account: str, venue: str) -> None:
        self._routes.detach(account, venue)

    async def reconcile(self, account: str, venue: str | None = None) -> None:
        """Merge the venue's recent fills and settle every non-terminal order of the account
        from the venue's own view (restart, reconnect). Once it succeeds for the whole
        account, a `hold_new_orders` on it is lifted; a failure (raised) leaves it held."""
        await self._resolver.reconcile(account, venue)
        if venue is None:
            self._reconciling.discard(account)

    def hold_new_orders(self, account: str) -> None:
        """Refuse `account`'s new orders and amends (UNAVAILABLE, RECONCILING) until a full
        `reconcile(account)` succeeds: at start-up the gateway serves before it has settled
        what happened at the venue while it was down. Cancels and reads still go through."""
        self._reconciling.add(account)

    def reconciling(self, account: str) -> bool:
        return account in self._reconciling

    def _require_reconciled(self, account: str) -> None:
        if account in self._reconciling:
            raise Unavailable(
                "the gateway is reconciling this account's orders with the venue after a "
                "restart; new orders and amends are accepted once it is done (retry shortly)",
                ErrorReason.RECONCILING,
            )

    async def _require_journal(self, account: str) -> None:
        """Refuse to send anything new for `account` while its journal writes fail: a probe
        write (at most one at a time) is tried first, so the first order after the journal
        works again goes through."""
        why = self._ledger.journal_failure(account)
        if why is None or await self._ledger.probe(account):
            return
        raise Unavailable(
            f"the journal cannot record this account's orders ({why}); nothing new is sent "
            "for it until a journal write succeeds (cancels still go through)",
            ErrorReason.JOURNAL_FAILURE,
        )

    def journal_failure(self, account: str) -> str | None:
        """Why new orders of `account` are refused for a failing journal; None if they are not."""
        return self._ledger.journal_failure(account)

    def set_risk_limits(self, account: str, limits: RiskLimits) -> None:
        self.risk.set_limits(account, limits)

    def rate_budgets(self, ctx: SessionContext) -> list[RateBudget]:
        """The venue rate budgets of the session's account: from each of its venue ports that
        models them (`RateBudgetPort`), in attach order. Readable by any session."""
        budgets: list[RateBudget] = []
        for _venue, ports in self._routes.venues_of(ctx.account):
            source = ports.budget_source()
            if source is not None:
                budgets.extend(source.rate_budgets())
        return budgets

    # -- order entry ----------------------------------------------------------------------
    async def submit(self, ctx: SessionContext, request: OrderRequest) -> Order:
        """Idempotent on the session's client_order_id (each session has its own ids).
        Returns the order after the venue's answer: NEW (or later), REJECTED (venue refused;
        see order.reject), or PENDING_NEW (outcome unknown, being resolved). Raises
        InvalidArgument, PermissionDenied, RiskRejected, FailedPrecondition(KILL_SWITCH_ACTIVE),
        AlreadyExists (same id, different request), ResourceExhausted (the venue's rate
        governor refused to send; the order is REJECTED)."""
        require(ctx, Permission.TRADE)
        with span("core.submit", request.client_order_id):
            await self._reference_ready(ctx, request)
            return await self._submit(ctx, request)

    async def submit_batch(
        self, ctx: SessionContext, requests: Sequence[OrderRequest]
    ) -> list[Order | GatewayError]:
        """Each order independently (idempotency, validation, risk per item). Orders that pass
        and share a venue and symbol go to the venue as one batch."""
        require(ctx, Permission.TRADE)
        await self._require_journal(ctx.account)
        await asyncio.gather(*(self._reference_ready(ctx, r) for r in requests))
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
                key = (ctx.account, ctx.session_id, request.client_order_id)
                if key in self._orders or request.validate_only:
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
        require(ctx, Permission.TRADE)
        await self._require_journal(ctx.account)
        owner = request.session_id or ctx.session_id
        known = self._orders.get((ctx.account, owner, request.client_order_id))
        if known is not None:  # an amend keeps the order's kind: its own request tells the need
            await self._reference_ready(ctx, known.request)
        self._require_reconciled(ctx.account)
        order = self.queries.own(
            ctx, request.client_order_id, write=True, session_id=request.session_id
        )
        self._require_working(order, ErrorReason.ORDER_NOT_AMENDABLE)
        instrument = self._instrument_of(order)
        validate_amend(request, order, instrument)
        changed = replace(
            order.request,
            qty=request.qty if request.qty is not None else order.qty,
            price=request.price if request.price is not None else order.price,
        )
        self.risk.check(ctx.account, changed, instrument, open_orders=0)
        port = self._routes.order_entry(ctx.account, order.venue)
        moved = transition(order, OrdStatus.PENDING_REPLACE, self._now())
        first = self._ledger.emit(moved, ExecType.PENDING_REPLACE)
        with span("core.amend", request.client_order_id):
            return await self._run_shielded(self._amend(moved, request, instrument, port, first))

    async def replace(self, ctx: SessionContext, request: ReplaceRequest) -> Order:
        """Cancel/replace; returns the new order (its orig_client_order_id names the old)."""
        require(ctx, Permission.TRADE)
        await self._require_journal(ctx.account)
        new_request = request.new_order
        await self._reference_ready(ctx, new_request)
        check_id(request.orig_client_order_id, "orig_client_order_id")
        key = (ctx.account, ctx.session_id, new_request.client_order_id)
        existing = self._orders.get(key)
        if existing is not None:
            if existing.orig_client_order_id != request.orig_client_order_id:
                raise AlreadyExists(
                    "client_order_id already used for another order",
                    ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
                )
            return await self._duplicate(ctx, existing, new_request)
        old = self.queries.own(ctx, request.orig_client_order_id, write=True)
        self._require_working(old, ErrorReason.ORDER_NOT_AMENDABLE)
        instrument = self._prepare(ctx, new_request, open_orders_delta=-1)
        if instrument.venue != old.venue or instrument.symbol != old.symbol:
            raise InvalidArgument(
                "a replacement must keep the symbol",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "symbol"},
            )
        port = self._routes.order_entry(ctx.account, old.venue)
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
            self._ledger.emit(
                transition(old, OrdStatus.PENDING_REPLACE, now), ExecType.PENDING_REPLACE
            ),
            self._ledger.emit(new, ExecType.PENDING_NEW),
        ]
        task = self._spawn(self._replace(old, new, instrument, port, pending))
        self._inflight[key] = task
        return await asyncio.shield(task)

    async def cancel(self, ctx: SessionContext, request: CancelRequest) -> Order:
        require_cancel(ctx)
        order = self.queries.own(
            ctx, request.client_order_id, write=True, cancel=True, session_id=request.session_id
        )
        if order.status is OrdStatus.PENDING_CANCEL:
            return order  # already being canceled: idempotent
        self._require_working(order, ErrorReason.ORDER_NOT_CANCELABLE)
        port = self._routes.order_entry(ctx.account, order.venue)
        moved = transition(order, OrdStatus.PENDING_CANCEL, self._now())
        first = self._ledger.emit(moved, ExecType.PENDING_CANCEL)
        with span("core.cancel", request.client_order_id):
            return await self._run_shielded(self._cancel(moved, port, first))

    async def cancel_batch(
        self, ctx: SessionContext, requests: Sequence[CancelRequest]
    ) -> list[Order | GatewayError]:
        require_cancel(ctx)
        results: list[Order | GatewayError | None] = [None] * len(requests)
        groups: defaultdict[str, list[tuple[int, Order]]] = defaultdict(list)
        for i, request in enumerate(requests):
            try:
                order = self.queries.own(
                    ctx,
                    request.client_order_id,
                    write=True,
                    cancel=True,
                    session_id=request.session_id,
                )
                if order.status is OrdStatus.PENDING_CANCEL:
                    results[i] = order
                    continue
                self._require_working(order, ErrorReason.ORDER_NOT_CANCELABLE)
                self._routes.order_entry(ctx.account, order.venue)
                groups[order.venue].append((i, order))
            except GatewayError as exc:
                results[i] = exc
        now = self._now()
        started = []
        for venue, items in groups.items():
            port = self._routes.order_entry(ctx.account, venue)
            moved = [transition(o, OrdStatus.PENDING_CANCEL, now) for _, o in items]
            first = [self._ledger.emit(o, ExecType.PENDING_CANCEL) for o in moved]
            started.append((items, self._spawn(self._cancel_group(moved, port, first))))
        for items, task in started:
            outcome = await asyncio.shield(task)
            for (i, _), result in zip(items, outcome, strict=True):
                results[i] = result
        return [r if r is not None else Internal("batch item lost") for r in results]

    async def cancel_all(
        self, ctx: SessionContext, symbol: str | None = None, *, own_only: bool = False
    ) -> int:
        """`cancel_all_orders`, counted."""
        return len(await self.cancel_all_orders(ctx, symbol, own_only=own_only))

    async def cancel_all_orders(
        self,
        ctx: SessionContext,
        symbol: str | None = None,
        *,
        venue: str | None = None,
        own_only: bool = False,
    ) -> list[Order]:
        """Cancel the session's open orders (a risk desk: the account's, unless `own_only`, as
        for cancel-on-disconnect), of one symbol and one venue if given; returns those the
        cancel applied to."""
        require_cancel(ctx)
        desk = is_risk_desk(ctx) and not own_only
        scope = self.queries.visible_orders if desk else self.queries.session_orders
        requests = [
            CancelRequest(client_order_id=o.client_order_id, session_id=o.session_id)
            for o in scope(ctx)
            if o.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
            and (symbol is None or o.symbol == symbol)
            and (venue is None or o.venue == venue)
        ]
        results = await self.cancel_batch(ctx, requests)
        return [r for r in results if isinstance(r, Order)]

    async def set_kill_switch(self, ctx: SessionContext, active: bool, reason: str = "") -> int:
        """On: refuse new orders of the account and cancel all its open orders at every venue
        (returns how many orders were canceled). TRADE or CANCEL_ONLY may switch it on; only
        TRADE may switch it off. The state (reason, who, when) is journaled before it takes
        effect, so an engaged switch stays engaged across restarts."""
        if active:
            require_cancel(ctx)
        else:
            require(ctx, Permission.TRADE)
        engaged = (
            KillSwitch(reason=reason, engaged_by=ctx.session_id, engaged_at=self._now())
            if active
            else None
        )
        text = None if engaged is None else _kill_switch_to_json(engaged)
        await self.journal.save_record(KILL_SWITCH_RECORD, ctx.account, text)
        self.risk.set_kill_switch(ctx.account, engaged)
        if not active:
            return 0
        now = self._now()
        work = []
        for venue, port in self._routes.of_account(ctx.account):
            keys = [
                order_key(o)
                for o in self._orders.account_orders(ctx.account)
                if o.venue == venue and o.is_open and o.status is not OrdStatus.PENDING_CANCEL
            ]
            first = [
                self._ledger.emit(
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

    def kill_switch(self, account: str) -> KillSwitch | None:
        """The account's engaged kill switch (reason, who, when), None while released."""
        return self.risk.kill_switch(account)

    # -- queries (core/queries.py) --------------------------------------------------------
    async def get_order(
        self, ctx: SessionContext, client_order_id: str, session_id: str | None = None
    ) -> Order:
        """NotFound for unknown ids and other sessions' orders (drop copy sees the account).
        `session_id` names the owner of `client_order_id` (see OrderQueries.own)."""
        return await self.queries.get_order(ctx, client_order_id, session_id)

    def find_by_venue_order_id(self, ctx: SessionContext, venue_order_id: str) -> Order:
        """The visible order the venue knows as `venue_order_id`; NotFound otherwise."""
        return self.queries.find_by_venue_order_id(ctx, venue_order_id)

    async def list_open_orders(self, ctx: SessionContext, symbol: str | None = None) -> list[Order]:
        return await self.queries.list_open_orders(ctx, symbol)

    async def list_orders(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Order]:
        """All orders (open and closed), newest first."""
        return await self.queries.list_orders(
            ctx, symbol=symbol, page_size=page_size, page_token=page_token
        )

    async def list_fills(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Fill]:
        """Fills, newest first (by venue time, else order time)."""
        return await self.queries.list_fills(
            ctx, symbol=symbol, page_size=page_size, page_token=page_token
        )

    def stream_executions(self, ctx: SessionContext, from_sequence: int) -> ReportSubscription:
        """The session's reports after `from_sequence` (replay, then live); for a drop-copy
        session every report of its account, resumed on `account_sequence`."""
        return self.queries.stream_executions(ctx, from_sequence)

    async def last_sequence(self, ctx: SessionContext) -> int:
        return await self.queries.last_sequence(ctx)

    # -- guards ---------------------------------------------------------------------------
    @staticmethod
    def _require_working(order: Order, reason: ErrorReason) -> None:
        if order.is_terminal:
            raise FailedPrecondition(f"order is {order.status.value}", reason)
        if order.status in PENDING_STATUSES:
            raise FailedPrecondition(
                f"order is {order.status.value}; wait for the venue", ErrorReason.ORDER_PENDING
            )

    def _instrument_of(self, order: Order) -> Instrument:
        return self._resolver.instrument_of(order)

    async def _reference_ready(self, ctx: SessionContext, request: OrderRequest) -> None:
        """Before any check (an await here cannot split check from create): let risk find the
        market reference the order needs. A failing lookup fails again in `_prepare`."""
        with contextlib.suppress(GatewayError):
            instrument = self.instrument(request.symbol, request.venue)
            source = self._routes.ports(ctx.account, instrument.venue).market_data
            await self.risk.reference_ready(ctx.account, request, instrument, source)

    def _prepare(
        self, ctx: SessionContext, request: OrderRequest, open_orders_delta: int = 0
    ) -> Instrument:
        """Every check before a venue call: symbol, validation, connection, kill switch, risk,
        reconciliation done."""
        check_id(request.client_order_id, "client_order_id")
        self._require_reconciled(ctx.account)
        instrument = self.instrument(request.symbol, request.venue)
        validate_order(request, instrument, self._now())
        port = self._routes.order_entry(ctx.account, instrument.venue)
        if isinstance(port, OrderRulesPort):
            port.check_order(request, instrument, self._now())
        open_orders = self._orders.open_count(ctx.account) + open_orders_delta
        self.risk.check(ctx.account, request, instrument, open_orders)
        return instrument

    # -- submit internals -----------------------------------------------------------------
    async def _submit(self, ctx: SessionContext, request: OrderRequest) -> Order:
        await self._require_journal(ctx.account)  # awaits only while the journal fails
        key = (ctx.account, ctx.session_id, request.client_order_id)
        existing = self._orders.get(key)
        if existing is not None:
            return await self._duplicate(ctx, existing, request)
        instrument = self._prepare(ctx, request)
        port = self._routes.order_entry(ctx.account, instrument.venue)
        if request.validate_only:
            return await self._validate_only(ctx, request, instrument, port)
        order = new_order(
            account=ctx.account,
            session_id=ctx.session_id,
            request=request,
            instrument=instrument,
            now=self._now(),
        )
        first = self._ledger.emit(order, ExecType.PENDING_NEW)
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
        if not same_request(existing.request, request):
            raise AlreadyExists(
                f"client_order_id {request.client_order_id} was used for a different request",
                ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
            )
        key = (ctx.account, ctx.session_id, request.client_order_id)
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
        probe = new_order(
            account=ctx.account,
            session_id=ctx.session_id,
            request=request,
            instrument=instrument,
            now=self._now(),
        )
        await port.submit(venue_request(probe), instrument)  # the venue's refusal raises
        # Distinct from NEW: nothing was placed, journaled or streamed.
        return replace(probe, status=OrdStatus.VALIDATED, venue_order_id=None)

    async def _send_new(
        self,
        key: OrderKey,
        request: OrderRequest,
        instrument: Instrument,
        port: OrderEntryPort,
        pending: list[Awaitable[None]],
    ) -> Order:
        refusal: ResourceExhausted | None = None
        await self._write_ahead(key[0], [key], pending)
        try:
            ack = await port.submit(venue_request(self._orders[key]), instrument)
        except DEFINITIVE as exc:
            pending.append(self._reject_new(key, exc))
            if isinstance(exc, ResourceExhausted):
                refusal = exc
        except BaseException as exc:
            # Includes the caller being cancelled mid-send: the venue may have the order.
            self._resolver.outcome_unknown(key, "submit", exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            crash_point("after-venue-accept")  # tests only: kill -9 before the outcome's commit
            pending.append(self._acked(key, ack))
        await self._ledger.settle_ahead(pending, 1)
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
        port = self._routes.order_entry(ctx.account, instrument.venue)
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
            keys.append(order_key(order))
            pending.append(self._ledger.emit(order, ExecType.PENDING_NEW))
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
                await self._write_ahead(keys[0][0], keys, pending)
            except GatewayError as exc:  # nothing sent; the orders are REJECTED
                waiter.set_result(None)
                return [exc] * len(keys)
            try:
                acks: Sequence[SubmitAck | GatewayError] = await port.submit_batch(
                    [(venue_request(self._orders[k]), instrument) for k in keys]
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
                    self._resolver.outcome_unknown(key, "submit_batch", ack)
            await self._ledger.settle_ahead(pending, ahead)
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

    async def _write_ahead(
        self, account: str, keys: Sequence[OrderKey], pending: Sequence[Awaitable[None]]
    ) -> None:
        """Wait until the new orders' PENDING_NEW records are durable (one group commit,
        expedited), so nothing reaches the venue that a restart could not find and give back
        to its session. If the write fails, or the caller goes away meanwhile, nothing is sent
        and the orders are REJECTED (Unavailable(JOURNAL_FAILURE) is raised for a failure)."""
        if self.bench_send_before_write_ahead:
            return
        try:
            await self._ledger.write_ahead(account, pending)
        except BaseException as exc:
            reason = exc.reason if isinstance(exc, GatewayError) else ErrorReason.UNSPECIFIED
            text = exc.message if isinstance(exc, GatewayError) else "abandoned before it was sent"
            for key in keys:
                order = self._orders[key]
                if order.status is OrdStatus.PENDING_NEW:
                    reject = RejectInfo(reason=reason, text=text)
                    moved = transition(order, OrdStatus.REJECTED, self._now(), reject=reject)
                    self._ledger.detach(self._ledger.emit(moved, ExecType.REJECTED))
                self._results[key] = self._orders[key]
            raise

    def _acked(self, key: OrderKey, ack: SubmitAck) -> Awaitable[None]:
        order = self._orders[key]
        venue_id = order.venue_order_id or ack.venue_order_id or None
        if order.status is OrdStatus.PENDING_NEW and ack.status is not OrdStatus.PENDING_NEW:
            moved = transition(order, OrdStatus.NEW, self._now(), venue_order_id=venue_id)
            return self._ledger.emit(moved, ExecType.NEW, venue_time=ack.venue_time)
        # Events got there first, or the venue only acknowledged receipt: keep the id only.
        return self._ledger.save_quietly(replace(order, venue_order_id=venue_id))

    def _reject_new(self, key: OrderKey, exc: GatewayError) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is not OrdStatus.PENDING_NEW:
            log.warning("venue refused order %s after it progressed; keeping its state", key[2])
            return done()
        reject = RejectInfo(reason=exc.reason, text=exc.message, venue_text=exc.venue_text or "")
        moved = transition(order, OrdStatus.REJECTED, self._now(), reject=reject)
        return self._ledger.emit(moved, ExecType.REJECTED)

    # -- amend / replace / cancel internals ----------------------------------------------
    async def _amend(
        self,
        order: Order,
        request: AmendRequest,
        instrument: Instrument,
        port: OrderEntryPort,
        first: Awaitable[None],
    ) -> Order:
        key = order_key(order)
        pending = [first]
        try:
            ack = await port.amend(venue_order(order), venue_amend(order, request), instrument)
        except DEFINITIVE as exc:
            pending.append(self._restore_after_refusal(key, OrdStatus.PENDING_REPLACE, exc))
            await self._ledger.settle_ahead(pending, 1)
            raise
        except Exception as exc:
            self._resolver.outcome_unknown(key, "amend", exc)
        else:
            pending.append(self._amended(key, request, ack))
        await self._ledger.settle_ahead(pending, 1)
        return self._orders[key]

    def _amended(self, key: OrderKey, request: AmendRequest, ack: AmendAck) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is not OrdStatus.PENDING_REPLACE:
            return self._ledger.save_quietly(
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
        return self._ledger.emit(moved, ExecType.REPLACED, venue_time=ack.venue_time)

    def _restore_after_refusal(
        self, key: OrderKey, pending_status: OrdStatus, exc: GatewayError
    ) -> Awaitable[None]:
        """The venue refused a cancel/amend: the order works on, unchanged (FIX 35=9)."""
        order = self._orders[key]
        if order.status is not pending_status:
            return done()
        reject = RejectInfo(reason=exc.reason, text=exc.message, venue_text=exc.venue_text or "")
        moved = transition(order, live_status(order), self._now())
        if exc.reason in (ErrorReason.UNKNOWN_ORDER, ErrorReason.ORDER_NOT_FOUND):
            self._resolver.schedule(key)  # our view may be stale: ask the venue
        return self._ledger.emit(moved, ExecType.ORDER_STATUS, reject=reject)

    async def _replace(
        self,
        old: Order,
        new: Order,
        instrument: Instrument,
        port: OrderEntryPort,
        pending: list[Awaitable[None]],
    ) -> Order:
        old_key = order_key(old)
        new_key = order_key(new)
        ahead = len(pending)
        try:
            try:
                await self._write_ahead(new.account, [new_key], pending)
            except BaseException as exc:
                # Not sent: the old order works on, unchanged.
                why = exc if isinstance(exc, GatewayError) else Internal("abandoned before sent")
                self._ledger.detach(
                    self._restore_after_refusal(old_key, OrdStatus.PENDING_REPLACE, why)
                )
                raise
            try:
                ack = await port.replace(venue_order(old), venue_request(new), instrument)
            except DEFINITIVE as exc:
                pending.append(self._restore_after_refusal(old_key, OrdStatus.PENDING_REPLACE, exc))
                pending.append(self._reject_new(new_key, exc))
            except Exception as exc:
                self._resolver.outcome_unknown(old_key, "replace", exc)
                self._resolver.outcome_unknown(new_key, "replace", exc)
            else:
                current_old = self._orders[old_key]
                if current_old.status is OrdStatus.PENDING_REPLACE:
                    done_old = transition(current_old, OrdStatus.REPLACED, self._now())
                    pending.append(self._ledger.emit(done_old, ExecType.REPLACED))
                pending.append(self._acked(new_key, ack))
            await self._ledger.settle_ahead(pending, ahead)
            result = self._orders[new_key]
            self._results[new_key] = result
            return result
        finally:
            self._inflight.pop(new_key, None)

    async def _cancel(self, order: Order, port: OrderEntryPort, first: Awaitable[None]) -> Order:
        key = order_key(order)
        pending = [first]
        try:
            await port.cancel(venue_order(order))
        except DEFINITIVE as exc:
            pending.append(self._restore_after_refusal(key, OrdStatus.PENDING_CANCEL, exc))
            await self._ledger.settle_ahead(pending, 1)
            raise
        except Exception as exc:
            self._resolver.outcome_unknown(key, "cancel", exc)
        else:
            pending.append(self._canceled(key, ""))
        await self._ledger.settle_ahead(pending, 1)
        return self._orders[key]

    async def _cancel_group(
        self, orders: list[Order], port: OrderEntryPort, pending: list[Awaitable[None]]
    ) -> list[Order | GatewayError]:
        keys = [order_key(o) for o in orders]
        ahead = len(pending)
        outcomes: Sequence[GatewayError | None]
        try:
            sent = [venue_order(o) for o in orders]
            outcomes = _per_item(await port.cancel_batch(sent), len(keys))
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
                self._resolver.outcome_unknown(key, "cancel_batch", outcome)
        await self._ledger.settle_ahead(pending, ahead)
        # Refusals are the caller's answer; otherwise the order (canceled, or still pending).
        return [
            outcome if isinstance(outcome, DEFINITIVE) else self._orders[key]
            for key, outcome in zip(keys, outcomes, strict=True)
        ]

    def _canceled(self, key: OrderKey, text: str) -> Awaitable[None]:
        order = self._orders[key]
        if order.is_terminal:
            return done()
        return self._ledger.emit(
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
                self._resolver.outcome_unknown(key, "cancel_all", exc)
        else:
            for key in keys:
                status = self._orders[key].status
                if status is OrdStatus.PENDING_CANCEL:
                    pending.append(self._canceled(key, "kill switch"))
                count += status in (OrdStatus.PENDING_CANCEL, OrdStatus.CANCELED)
        await self._ledger.settle(pending)
        return count

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_shielded(self, coro: Coroutine[Any, Any, T]) -> T:
        """Finish venue work even if the caller goes away."""
        return await asyncio.shield(self._spawn(coro))


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


KILL_SWITCH_RECORD = "kill_switch"


def _kill_switch_to_json(k: KillSwitch) -> str:
    return json.dumps(
        {"reason": k.reason, "engaged_by": k.engaged_by, "engaged_at": k.engaged_at.isoformat()}
    )


def _kill_switch_from_json(text: str) -> KillSwitch:
    data = json.loads(text)
    return KillSwitch(
        reason=str(data["reason"]),
        engaged_by=str(data["engaged_by"]),
        engaged_at=datetime.fromisoformat(data["engaged_at"]),
    )
