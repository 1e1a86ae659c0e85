"""Account and market data through the core: the permission check (core/permissions.py), then
routing by venue. Account-wide reads (balances, subaccounts, positions) gather every venue of the
account in attach order; a transfer goes to the venue it names, or the account's only venue with
account data; market data goes to the account's port set on the instrument's venue.

Transfers name gateway account profiles; a profile with a `venue_account_id` is sent as that id
(`set_profiles`), other names as given, and ListSubaccounts lists those profiles with their ids. A
transfer with a `client_transfer_id` is idempotent: its request is journaled before the venue
call and its result after, so a repeat answers the first result and sends nothing (also after
a restart); a repeat whose outcome is still unknown answers PENDING without resending.

Market data and instruments are public: any logged-on session may read them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    GatewayError,
    InvalidArgument,
    OutcomeUnknown,
    Unavailable,
)
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
    TransferStatus,
)
from gateway.core.paging import Page, page
from gateway.core.permissions import require
from gateway.core.ports import AccountPort, JournalPort, MarketDataPort
from gateway.core.routing import VenueRoutes

__all__ = ["VenueData"]

T = TypeVar("T")


TRANSFER_RECORD = "transfer"


class VenueData:
    def __init__(
        self, routes: VenueRoutes, catalog: InstrumentCatalog, journal: JournalPort
    ) -> None:
        self._routes = routes
        self._catalog = catalog
        self._journal = journal
        self._profiles: dict[str, Subaccount] = {}
        self._transfers: dict[str, dict[str, Any]] | None = None  # loaded on first use
        self._transfer_lock = asyncio.Lock()

    def set_profiles(self, profiles: Mapping[str, Subaccount]) -> None:
        """The configured account profiles by name, with their venue account ids."""
        self._profiles = dict(profiles)

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
        found = [p for p in self._profiles.values() if p.venue_account_id]
        known = {p.venue_account_id for p in found}
        found += [
            s
            for port in self._account_ports(ctx)
            for s in await port.subaccounts()
            if s.venue_account_id not in known or not s.venue_account_id
        ]
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
        sent = replace_accounts(
            request,
            self._venue_id(request.from_account, "from_account"),
            self._venue_id(request.to_account, "to_account"),
        )
        if not request.client_transfer_id:
            return _as_named(await ports[0].transfer(sent), request)
        key = f"{ctx.account}/{request.client_transfer_id}"
        async with self._transfer_lock:  # one transfer decision at a time: no double send
            known = await self._known_transfers()
            record = known.get(key)
            if record is not None:
                return _repeat(record, request)
            record = {"request": _request_json(request), "transfer": None}
            await self._journal.save_record(TRANSFER_RECORD, key, json.dumps(record))
            known[key] = record
        try:
            done = _as_named(await ports[0].transfer(sent), request)
        except OutcomeUnknown:
            raise  # the record stays pending: a repeat answers PENDING and sends nothing
        except GatewayError:
            # Definitively refused: forget it, so the same id may be tried again.
            async with self._transfer_lock:
                known.pop(key, None)
                await self._journal.save_record(TRANSFER_RECORD, key, None)
            raise
        record = {"request": _request_json(request), "transfer": _transfer_json(done)}
        async with self._transfer_lock:
            known[key] = record
            await self._journal.save_record(TRANSFER_RECORD, key, json.dumps(record))
        return done

    def _venue_id(self, profile: str, field: str) -> str:
        """The venue's id of a configured profile that has one; any other name goes to the
        venue as given (e.g. a Kraken Futures account name), which refuses what it does not
        know."""
        found = self._profiles.get(profile)
        if found is None or not found.venue_account_id:
            return profile
        return found.venue_account_id

    async def _known_transfers(self) -> dict[str, dict[str, Any]]:
        if self._transfers is None:
            raw = await self._journal.load_records(TRANSFER_RECORD)
            self._transfers = {k: json.loads(v) for k, v in raw.items()}
        return self._transfers

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


def replace_accounts(request: TransferRequest, from_id: str, to_id: str) -> TransferRequest:
    """The request as the venue gets it: venue account ids instead of profile names."""
    return TransferRequest(
        asset=request.asset,
        amount=request.amount,
        from_account=from_id,
        to_account=to_id,
        client_transfer_id=request.client_transfer_id,
        venue=request.venue,
    )


def _as_named(done: Transfer, request: TransferRequest) -> Transfer:
    """The venue's answer, named by profile again."""
    return Transfer(
        transfer_id=done.transfer_id,
        asset=done.asset,
        amount=done.amount,
        from_account=request.from_account,
        to_account=request.to_account,
        status=done.status,
        time=done.time,
    )


def _request_json(r: TransferRequest) -> dict[str, str]:
    return {
        "asset": r.asset,
        "amount": str(r.amount),
        "from": r.from_account,
        "to": r.to_account,
        "venue": r.venue,
    }


def _transfer_json(t: Transfer) -> dict[str, str]:
    return {
        "transfer_id": t.transfer_id,
        "status": t.status.value,
        "time": t.time.isoformat() if t.time else "",
    }


def _repeat(record: dict[str, Any], request: TransferRequest) -> Transfer:
    """The first answer to this client_transfer_id; a different request under it is refused."""
    if record["request"] != _request_json(request):
        raise AlreadyExists(
            f"client_transfer_id {request.client_transfer_id} was used for a different transfer",
            ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
            metadata={"field": "client_transfer_id"},
        )
    done = record["transfer"]
    return Transfer(
        transfer_id=done["transfer_id"] if done else "",
        asset=request.asset,
        amount=Decimal(record["request"]["amount"]),
        from_account=request.from_account,
        to_account=request.to_account,
        # Sent, no answer recorded: the outcome is unknown, so it is still pending.
        status=TransferStatus(done["status"]) if done else TransferStatus.PENDING,
        time=datetime.fromisoformat(done["time"]) if done and done["time"] else None,
    )
