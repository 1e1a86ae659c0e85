"""Idempotent submit (incl. concurrent duplicates), session isolation, permissions, restart."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from gateway.core.model import AmendRequest, CancelRequest, OrdStatus, Permission
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.venue_double import Outcome, VenueDouble
from tests.unit.core.conftest import (
    ACCOUNT,
    CANCEL_ONLY,
    DROP_COPY,
    OTHER,
    READ_ONLY,
    TRADER,
    limit,
    next_report,
)

D = Decimal
CANCEL_ONLY_DESK = type(TRADER)("sess-desk", ACCOUNT, frozenset({Permission.CANCEL_ONLY}))


async def test_duplicate_submit_returns_original_and_reaches_venue_once(
    service: TradingService, venue: VenueDouble
) -> None:
    first = await service.submit(TRADER, limit())
    await venue.fill("c1", D("0.5"), D("100"))
    again = await service.submit(TRADER, limit())
    assert again == first  # the original result, not the later state
    assert venue.count("submit") == 1


async def test_duplicate_of_rejected_order_returns_the_rejection(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit", Outcome.REJECT)
    first = await service.submit(TRADER, limit())
    again = await service.submit(TRADER, limit())
    assert again == first and again.status is OrdStatus.REJECTED
    assert venue.count("submit") == 1


async def test_concurrent_duplicates_wait_for_the_first(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.hold("submit")
    first = asyncio.create_task(service.submit(TRADER, limit()))
    await asyncio.wait_for(venue.entered["submit"].wait(), 10)
    duplicates = [asyncio.create_task(service.submit(TRADER, limit())) for _ in range(5)]
    venue.release("submit")
    results = await asyncio.gather(first, *duplicates)
    assert all(r == results[0] for r in results)
    assert results[0].status is OrdStatus.NEW
    assert venue.count("submit") == 1


async def test_same_id_different_request_is_refused(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    with pytest.raises(AlreadyExists) as err:
        await service.submit(TRADER, limit(price=D("101.0")))
    assert err.value.reason is ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST
    assert venue.count("submit") == 1


async def test_deadline_is_not_part_of_the_identity(service: TradingService) -> None:
    from datetime import UTC, datetime, timedelta

    soon = datetime.now(UTC) + timedelta(hours=1)
    first = await service.submit(TRADER, limit(deadline=soon))
    again = await service.submit(TRADER, limit(deadline=soon + timedelta(minutes=1)))
    assert again == first


async def test_another_sessions_order_is_not_found(service: TradingService) -> None:
    await service.submit(TRADER, limit())
    with pytest.raises(NotFound):
        await service.get_order(OTHER, "c1")
    with pytest.raises(NotFound):
        await service.cancel(OTHER, CancelRequest(client_order_id="c1"))
    with pytest.raises(NotFound):
        await service.amend(OTHER, AmendRequest(client_order_id="c1", price=D(99)))
    assert await service.list_open_orders(OTHER) == []


async def test_client_order_ids_are_scoped_per_session(
    service: TradingService, venue: VenueDouble
) -> None:
    """Another session's id tells nothing: the same id is a new order, sent under its own
    venue-side id; each session's duplicates stay idempotent on its own order."""
    mine = await service.submit(TRADER, limit())
    theirs = await service.submit(OTHER, limit(price=D("99.0")))  # no ALREADY_EXISTS
    assert mine.status is theirs.status is OrdStatus.NEW
    assert mine.venue_order_id != theirs.venue_order_id
    assert theirs.session_id == "sess-b" and theirs.price == D("99.0")
    sent = [cid for name, cid in venue.calls if name == "submit"]
    assert len(set(sent)) == 2 and "c1" not in sent  # the venue never sees the bare id
    assert await service.submit(OTHER, limit(price=D("99.0"))) == theirs
    with pytest.raises(AlreadyExists):
        await service.submit(OTHER, limit(price=D("98.0")))
    assert venue.count("submit") == 2
    assert (await service.get_order(TRADER, "c1")).price == D("100.0")
    assert (await service.get_order(OTHER, "c1")).price == D("99.0")
    assert [o.price for o in await service.list_open_orders(OTHER)] == [D("99.0")]
    await venue.fill(mine.venue_client_order_id or "", D("1"), D("100"))  # the venue's id
    assert (await service.get_order(TRADER, "c1")).status is OrdStatus.FILLED
    assert (await service.get_order(OTHER, "c1")).status is OrdStatus.NEW
    # A session that sees the whole account names one of them by its owner (the servicer does
    # so for a venue order id); by client order id alone the id is ambiguous.
    with pytest.raises(InvalidArgument):
        await service.get_order(DROP_COPY, "c1")
    assert (await service.get_order(DROP_COPY, "c1", "sess-b")).price == D("99.0")
    desk = await service.cancel(
        CANCEL_ONLY_DESK, CancelRequest(client_order_id="c1", session_id="sess-b")
    )
    assert desk.session_id == "sess-b" and desk.status is OrdStatus.CANCELED


async def test_permissions(service: TradingService, venue: VenueDouble) -> None:
    with pytest.raises(PermissionDenied) as err:
        await service.submit(READ_ONLY, limit())
    assert err.value.reason is ErrorReason.PERMISSION_DENIED_TRADE
    await service.submit(TRADER, limit())
    with pytest.raises(PermissionDenied):
        await service.submit(CANCEL_ONLY, limit("c2"))
    with pytest.raises(PermissionDenied):
        await service.cancel(READ_ONLY, CancelRequest(client_order_id="c1"))
    canceled = await service.cancel(CANCEL_ONLY, CancelRequest(client_order_id="c1"))
    assert canceled.status is OrdStatus.CANCELED
    assert venue.count("submit") == 1


async def test_drop_copy_sees_every_session_of_the_account(service: TradingService) -> None:
    drop = service.stream_executions(DROP_COPY, 0)
    await service.submit(TRADER, limit("a1"))
    await service.submit(OTHER, limit("b1"))
    seen = [await next_report(drop) for _ in range(4)]
    assert {r.session_id for r in seen} == {"sess-a", "sess-b"}
    assert [r.account_sequence for r in seen] == [1, 2, 3, 4]
    assert (await service.get_order(DROP_COPY, "a1")).client_order_id == "a1"
    with pytest.raises(PermissionDenied):
        await service.cancel(DROP_COPY, CancelRequest(client_order_id="a1"))
    watcher_may_cancel = type(DROP_COPY)(
        "sess-d", ACCOUNT, frozenset({Permission.DROP_COPY, Permission.CANCEL_ONLY}), True
    )
    # cancel_only without trade is a risk desk: it may cancel any order of its account.
    canceled = await service.cancel(watcher_may_cancel, CancelRequest(client_order_id="a1"))
    assert canceled.session_id == "sess-a"
    with pytest.raises(NotFound):  # a trading session still owns only its own orders
        await service.cancel(OTHER, CancelRequest(client_order_id="a1"))
    with pytest.raises(PermissionDenied):
        service.stream_executions(type(DROP_COPY)("x", ACCOUNT, frozenset(), is_drop_copy=True), 0)


async def test_restart_recovers_orders_and_keeps_idempotency(tmp_path: Path) -> None:
    venue = VenueDouble()
    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    await svc.submit(TRADER, limit())
    await venue.fill("c1", D("0.5"), D("100"), trade_id="T1")
    await svc.close()
    await journal.close()

    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    order = await svc.get_order(TRADER, "c1")
    assert (order.status, order.cum_qty) == (OrdStatus.PARTIALLY_FILLED, D("0.5"))
    again = await svc.submit(TRADER, limit())
    assert again.client_order_id == "c1" and venue.count("submit") == 1
    await venue.push(venue.orders["c1"].fills[0])  # replayed fill after restart: ignored
    await venue.fill("c1", D("0.5"), D("100"), trade_id="T2")
    order = await svc.get_order(TRADER, "c1")
    assert (order.status, order.cum_qty) == (OrdStatus.FILLED, D("1"))
    await journal.flush()  # the fill's report commits behind the state change
    assert await svc.last_sequence(TRADER) == 4  # PENDING_NEW, NEW, PARTIAL_FILL, FILL
    await svc.close()
    await journal.close()


async def test_reconcile_after_restart_picks_up_missed_fills(tmp_path: Path) -> None:
    venue = VenueDouble()
    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    await svc.submit(TRADER, limit())
    await svc.close()
    await journal.close()
    await venue.fill("c1", D("1"), D("100"), trade_id="WHILE-DOWN", push=False)

    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    await svc.reconcile(ACCOUNT)
    order = await svc.get_order(TRADER, "c1")
    assert (order.status, order.cum_qty) == (OrdStatus.FILLED, D("1"))
    await svc.reconcile(ACCOUNT)  # idempotent
    assert len((await svc.get_order(TRADER, "c1")).fills) == 1
    await svc.close()
    await journal.close()


async def test_an_order_journaled_before_the_scoping_keeps_its_venue_id(tmp_path: Path) -> None:
    """An order journaled before client ids were scoped per session is known at the venue by
    its bare client id: after the upgrade the venue's news about it still finds it, its cancel
    names it so, and another session may use the same client id beside it."""
    venue = VenueDouble()
    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    placed = await svc.submit(TRADER, limit())
    await svc.close()
    # Rewrite it as an old gateway had journaled it, and the venue as it had been sent it.
    legacy = replace(await svc.get_order(TRADER, "c1"), venue_client_order_id=None)
    await journal.save_orders([legacy])
    await journal.close()
    at_venue = venue.orders.pop(placed.id_at_venue)
    venue.orders["c1"] = replace(at_venue, client_order_id="c1")

    journal = await SqliteJournal.open(tmp_path)
    svc = TradingService(journal, resolve_delays=(0,))
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    theirs = await svc.submit(OTHER, limit(price=D("99.0")))
    assert theirs.status is OrdStatus.NEW and theirs.id_at_venue != "c1"
    await venue.fill("c1", D("0.5"), D("100"), trade_id="T1")  # the venue names it "c1"
    assert (await svc.get_order(TRADER, "c1")).cum_qty == D("0.5")
    assert (await svc.get_order(OTHER, "c1")).cum_qty == 0
    canceled = await svc.cancel(TRADER, CancelRequest(client_order_id="c1"))
    assert canceled.status is OrdStatus.CANCELED
    assert ("cancel", "c1") in venue.calls and venue.orders["c1"].status is OrdStatus.CANCELED
    await svc.close()
    await journal.close()
