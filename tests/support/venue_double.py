"""An in-process venue that implements the core's ports, scriptable from tests.

    venue = VenueDouble()
    service.add_instruments(venue.instrument_list)
    service.attach_venue("acct", venue)
    venue.script("submit", Outcome.REJECT)        # the next submit is refused
    venue.script("submit", Outcome.ACCEPT_THEN_TIMEOUT)  # placed, but the answer is lost
    await venue.fill("c1", Decimal("0.5"), Decimal("100"))  # a fill event, like the WS feed

The venue knows each order by the session-scoped id the core sends (gateway/core/venue_ids.py);
`orders[...]`, `fill`, `expire` and `cancel_at_venue` also take the client order id of an order
of a session in `OWNERS` (the sessions of tests/unit/core/conftest.py).

Every port call is recorded in `calls` (method name, id sent), so tests can assert how
often the venue was reached. Unscripted calls succeed. `hold("submit")` makes submits wait until
`release("submit")`, to build concurrent races without sleeping.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    OutcomeUnknown,
    ResourceExhausted,
    Unavailable,
    VenueRejected,
)
from gateway.core.events import (
    AmendAck,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    SubmitAck,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.model import (
    ZERO,
    AmendRequest,
    Balance,
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Fee,
    Instrument,
    Liquidity,
    Order,
    OrderRequest,
    OrdStatus,
    Position,
    ProductType,
    PublicTrade,
    Side,
    Subaccount,
    Ticker,
    Transfer,
    TransferRequest,
    TransferStatus,
)
from gateway.core.ports import VenueEventSink
from gateway.core.venue_ids import scoped_client_order_id

D = Decimal


RATE_LIMIT_RETRY_AFTER = 3.5


class Outcome(enum.Enum):
    ACCEPT = "accept"
    REJECT = "reject"  # VenueRejected (definitive)
    UNAVAILABLE = "unavailable"  # Unavailable: provably not executed
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"  # executed, but OutcomeUnknown raised
    LOST = "lost"  # not executed, but OutcomeUnknown raised
    RATE_LIMITED = "rate_limited"  # ResourceExhausted before sending (the governor's refusal)


def default_instruments(venue: str) -> list[Instrument]:
    return [
        Instrument(
            venue=venue,
            symbol="BTC/USD",
            venue_symbol="XBT/USD",
            product_type=ProductType.SPOT,
            base="BTC",
            quote="USD",
            tick_size=D("0.1"),
            lot_size=D("0.00000001"),
            min_qty=D("0.0001"),
            min_cost=D("0.5"),
        ),
        Instrument(
            venue=venue,
            symbol="ETH/USD",
            venue_symbol="ETH/USD",
            product_type=ProductType.SPOT,
            base="ETH",
            quote="USD",
            tick_size=D("0.01"),
            lot_size=D("0.00000001"),
            min_qty=D("0.001"),
            min_cost=D("0.5"),
        ),
        Instrument(
            venue=venue,
            symbol="BTC/USD:USD",
            venue_symbol="PF_XBTUSD",
            product_type=ProductType.PERPETUAL,
            base="BTC",
            quote="USD",
            settle="USD",
            tick_size=D("1"),
            lot_size=D("0.0001"),
            min_qty=D("0.0001"),
        ),
    ]


@dataclass
class DoubleOrder:
    """The venue's own record of an order."""

    client_order_id: str
    venue_order_id: str
    request: OrderRequest
    status: OrdStatus
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    cum_qty: Decimal = ZERO
    notional: Decimal = ZERO
    fills: list[OrderFilled] = field(default_factory=list)

    def state(self) -> VenueOrderState:
        return VenueOrderState(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            status=self.status,
            qty=self.qty,
            cum_qty=self.cum_qty,
            avg_px=self.notional / self.cum_qty if self.cum_qty else None,
            price=self.price,
            stop_price=self.stop_price,
            symbol=self.request.symbol,
            fills=tuple(self.fills),
        )


OWNERS = tuple(("acct-1", s) for s in ("sess-a", "sess-b", "sess-r", "sess-d"))


class VenueOrders(dict[str, DoubleOrder]):
    """The venue's orders by the id it was sent; a client order id of an `OWNERS` session finds
    that session's order too."""

    def __missing__(self, key: str) -> DoubleOrder:
        for account, session in OWNERS:
            found = self.get(scoped_client_order_id(account, session, key))
            if found is not None:
                return found
        raise KeyError(key)


class VenueDouble:
    """OrderEntryPort + AccountPort + InstrumentPort + MarketDataPort, in memory."""

    def __init__(
        self,
        venue: str = "double",
        instruments: Sequence[Instrument] | None = None,
        *,
        emit_events: bool = False,
    ) -> None:
        self._venue = venue
        self.instrument_list = list(instruments or default_instruments(venue))
        self.emit_events = emit_events  # push OrderAccepted/OrderCanceled like a WS feed
        self.sink: VenueEventSink | None = None
        self.calls: list[tuple[str, str]] = []
        self.orders = VenueOrders()
        self.reject_reason = ErrorReason.INSUFFICIENT_FUNDS
        self.reject_text = "EOrder:Insufficient funds"
        self.balances_list = [Balance(asset="USD", total=D(10000), available=D(10000))]
        self.positions_list: list[Position] = []
        self.tickers: dict[str, Ticker] = {}
        self.entered: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._scripts: defaultdict[str, deque[Outcome]] = defaultdict(deque)
        self._gates: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)

    # -- test controls --------------------------------------------------------------------
    @property
    def venue(self) -> str:
        return self._venue

    def script(self, method: str, *outcomes: Outcome) -> None:
        """Queue outcomes for the next calls of `method` (submit, amend, replace, cancel,
        cancel_all, query_order); one per call, per batch item for batch methods."""
        key = {"submit_batch": "submit", "cancel_batch": "cancel"}.get(method, method)
        self._scripts[key].extend(outcomes)

    def hold(self, method: str) -> None:
        self._gates[method] = asyncio.Event()

    def release(self, method: str) -> None:
        gate = self._gates.pop(method, None)
        if gate is not None:
            gate.set()

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    async def fill(
        self,
        client_order_id: str,
        qty: Decimal,
        price: Decimal,
        *,
        trade_id: str | None = None,
        liquidity: Liquidity = Liquidity.TAKER,
        fee: Fee | None = None,
        push: bool = True,
    ) -> OrderFilled:
        """Execute `qty` of an order at the venue and (unless push=False) report it."""
        order = self.orders[client_order_id]
        event = OrderFilled(
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            venue_time=datetime.now(UTC),
            trade_id=trade_id or f"T{next(self._trade_ids)}",
            qty=qty,
            price=price,
            fee=fee,
            liquidity=liquidity,
        )
        order.fills.append(event)
        order.cum_qty += qty
        order.notional += qty * price
        order.status = (
            OrdStatus.FILLED if order.cum_qty >= order.qty else OrdStatus.PARTIALLY_FILLED
        )
        if push:
            await self.push(event)
        return event

    async def expire(self, client_order_id: str) -> None:
        order = self.orders[client_order_id]
        order.status = OrdStatus.EXPIRED
        await self.push(OrderExpired(client_order_id=order.client_order_id, text="expired"))

    async def cancel_at_venue(self, client_order_id: str, text: str = "") -> None:
        """An unsolicited cancel (e.g. the venue's own self-trade prevention)."""
        order = self.orders[client_order_id]
        order.status = OrdStatus.CANCELED
        await self.push(OrderCanceled(client_order_id=order.client_order_id, text=text))

    async def push(self, event: VenueEvent) -> None:
        assert self.sink is not None, "attach the double to a service first"
        await self.sink.on_venue_event(event)

    # -- OrderEntryPort -------------------------------------------------------------------
    def set_event_sink(self, sink: VenueEventSink) -> None:
        self.sink = sink

    async def _enter(self, method: str, client_order_id: str) -> Outcome:
        self.calls.append((method, client_order_id))
        self.entered[method].set()
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        script = self._scripts[method]
        return script.popleft() if script else Outcome.ACCEPT

    def _refuse(self, outcome: Outcome) -> None:
        """Raise for outcomes that mean 'nothing happened'."""
        if outcome is Outcome.REJECT:
            raise VenueRejected(
                "venue refused the request", self.reject_reason, venue_text=self.reject_text
            )
        if outcome is Outcome.UNAVAILABLE:
            raise Unavailable("venue unavailable", ErrorReason.VENUE_UNAVAILABLE)
        if outcome is Outcome.LOST:
            raise OutcomeUnknown("request timed out", ErrorReason.VENUE_TIMEOUT)
        if outcome is Outcome.RATE_LIMITED:
            raise ResourceExhausted("rate budget spent", retry_after=RATE_LIMIT_RETRY_AFTER)

    def _place(self, request: OrderRequest) -> DoubleOrder:
        order = DoubleOrder(
            client_order_id=request.client_order_id,
            venue_order_id=f"O{next(self._ids):06d}",
            request=request,
            status=OrdStatus.NEW,
            qty=request.qty if request.qty is not None else D(0),
            price=request.price,
            stop_price=request.stop_price,
        )
        self.orders[request.client_order_id] = order
        return order

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        outcome = await self._enter("submit", request.client_order_id)
        return await self._submit_one(request, outcome)

    async def _submit_one(self, request: OrderRequest, outcome: Outcome) -> SubmitAck:
        self._refuse(outcome)
        if request.validate_only:
            return SubmitAck(venue_order_id="")
        order = self._place(request)
        if self.emit_events:
            await self.push(
                OrderAccepted(
                    client_order_id=order.client_order_id, venue_order_id=order.venue_order_id
                )
            )
        if outcome is Outcome.ACCEPT_THEN_TIMEOUT:
            raise OutcomeUnknown("response lost after send", ErrorReason.VENUE_TIMEOUT)
        return SubmitAck(venue_order_id=order.venue_order_id)

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        results: list[SubmitAck | GatewayError] = []
        for request, _instrument in items:
            outcome = await self._enter("submit", request.client_order_id)
            try:
                results.append(await self._submit_one(request, outcome))
            except GatewayError as exc:
                results.append(exc)
        return results

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        outcome = await self._enter("amend", order.client_order_id)
        self._refuse(outcome)
        mine = self._live(order.client_order_id)
        mine.qty = amend.qty if amend.qty is not None else mine.qty
        mine.price = amend.price if amend.price is not None else mine.price
        mine.stop_price = amend.stop_price if amend.stop_price is not None else mine.stop_price
        if outcome is Outcome.ACCEPT_THEN_TIMEOUT:
            raise OutcomeUnknown("response lost after send", ErrorReason.VENUE_TIMEOUT)
        return AmendAck(venue_order_id=mine.venue_order_id, qty=mine.qty, price=mine.price)

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        outcome = await self._enter("replace", order.client_order_id)
        self._refuse(outcome)
        self._live(order.client_order_id).status = OrdStatus.REPLACED
        placed = self._place(new_request)
        if outcome is Outcome.ACCEPT_THEN_TIMEOUT:
            raise OutcomeUnknown("response lost after send", ErrorReason.VENUE_TIMEOUT)
        return SubmitAck(venue_order_id=placed.venue_order_id)

    def _live(self, client_order_id: str) -> DoubleOrder:
        mine = self.orders.get(client_order_id)
        if mine is None or mine.status not in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED):
            raise VenueRejected(
                "unknown order", ErrorReason.UNKNOWN_ORDER, venue_text="EOrder:Unknown order"
            )
        return mine

    async def cancel(self, order: Order) -> None:
        outcome = await self._enter("cancel", order.client_order_id)
        await self._cancel_one(order.client_order_id, outcome)

    async def _cancel_one(self, client_order_id: str, outcome: Outcome) -> None:
        self._refuse(outcome)
        self._live(client_order_id).status = OrdStatus.CANCELED
        if self.emit_events:
            await self.push(OrderCanceled(client_order_id=client_order_id, text="user"))
        if outcome is Outcome.ACCEPT_THEN_TIMEOUT:
            raise OutcomeUnknown("response lost after send", ErrorReason.VENUE_TIMEOUT)

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        results: list[GatewayError | None] = []
        for order in orders:
            outcome = await self._enter("cancel", order.client_order_id)
            try:
                await self._cancel_one(order.client_order_id, outcome)
                results.append(None)
            except GatewayError as exc:
                results.append(exc)
        return results

    async def cancel_all(self, symbol: str | None = None) -> int:
        outcome = await self._enter("cancel_all", symbol or "")
        self._refuse(outcome)
        live = [
            o
            for o in self.orders.values()
            if o.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
            and (symbol is None or o.request.symbol == symbol)
        ]
        for order in live:
            order.status = OrdStatus.CANCELED
            if self.sink is not None:
                await self.push(OrderCanceled(client_order_id=order.client_order_id, text="all"))
        return len(live)

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        outcome = await self._enter("query_order", client_order_id)
        self._refuse(outcome)
        order = self.orders.get(client_order_id)
        return None if order is None else order.state()

    async def open_orders(self) -> Sequence[VenueOrderState]:
        self.calls.append(("open_orders", ""))
        return [
            o.state()
            for o in self.orders.values()
            if o.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
        ]

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        self.calls.append(("recent_fills", ""))
        return [f for o in self.orders.values() for f in o.fills]

    # -- AccountPort ----------------------------------------------------------------------
    async def balances(self) -> Sequence[Balance]:
        return list(self.balances_list)

    async def positions(self) -> Sequence[Position]:
        return list(self.positions_list)

    async def subaccounts(self) -> Sequence[Subaccount]:
        return [Subaccount(account_id="sub-1", name="sub one", venue=self._venue)]

    async def transfer(self, request: TransferRequest) -> Transfer:
        return Transfer(
            transfer_id=f"X{next(self._ids):06d}",
            asset=request.asset,
            amount=request.amount,
            from_account=request.from_account,
            to_account=request.to_account,
            status=TransferStatus.COMPLETED,
            time=datetime.now(UTC),
        )

    async def stream_balances(self) -> AsyncIterator[Sequence[Balance]]:
        yield list(self.balances_list)

    async def stream_positions(self) -> AsyncIterator[Sequence[Position]]:
        yield list(self.positions_list)

    # -- InstrumentPort / MarketDataPort --------------------------------------------------
    async def instruments(self) -> Sequence[Instrument]:
        return list(self.instrument_list)

    async def ticker(self, symbol: str) -> Ticker:
        return self.tickers.get(symbol) or Ticker(
            venue=self._venue, symbol=symbol, bid=D(100), ask=D("100.1"), last=D(100)
        )

    async def stream_book(
        self, symbol: str, depth: int
    ) -> AsyncIterator[BookSnapshot | BookUpdate]:
        yield BookSnapshot(
            venue=self._venue,
            symbol=symbol,
            bids=(BookLevel(D(100), D(1)),),
            asks=(BookLevel(D("100.1"), D(1)),),
        )
        yield BookUpdate(venue=self._venue, symbol=symbol, bids=(BookLevel(D(100), D(2)),))

    async def stream_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        yield PublicTrade(
            venue=self._venue, symbol=symbol, trade_id="1", side=Side.BUY, price=D(100), qty=D(1)
        )


def with_status(instrument: Instrument, **changes: object) -> Instrument:
    """A copy of an instrument with changed fields (status, tick size, ...)."""
    return replace(instrument, **changes)  # type: ignore[arg-type]
