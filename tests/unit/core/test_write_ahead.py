"""The caller hears the venue's answer once the write-ahead record (PENDING_*) is durable; the
outcome's own record commits behind it, and a crash in between loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from decimal import Decimal
from pathlib import Path

from gateway.core.model import ExecType, ExecutionReport, Order, OrdStatus
from gateway.core.ports import AppendResult
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import ACCOUNT, TRADER, limit

D = Decimal


class HeldJournal(SqliteJournal):
    """Holds back the writes of the NEW state (its report and its order snapshot) until
    `release` is set; everything else is written as usual."""

    release: asyncio.Event

    def save_orders(self, orders: Sequence[Order]) -> Awaitable[None]:
        if not any(o.status is OrdStatus.NEW for o in orders):
            return super().save_orders(orders)
        items = list(orders)

        async def later() -> None:
            await self.release.wait()
            await super(HeldJournal, self).save_orders(items)

        return asyncio.ensure_future(later())

    def append(self, reports: Sequence[ExecutionReport]) -> Awaitable[list[AppendResult]]:
        if not any(r.exec_type is ExecType.NEW for r in reports):
            return super().append(reports)
        items = list(reports)

        async def later() -> list[AppendResult]:
            await self.release.wait()
            return await super(HeldJournal, self).append(items)

        return asyncio.ensure_future(later())


async def open_held(path: Path) -> HeldJournal:
    journal = await HeldJournal.open(path)
    assert isinstance(journal, HeldJournal)
    journal.release = asyncio.Event()
    return journal


async def test_ack_does_not_wait_for_the_outcome_record(tmp_path: Path) -> None:
    journal = await open_held(tmp_path)
    venue = VenueDouble()
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    try:
        order = await asyncio.wait_for(svc.submit(TRADER, limit()), 10)
        assert order.status is OrdStatus.NEW  # answered while NEW's record is held back
        assert await journal.last_sequence(TRADER.session_id) == 1  # PENDING_NEW only
        journal.release.set()
        stream = svc.stream_executions(TRADER, 0)
        kinds = [(await stream.next()) for _ in range(2)]
        assert [r.exec_type for r in kinds if r is not None] == [ExecType.PENDING_NEW, ExecType.NEW]
        stream.close()
    finally:
        journal.release.set()
        await svc.close()
        await journal.close()


async def test_crash_before_the_outcome_record_is_settled_from_the_venue(tmp_path: Path) -> None:
    journal = await open_held(tmp_path)
    venue = VenueDouble()
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    await asyncio.wait_for(svc.submit(TRADER, limit()), 10)
    # "Crash": the NEW record never reaches the file.
    await SqliteJournal.close(journal)

    journal2 = await SqliteJournal.open(tmp_path)
    svc2 = TradingService(journal2, resolve_delays=(0,))
    await svc2.start()
    svc2.add_instruments(venue.instrument_list)
    try:
        stored = await svc2.get_order(TRADER, "c1")
        assert stored.status is OrdStatus.PENDING_NEW  # the write-ahead record survived
        svc2.attach_venue(ACCOUNT, venue)  # reconciliation asks the venue
        stream = svc2.stream_executions(TRADER, 1)
        report = await asyncio.wait_for(stream.next(), 10)
        assert report is not None and report.exec_type is ExecType.NEW
        assert (await svc2.get_order(TRADER, "c1")).status is OrdStatus.NEW
        assert venue.count("submit") == 1  # settled by query, never resent
        stream.close()
    finally:
        await svc2.close()
        await journal2.close()
