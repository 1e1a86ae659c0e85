"""An in-process paper venue: what `kraken-gateway serve` trades against without venue keys.

It lives in the gateway package (not under tests/) because the shipped command needs it. It
stands in for Kraken Spot under the same venue id (`kraken`), so clients need no change when the
simulator and the Kraken adapter replace it. Deliberately simple and deterministic: a fixed
reference price per instrument; marketable orders fill in full at that price right after their
ack, others rest until canceled. No trigger, expiry or margin logic, and no memory across
restarts: orders resting before a restart are unknown to it afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason, GatewayError, VenueRejected
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
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Fee,
    Instrument,
    Liquidity,
    OrderRequest,
    OrderType,
    OrdStatus,
    Position,
    ProductType,
    PublicTrade,
    Side,
    Subaccount,
    Ticker,
    TimeInForce,
    Transfer,
    TransferRequest,
)
from gateway.core.model import Order as CoreOrder
from gateway.core.ports import AccountVenues, VenueEventSink, VenuePorts

__all__ = ["PAPER_VENUE", "PaperMarket", "PaperVenue", "paper_account_venues"]

PAPER_VENUE = "kraken"
_TAKER_FEE = Decimal("0.0026")
_MARKET_ORDER_TYPES = {OrderType.MARKET}


def _now() -> datetime:
    return datetime.now(UTC)


def _spot(base: str, quote: str, tick: str, price: str) -> tuple[Instrument, Decimal]:
    inst = Instrument(
        venue=PAPER_VENUE,
        symbol=f"{base}/{quote}",
        venue_symbol=f"{base}{quote}",
        product_type=ProductType.SPOT,
        base=base,
        quote=quote,
        tick_size=Decimal(tick),
        lot_size=Decimal("0.00000001"),
        min_qty=Decimal("0.0001"),
        min_cost=Decimal("0.5"),
    )
    return inst, Decimal(price)


PAPER_TICKER_S = 1.0


class PaperMarket:
    """Instruments and fixed reference prices, shared by every account's PaperVenue."""

    venue = PAPER_VENUE

    def __init__(self) -> None:
        listed = [
            _spot("BTC", "USD", "0.1", "50000"),
            _spot("ETH", "USD", "0.01", "3000"),
            _spot("ETH", "BTC", "0.00001", "0.06"),
            _spot("DOGE", "USD", "0.0000001", "0.1"),
        ]
        self._instruments = {i.symbol: i for i, _ in listed}
        self.prices: dict[str, Decimal] = {i.symbol: p for i, p in listed}

    async def instruments(self) -> Sequence[Instrument]:
        return list(self._instruments.values())

    def instrument(self, symbol: str) -> Instrument:
        return self._instruments[symbol]

    async def ticker(self, symbol: str) -> Ticker:
        price = self.prices[symbol]
        tick = self._instruments[symbol].tick_size
        return Ticker(
            venue=PAPER_VENUE,
            symbol=symbol,
            bid=price - tick,
            ask=price + tick,
            bid_qty=Decimal(1),
            ask_qty=Decimal(1),
            last=price,
            time=_now(),
        )

    async def stream_ticker(self, symbol: str) -> AsyncIterator[Ticker]:
        """The fixed ticker, confirmed again every PAPER_TICKER_S (the feed's heartbeat)."""
        while True:
            yield await self.ticker(symbol)
            await asyncio.sleep(PAPER_TICKER_S)  # the feed's pace, not a synchronisation

    async def stream_book(
        self, symbol: str, depth: int
    ) -> AsyncIterator[BookSnapshot | BookUpdate]:
        price = self.prices[symbol]
        tick = self._instruments[symbol].tick_size
        levels = range(1, min(depth, 25) + 1)
        yield BookSnapshot(
            venue=PAPER_VENUE,
            symbol=symbol,
            bids=tuple(BookLevel(price - n * tick, Decimal(n)) for n in levels),
            asks=tuple(BookLevel(price + n * tick, Decimal(n)) for n in levels),
            time=_now(),
        )
        await asyncio.Event().wait()  # a fixed market never changes

    async def stream_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        # Nobody else trades on a paper market: no public trades, ever.
        await asyncio.Event().wait()
        none: tuple[PublicTrade, ...] = ()
        for trade in none:  # pragma: no cover - makes this an async generator
            yield trade


@dataclass
class _PaperOrder:
    request: OrderRequest
    venue_order_id: str
    status: OrdStatus
    qty: Decimal
    price: Decimal | None
    cum_qty: Decimal = Decimal(0)


class PaperVenue:
    """Order entry and account data for one account on the paper market."""

    venue = PAPER_VENUE

    def __init__(self, market: PaperMarket, account: str) -> None:
        self._market = market
        self._account = account
        self._sink: VenueEventSink | None = None
        self._orders: dict[str, _PaperOrder] = {}  # by client order id
        self._fills: list[OrderFilled] = []
        self._ids = itertools.count(1)
        # Ids stay unique across restarts (the journal keeps orders, this venue does not).
        self._run = uuid.uuid4().hex[:8]
        self._tasks: set[asyncio.Task[None]] = set()

    # -- order entry ------------------------------------------------------------------------
    def set_event_sink(self, sink: VenueEventSink) -> None:
        self._sink = sink

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        marketable = self._marketable(request)
        if request.post_only and marketable:
            raise VenueRejected("post-only order would take", ErrorReason.POST_ONLY_WOULD_TAKE)
        if request.validate_only:
            return SubmitAck(venue_order_id="")
        vid = f"PAPER-{self._run}-{next(self._ids):08d}"
        qty = request.qty if request.qty is not None else Decimal(0)
        if request.quote_qty is not None:
            qty = request.quote_qty / self._market.prices[request.symbol]
        order = _PaperOrder(request, vid, OrdStatus.NEW, qty, request.price)
        self._orders[request.client_order_id] = order
        if marketable:
            self._push_later(self._fill(order))
        elif request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            order.status = OrdStatus.CANCELED
            self._push_later(self._canceled(order, "not marketable"))
        return SubmitAck(venue_order_id=vid, venue_time=_now())

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        results: list[SubmitAck | GatewayError] = []
        for request, instrument in items:
            try:
                results.append(await self.submit(request, instrument))
            except GatewayError as exc:
                results.append(exc)
        return results

    async def amend(
        self, order: CoreOrder, amend: AmendRequest, instrument: Instrument
    ) -> AmendAck:
        paper = self._open(order.client_order_id)
        paper.qty = amend.qty if amend.qty is not None else paper.qty
        paper.price = amend.price if amend.price is not None else paper.price
        return AmendAck(
            venue_order_id=paper.venue_order_id, qty=amend.qty, price=amend.price, venue_time=_now()
        )

    async def replace(
        self, order: CoreOrder, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        self._open(order.client_order_id).status = OrdStatus.CANCELED
        return await self.submit(new_request, instrument)

    async def cancel(self, order: CoreOrder) -> None:
        self._open(order.client_order_id).status = OrdStatus.CANCELED

    async def cancel_batch(self, orders: Sequence[CoreOrder]) -> Sequence[GatewayError | None]:
        results: list[GatewayError | None] = []
        for order in orders:
            try:
                await self.cancel(order)
                results.append(None)
            except GatewayError as exc:
                results.append(exc)
        return results

    async def cancel_all(self, symbol: str | None = None) -> int:
        live = [
            o
            for o in self._orders.values()
            if o.status is OrdStatus.NEW and (symbol is None or o.request.symbol == symbol)
        ]
        for order in live:
            order.status = OrdStatus.CANCELED
            self._push_later(self._canceled(order, "cancel all"))
        return len(live)

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        order = self._orders.get(client_order_id)
        return None if order is None else self._state(order)

    async def open_orders(self) -> Sequence[VenueOrderState]:
        return [self._state(o) for o in self._orders.values() if o.status is OrdStatus.NEW]

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        return [f for f in self._fills if since is None or (f.venue_time or since) >= since]

    # -- account ----------------------------------------------------------------------------
    async def balances(self) -> Sequence[Balance]:
        return [
            Balance(asset="USD", total=Decimal(1_000_000), available=Decimal(1_000_000)),
            Balance(asset="BTC", total=Decimal(10), available=Decimal(10)),
            Balance(asset="ETH", total=Decimal(100), available=Decimal(100)),
        ]

    async def positions(self) -> Sequence[Position]:
        return []

    async def subaccounts(self) -> Sequence[Subaccount]:
        return []

    async def transfer(self, request: TransferRequest) -> Transfer:
        raise VenueRejected("the paper venue has no subaccounts", ErrorReason.TRANSFER_REJECTED)

    async def stream_balances(self) -> AsyncIterator[Sequence[Balance]]:
        yield await self.balances()
        await asyncio.Event().wait()

    async def stream_positions(self) -> AsyncIterator[Sequence[Position]]:
        yield []
        await asyncio.Event().wait()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals --------------------------------------------------------------------------
    def _marketable(self, request: OrderRequest) -> bool:
        if request.order_type in _MARKET_ORDER_TYPES:
            return True
        if request.order_type is not OrderType.LIMIT or request.price is None:
            return False  # triggers and icebergs rest on the paper venue
        ref = self._market.prices[request.symbol]
        return request.price >= ref if request.side is Side.BUY else request.price <= ref

    def _open(self, client_order_id: str) -> _PaperOrder:
        order = self._orders.get(client_order_id)
        if order is None or order.status is not OrdStatus.NEW:
            raise VenueRejected("unknown order", ErrorReason.UNKNOWN_ORDER)
        return order

    def _fill(self, order: _PaperOrder) -> OrderFilled:
        price = self._market.prices[order.request.symbol]
        quote = self._market.instrument(order.request.symbol).quote
        qty = order.qty - order.cum_qty
        order.cum_qty = order.qty
        order.status = OrdStatus.FILLED
        fill = OrderFilled(
            client_order_id=order.request.client_order_id,
            venue_order_id=order.venue_order_id,
            trade_id=f"T{order.venue_order_id}",
            qty=qty,
            price=price,
            fee=Fee(asset=quote, amount=qty * price * _TAKER_FEE),
            liquidity=Liquidity.TAKER,
            venue_time=_now(),
        )
        self._fills.append(fill)
        return fill

    def _canceled(self, order: _PaperOrder, text: str) -> OrderCanceled:
        return OrderCanceled(
            client_order_id=order.request.client_order_id,
            venue_order_id=order.venue_order_id,
            text=text,
            venue_time=_now(),
        )

    def _state(self, order: _PaperOrder) -> VenueOrderState:
        return VenueOrderState(
            client_order_id=order.request.client_order_id,
            venue_order_id=order.venue_order_id,
            status=order.status,
            qty=order.qty,
            cum_qty=order.cum_qty,
            avg_px=self._market.prices[order.request.symbol] if order.cum_qty else None,
            price=order.price,
            symbol=order.request.symbol,
        )

    def _push_later(self, event: VenueEvent) -> None:
        # After the ack: the core applies the ack before its task yields, then sees the event.
        task = asyncio.create_task(self._emit(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _emit(self, event: VenueEvent) -> None:
        if self._sink is not None:
            await self._sink.on_venue_event(event)


def paper_account_venues(market: PaperMarket, account: str) -> AccountVenues:
    """The ports of one paper account on the shared `market` (the one paper wiring path)."""
    venue = PaperVenue(market, account)
    return AccountVenues.of(
        VenuePorts(order_entry=venue, account=venue, instruments=market, market_data=market),
        closers=[venue.close],
    )
