"""Nothing reaches the venue before the record that lets a restart find it is durable: the new
order's PENDING_NEW (with its session) is committed before the venue call, for single and batch
submits and for cancel/replace. A failed journal write sends nothing and stops new orders of
the account until a journal write succeeds again; the journal here fails for real (SQLite's
own "database or disk is full", with the file's page limit set to its current size)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.errors import ErrorReason, GatewayError, Unavailable
from gateway.core.events import SubmitAck
from gateway.core.model import (
    CancelRequest,
    Instrument,
    Order,
    OrderRequest,
    OrdStatus,
    ReplaceRequest,
)
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.journal_faults import disk_full
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import ACCOUNT, TRADER, limit
from tests.unit.core.conftest import sent as sent_as

D = Decimal


class JournalCheckingVenue(VenueDouble):
    """Records, at each order-creating call and before anything else can run, what the journal
    file holds for the new order: (status, session) read on a connection of its own."""

    def __init__(self, journal: SqliteJournal) -> None:
        super().__init__()
        self.file = sqlite3.connect(journal.path)
        self.seen: dict[str, tuple[str, str] | None] = {}

    def _look(self, sent_ids: Sequence[str]) -> None:
        """`seen` by the id the venue is sent (the session-scoped one, on the order's row)."""
        for sent_id in sent_ids:
            self.seen[sent_id] = self.file.execute(
                "SELECT status, session_id FROM orders WHERE account = ? AND "
                "json_extract(CAST(payload AS TEXT), '$.venue_client_order_id') = ?",
                (ACCOUNT, sent_id),
            ).fetchone()

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        self._look([request.client_order_id])
        return await super().submit(request, instrument)

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        self._look([r.client_order_id for r, _ in items])
        return await super().submit_batch(items)

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        self._look([new_request.client_order_id])
        return await super().replace(order, new_request, instrument)


def _durable_pending(seen: tuple[str, str] | None) -> bool:
    return seen == (OrdStatus.PENDING_NEW.value, TRADER.session_id)


async def test_every_new_order_is_journaled_before_the_venue_sees_it(
    journal: SqliteJournal,
) -> None:
    venue = JournalCheckingVenue(journal)
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    try:
        assert (await svc.submit(TRADER, limit("s1"))).status is OrdStatus.NEW
        batch = await svc.submit_batch(
            TRADER, [limit("b1", price=D("99")), limit("b2", price=D("98"))]
        )
        assert all(isinstance(o, Order) and o.status is OrdStatus.NEW for o in batch)
        replaced = await svc.replace(
            TRADER,
            ReplaceRequest(orig_client_order_id="s1", new_order=limit("r1", price=D("97"))),
        )
        assert replaced.status is OrdStatus.NEW
        assert set(venue.seen) == {sent_as(c) for c in ("s1", "b1", "b2", "r1")}
        assert all(_durable_pending(o) for o in venue.seen.values()), venue.seen
    finally:
        venue.file.close()
        await svc.close()


async def test_a_failed_journal_write_sends_nothing_until_the_journal_works_again(
    journal: SqliteJournal, caplog: pytest.LogCaptureFixture
) -> None:
    venue = VenueDouble()
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    try:
        await svc.submit(TRADER, limit("resting", price=D("50")))
        await journal.flush()
        disk_full(journal, True)
        caplog.set_level(logging.INFO, logger="gateway.core")
        failed: tuple[str, Unavailable] | None = None
        for i in range(200):  # each order fills the last page a little more
            cid = f"f{i}"
            try:
                await svc.submit(TRADER, limit(cid, qty=D("0.01"), price=D("60") + i))
            except Unavailable as exc:
                failed = (cid, exc)
                break
        assert failed is not None, "the capped journal never filled up"
        cid, exc = failed
        assert exc.reason is ErrorReason.JOURNAL_FAILURE
        assert "full" in exc.message  # says why
        assert ("submit", sent_as(cid)) not in venue.calls  # its record failed: never sent
        assert (await svc.get_order(TRADER, cid)).status is OrdStatus.REJECTED
        assert svc.journal_failure(ACCOUNT) is not None
        sent = venue.count("submit")

        # Further orders of the account are refused, single or batch, and nothing is sent.
        # (A probe write may pass where an order's does not: SQLite's page cap is less strict
        # than a full disk. The order's own write-ahead then fails, and it is not sent either.)
        with pytest.raises(Unavailable) as refused:
            await svc.submit(TRADER, limit("after", price=D("40")))
        assert refused.value.reason is ErrorReason.JOURNAL_FAILURE
        try:
            items: Sequence[Order | GatewayError] = await svc.submit_batch(
                TRADER, [limit("b1", price=D("41")), limit("b2", price=D("39"))]
            )
        except Unavailable as whole:
            items = [whole]
        assert all(
            isinstance(i, Unavailable) and i.reason is ErrorReason.JOURNAL_FAILURE for i in items
        ), items
        assert venue.count("submit") == sent
        # Cancels still reach the venue (taking risk off needs no new record first).
        with pytest.raises(GatewayError):
            await svc.cancel(TRADER, CancelRequest(client_order_id="resting"))
        assert ("cancel", sent_as("resting")) in venue.calls
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors  # one line per outage, saying why, without a traceback
        for record in errors:
            assert record.exc_info is None
            assert "disk is full" in record.getMessage()
            assert "nothing new is sent" in record.getMessage()

        # The journal works again: the next order's probe write succeeds and it is sent.
        disk_full(journal, False)
        back = await svc.submit(TRADER, limit("back", price=D("42")))
        assert back.status is OrdStatus.NEW
        assert svc.journal_failure(ACCOUNT) is None
        assert ("submit", sent_as("back")) in venue.calls
        assert any("succeed again" in r.getMessage() for r in caplog.records)
    finally:
        disk_full(journal, False)
        await svc.close()


class SignallingJournal(SqliteJournal):
    """Sets `expedited` when a write-ahead record is queued (the caller waits for it next)."""

    expedited: asyncio.Event

    def expedite(self) -> None:
        super().expedite()
        self.expedited.set()


async def test_a_caller_gone_before_the_send_leaves_the_order_rejected_and_unsent(
    tmp_path: Path, venue: VenueDouble
) -> None:
    # FULL: every commit goes to the writer thread, which this test's own write lock on the
    # file holds up (SQLite's busy wait), so the write-ahead stays pending while the caller goes.
    journal = await SignallingJournal.open(tmp_path, synchronous="FULL")
    assert isinstance(journal, SignallingJournal)
    journal.expedited = asyncio.Event()
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    blocker = sqlite3.connect(journal.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(svc.submit(TRADER, limit("gone")))
        await asyncio.wait_for(journal.expedited.wait(), 10)  # it now waits for its record
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        blocker.execute("ROLLBACK")
        await journal.flush()
        assert venue.count("submit") == 0
        assert (await svc.get_order(TRADER, "gone")).status is OrdStatus.REJECTED
        (stored,) = await journal.load_orders(ACCOUNT)
        assert stored.status is OrdStatus.REJECTED  # nothing left pending for a restart
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()
        await svc.close()
        await journal.close()
