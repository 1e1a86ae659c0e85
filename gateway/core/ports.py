"""Protocols between the core and the outside: venues implement the order entry, account,
instrument, rate budget and market data ports, optionally a ticker feed and order rules
(bundled per account as `AccountVenues`, with the account's `SessionGuard`s), the journal
implements `JournalPort`. The core imports no adapter and no SQLite; it only sees these.

Error contract for every venue port method:
- `VenueRejected` / `InvalidArgument` / `PermissionDenied`: definitive refusal, nothing happened.
- `Unavailable`, `ResourceExhausted`: the request was provably NOT executed (not sent, or the
  venue said so); safe to report as a rejection or retry later.
- `OutcomeUnknown`: the request may or may not have been executed (timeout, 5xx, dropped socket,
  unparseable reply after sending). The core keeps the order pending and resolves it with
  `query_order`; it never resends.
Anything else raised is treated like `OutcomeUnknown` for sends and like `Unavailable` for reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from gateway.core.errors import GatewayError, Internal
from gateway.core.events import AmendAck, OrderFilled, SubmitAck, VenueEvent, VenueOrderState
from gateway.core.model import (
    AmendRequest,
    Balance,
    BookSnapshot,
    BookUpdate,
    ExecutionReport,
    Instrument,
    Order,
    OrderRequest,
    Position,
    PublicTrade,
    RateBudget,
    Subaccount,
    Ticker,
    Transfer,
    TransferRequest,
)


@runtime_checkable
class VenueEventSink(Protocol):
    """Provided by the core; the adapter awaits it for each event, in venue order."""

    async def on_venue_event(self, event: VenueEvent) -> None: ...


@runtime_checkable
class OrderEntryPort(Protocol):
    """Order entry for one venue and one API key (hence one account).

    Requests and orders handed to the port carry, as `client_order_id`, the id the venue is to
    know the order by (`Order.id_at_venue`: scoped to the order's session, core/venue_ids.py);
    events and states the port reports name orders by that same id."""

    @property
    def venue(self) -> str:
        """CCXT-style venue id, e.g. `kraken` or `krakenfutures`."""
        ...

    def set_event_sink(self, sink: VenueEventSink) -> None:
        """Called once by the core before any other call; push every order event here."""
        ...

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        """Place one order (already validated against `instrument`). If `request.validate_only`,
        ask the venue to validate only and return an ack with an empty venue_order_id."""
        ...

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        """Place several orders (same instrument); one result per item, in order. Raise only
        when the whole batch failed (then with the error contract above)."""
        ...

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        """Change a live order in place (keeps its client order id)."""
        ...

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        """Cancel/replace `order` by `new_request` (new client order id), atomically if the venue
        can (Kraken EditOrder); else cancel then submit. The ack is for the new order."""
        ...

    async def cancel(self, order: Order) -> None:
        """Cancel one order. Returning means the venue confirmed the cancel; an already
        closed order raises VenueRejected(UNKNOWN_ORDER)."""
        ...

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        """Cancel several orders; one result per order (None = canceled)."""
        ...

    async def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order of this key (of one symbol if given); returns the count.
        Each canceled order must also be pushed as an OrderCanceled event."""
        ...

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        """Look one order up (open or closed). None means the venue definitively does not know
        it. Used to settle an outcome-unknown submit/cancel/amend."""
        ...

    async def open_orders(self) -> Sequence[VenueOrderState]:
        """Every open order of this key (restart reconciliation)."""
        ...

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        """Fills since `since` (or the venue's recent window), oldest first."""
        ...


@runtime_checkable
class AccountPort(Protocol):
    async def balances(self) -> Sequence[Balance]: ...

    async def positions(self) -> Sequence[Position]: ...

    async def subaccounts(self) -> Sequence[Subaccount]: ...

    async def transfer(self, request: TransferRequest) -> Transfer: ...

    def stream_balances(self) -> AsyncIterator[Sequence[Balance]]:
        """A full snapshot first, then every change (each item is the changed balances)."""
        ...

    def stream_positions(self) -> AsyncIterator[Sequence[Position]]: ...


@runtime_checkable
class InstrumentPort(Protocol):
    @property
    def venue(self) -> str: ...

    async def instruments(self) -> Sequence[Instrument]: ...


@runtime_checkable
class OrderHistoryPort(Protocol):
    """Optional for order entry ports: the venue's closed orders in few calls, so restart
    reconciliation costs a bounded number of calls (open orders, fills since, closed orders
    since; the last only when some order is neither open nor filled) instead of one query per
    order. Without it, each order is queried on its own."""

    async def closed_orders(self, since: datetime) -> Sequence[VenueOrderState]:
        """Orders closed (filled, canceled, expired, rejected) since `since`, any order."""
        ...


@runtime_checkable
class RateBudgetPort(Protocol):
    """Optional for venue ports: the venue rate budgets the adapter models for its key (for
    GetLimits). A port without it simply shows no budgets."""

    def rate_budgets(self) -> Sequence[RateBudget]: ...


@runtime_checkable
class MarketDataPort(Protocol):
    async def ticker(self, symbol: str) -> Ticker: ...

    def stream_book(self, symbol: str, depth: int) -> AsyncIterator[BookSnapshot | BookUpdate]:
        """A snapshot, then checksum-verified updates; after a resync another snapshot."""
        ...

    def stream_trades(self, symbol: str) -> AsyncIterator[PublicTrade]: ...


@runtime_checkable
class TickerFeedPort(Protocol):
    """Optional for market data ports: a live ticker, the market reference price of pre-trade
    risk (core/reference_prices.py). Without it an account's band and notional checks find no
    reference on that venue."""

    def stream_ticker(self, symbol: str) -> AsyncIterator[Ticker]:
        """The current ticker, then each change, and the latest again (unchanged) whenever the
        venue confirms the feed is alive (its heartbeat), so a consumer can tell a quiet market
        from a dead feed. Reconnects by itself; ends or raises only on a lasting failure."""
        ...


@runtime_checkable
class OrderRulesPort(Protocol):
    """Optional for order entry ports: the venue's own order rules, checked before the order
    exists (a breach answers INVALID_ARGUMENT; nothing is journaled or sent)."""

    def check_order(self, request: OrderRequest, instrument: Instrument, now: datetime) -> None:
        """Raise InvalidArgument if the venue would refuse `request` as sent."""
        ...


class SessionGuard(Protocol):
    """Venue safety tied to the life of the trading session that leases an account's key."""

    def session_started(self) -> None:
        """A trading session logged on (e.g. arm and keep refreshing a dead man's switch)."""

    async def session_ended(self, clean: bool) -> None:
        """It ended: `clean` for Logout and gateway shutdown, not for a lost session
        (heartbeat timeout), where the venue's own safety should be left to act."""

    def restarted(self) -> None:
        """The gateway restarted after dying while a trading session was live: keep the venue's
        safety from acting on the gateway's own downtime, for as long as a lost session would
        have been given, so a session that logs on again in time finds its orders."""


@dataclass
class VenuePorts:
    """What one account has on one venue; the core routes every request about an instrument of
    that venue (orders, balances and positions, market data, rate budgets) to these ports.
    `rate_budgets` defaults to the order entry port when that implements `RateBudgetPort`."""

    order_entry: OrderEntryPort
    account: AccountPort | None = None
    instruments: InstrumentPort | None = None
    market_data: MarketDataPort | None = None
    rate_budgets: RateBudgetPort | None = None
    session_guards: Sequence[SessionGuard] = ()

    @property
    def venue(self) -> str:
        return self.order_entry.venue

    def budget_source(self) -> RateBudgetPort | None:
        if self.rate_budgets is not None:
            return self.rate_budgets
        return self.order_entry if isinstance(self.order_entry, RateBudgetPort) else None


@dataclass
class AccountVenues:
    """The port sets one account profile trades and reads through: one per venue (e.g.
    `kraken` for Kraken Spot, `krakenfutures`, or the paper venue), keyed by venue id, plus what
    to close at shutdown."""

    venues: Mapping[str, VenuePorts]
    closers: Sequence[Callable[[], Awaitable[None]]] = ()

    @classmethod
    def of(
        cls, *ports: VenuePorts, closers: Sequence[Callable[[], Awaitable[None]]] = ()
    ) -> AccountVenues:
        """Key each port set by its venue id (one set per venue)."""
        by_venue = {p.venue: p for p in ports}
        if len(by_venue) != len(ports):
            raise Internal("an account holds one port set per venue")
        return cls(venues=by_venue, closers=closers)

    @property
    def session_guards(self) -> list[SessionGuard]:
        return [g for ports in self.venues.values() for g in ports.session_guards]


@runtime_checkable
class ReportSubscription(Protocol):
    """A replay-then-live stream of reports (see JournalPort.subscribe)."""

    async def next(self, heartbeat_after: float | None = None) -> ExecutionReport | None:
        """The next report, or None when `heartbeat_after` seconds passed without one (time to
        send a heartbeat). Cancel-safe: a cancelled call loses no report."""
        ...

    async def next_batch(
        self, limit: int, heartbeat_after: float | None = None
    ) -> list[ExecutionReport]:
        """Every report available right now, in order, at most `limit` (at least 1); waits only
        while none is available. An empty list means `heartbeat_after` seconds passed without a
        report. The reports are exactly those `next` would have returned one by one (same
        poss_resend). Cancel-safe like `next`."""
        ...

    def close(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[ExecutionReport]: ...


@runtime_checkable
class JournalPort(Protocol):
    """Durable store of execution reports, orders, client-id mappings and nonces.

    Reports: `append` assigns each report its session's next `sequence` and the account's next
    `account_sequence`, in call order; the awaitable completes once they are committed. The
    journal takes ownership of the report objects passed in (it may stamp their sequence
    fields in place rather than copy them): do not reuse them. A report whose `exec_id` is already
    journaled is not stored again: the stored one is returned instead, flagged in the result.
    Committed reports are then published to live subscribers.
    """

    def append(self, reports: Sequence[ExecutionReport]) -> Awaitable[list[AppendResult]]:
        """Journal reports (any sessions, any accounts) as one unit; see class docstring."""
        ...

    def subscribe(self, session_id: str, from_sequence: int) -> ReportSubscription:
        """Reports of `session_id` with sequence > from_sequence: the journaled ones first
        (poss_resend=True), then live ones, with no gap and no duplicate."""
        ...

    def subscribe_account(self, account: str, from_sequence: int) -> ReportSubscription:
        """Drop copy: every session's reports of `account` with account_sequence >
        from_sequence, replayed then live, like `subscribe`."""
        ...

    async def last_sequence(self, session_id: str) -> int: ...

    async def last_account_sequence(self, account: str) -> int: ...

    async def reports(
        self, session_id: str, after_sequence: int, limit: int
    ) -> list[ExecutionReport]:
        """A page of journaled reports of a session (sequence > after_sequence), ascending."""
        ...

    def expedite(self) -> None:
        """A caller is about to wait for what is queued (a write-ahead record while a venue
        call is in flight): commit it as soon as the caller yields, by the fastest path there
        is. Other writes may be group-committed at the journal's own pace."""
        ...

    def save_orders(self, orders: Sequence[Order]) -> Awaitable[None]:
        """Upsert order snapshots (keyed by account + client order id); written in call order
        with `append`, so a report and its order snapshot commit consistently."""
        ...

    async def load_orders(
        self, account: str | None = None, open_only: bool = False
    ) -> list[Order]: ...

    async def save_client_id_mapping(
        self, account: str, venue: str, client_order_id: str, venue_client_id: str
    ) -> None:
        """Remember that `client_order_id` is known at the venue as `venue_client_id`
        (e.g. Kraken's cl_ord_id when the client's id had to become a UUID)."""
        ...

    async def venue_client_id(
        self, account: str, venue: str, client_order_id: str
    ) -> str | None: ...

    async def client_order_id_for(
        self, account: str, venue: str, venue_client_id: str
    ) -> str | None: ...

    async def reserve_nonce(self, key_id: str, at_least: int) -> int:
        """Durably reserve a nonce for API key `key_id`: returns max(at_least, last + 1) and
        stores it, so nonces strictly increase across calls and restarts."""
        ...

    async def save_record(self, kind: str, key: str, value: str | None) -> None:
        """Durably store a small text record (e.g. JSON) of `kind` under `key`, replacing any
        earlier one; `None` deletes it. For gateway state that must survive restarts (an
        engaged kill switch, the result of a transfer)."""
        ...

    async def load_records(self, kind: str) -> dict[str, str]:
        """Every record of `kind`, by key."""
        ...

    async def close(self) -> None:
        """Flush pending writes and release the store."""
        ...


@dataclass(frozen=True, slots=True)
class AppendResult:
    """One result of `JournalPort.append`: the report as stored and whether it is new."""

    report: ExecutionReport
    is_new: bool
