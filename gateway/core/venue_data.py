"""Account and market data through the core: the permission check (core/permissions.py), then
routing by venue. Account-wide reads (balances, subaccounts, positions) gather every venue of the
account in attach order; a transfer goes to the venue it names, or the account's only venue with
account data; market data goes to the account's port set on the instrument's venue.

Market data and instruments are public: any logged-on session may read them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from gateway.core.errors import ErrorReason, InvalidArgument, Unavailable
from gateway.core.instruments import InstrumentCatalog
from gateway.core.model import (
    Balance,
    BookSnapshot,
    BookUpdate,
    Instrument,
    Permission,
    Position,
    PublicTrade,
    SessionContext,
    Subaccount,
    Ticker,
    Transfer,
    TransferRequest,
)
from gateway.core.paging import Page, page
from gateway.core.permissions import require
from gateway.core.ports import AccountPort, MarketDataPort
from gateway.core.routing import VenueRoutes

__all__ = ["VenueData"]

T = TypeVar("T")


class VenueData:
    def __init__(self, routes: VenueRoutes, catalog: InstrumentCatalog) -> None:
        self._routes = routes
        self._catalog = catalog

    # -- account data -----------------------------------------------------------------------
    async def balances(
        self, ctx: SessionContext, *, wallet: str = "", page_size: int = 0, page_token: str = ""
    ) -> Page[Balance]:
        require(ctx, Permission.READ)
        found = [
            b
            for port in self._account_ports(ctx)
            for b in await port.balances()
            if not wallet or b.wallet == wallet
        ]
        return page(found, page_size, page_token)

    async def positions(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        venue: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[Position]:
        require(ctx, Permission.READ)
        ports = self._account_ports(ctx, venue) if venue else self._account_ports(ctx)
        found = [
            p
            for port in ports
            for p in await port.positions()
            if symbol is None or p.symbol == symbol
        ]
        return page(found, page_size, page_token)

    async def subaccounts(
        self, ctx: SessionContext, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Subaccount]:
        require(ctx, Permission.READ)
        found = [s for port in self._account_ports(ctx) for s in await port.subaccounts()]
        return page(found, page_size, page_token)

    async def transfer(self, ctx: SessionContext, request: TransferRequest) -> Transfer:
        require(ctx, Permission.TRANSFER)
        ports = self._account_ports(ctx, request.venue)
        if len(ports) > 1:
            raise InvalidArgument(
                "this account trades on several venues; name the venue of the transfer",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "venue"},
            )
        return await ports[0].transfer(request)

    def stream_balances(self, ctx: SessionContext) -> AsyncIterator[Sequence[Balance]]:
        """One snapshot of every venue's balances first, then each change as it comes."""
        require(ctx, Permission.READ)
        return _merged([p.stream_balances for p in self._account_ports(ctx)])

    def stream_positions(self, ctx: SessionContext) -> AsyncIterator[Sequence[Position]]:
        require(ctx, Permission.READ)
        return _merged([p.stream_positions for p in self._account_ports(ctx)])

    # -- market data ------------------------------------------------------------------------
    async def ticker(self, ctx: SessionContext, instrument: Instrument) -> Ticker:
        return await self._market_data(ctx, instrument).ticker(instrument.symbol)

    def stream_book(
        self, ctx: SessionContext, instrument: Instrument, depth: int
    ) -> AsyncIterator[BookSnapshot | BookUpdate]:
        return self._market_data(ctx, instrument).stream_book(instrument.symbol, depth)

    def stream_trades(
        self, ctx: SessionContext, instrument: Instrument
    ) -> AsyncIterator[PublicTrade]:
        return self._market_data(ctx, instrument).stream_trades(instrument.symbol)

    # -- routing ----------------------------------------------------------------------------
    def _account_ports(self, ctx: SessionContext, venue: str = "") -> list[AccountPort]:
        """The account data ports of the session's account (on `venue` only, if named)."""
        ports = [
            p.account
            for v, p in self._routes.venues_of(ctx.account)
            if p.account is not None and (not venue or v == venue)
        ]
        if not ports:
            where = f" on venue {venue!r}" if venue else ""
            raise Unavailable(
                f"account {ctx.account!r} has no account data source configured{where}",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return ports

    def _market_data(self, ctx: SessionContext, instrument: Instrument) -> MarketDataPort:
        source = self._routes.ports(ctx.account, instrument.venue).market_data
        if source is None:
            raise Unavailable(
                f"no market data source for venue {instrument.venue!r}",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return source


async def _merged(
    streams: Sequence[Callable[[], AsyncIterator[Sequence[T]]]],
) -> AsyncIterator[Sequence[T]]:
    """Several snapshot-then-changes streams as one: the first item combines every stream's
    snapshot (so it is still one full snapshot), then changes pass on in arrival order."""
    sources = [open_stream() for open_stream in streams]
    if len(sources) == 1:
        async for item in sources[0]:
            yield item
        return
    snapshot: list[T] = []
    for source in sources:
        snapshot.extend(await anext(source))
    yield snapshot
    queue: asyncio.Queue[tuple[Sequence[T] | None, BaseException | None]] = asyncio.Queue()

    async def pump(source: AsyncIterator[Sequence[T]]) -> None:
        try:
            async for item in source:
                await queue.put((item, None))
        except Exception as exc:
            await queue.put((None, exc))
        else:
            await queue.put((None, None))

    tasks = [asyncio.create_task(pump(s)) for s in sources]
    try:
        running = len(tasks)
        while running:
            change, error = await queue.get()
            if error is not None:
                raise error
            if change is None:
                running -= 1
                continue
            yield change
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
