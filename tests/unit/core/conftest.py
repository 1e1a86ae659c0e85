"""Fixtures for the core: a TradingService on a real SQLite journal and the venue double."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.core.model import (
    ExecType,
    ExecutionReport,
    OrderRequest,
    OrderType,
    Permission,
    SessionContext,
    Side,
)
from gateway.core.ports import ReportSubscription
from gateway.core.service import TradingService
from gateway.core.venue_ids import scoped_client_order_id
from gateway.journal import SqliteJournal
from tests.support.venue_double import VenueDouble

ACCOUNT = "acct-1"
TRADER = SessionContext("sess-a", ACCOUNT, frozenset({Permission.TRADE, Permission.READ}))
OTHER = SessionContext("sess-b", ACCOUNT, frozenset({Permission.TRADE, Permission.READ}))
READ_ONLY = SessionContext("sess-r", ACCOUNT, frozenset({Permission.READ}))
CANCEL_ONLY = SessionContext("sess-a", ACCOUNT, frozenset({Permission.CANCEL_ONLY}))
DROP_COPY = SessionContext("sess-d", ACCOUNT, frozenset({Permission.DROP_COPY}), is_drop_copy=True)


def sent(client_order_id: str, ctx: SessionContext = TRADER) -> str:
    """The id the venue is sent for a session's client order id (gateway/core/venue_ids.py)."""
    return scoped_client_order_id(ctx.account, ctx.session_id, client_order_id)


def limit(client_order_id: str = "c1", **overrides: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "client_order_id": client_order_id,
        "symbol": "BTC/USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": Decimal("1"),
        "price": Decimal("100.0"),
    }
    fields.update(overrides)
    return OrderRequest(**fields)


async def next_report(sub: ReportSubscription) -> ExecutionReport:
    """The next report, failing (not hanging) if none arrives."""
    report = await asyncio.wait_for(sub.next(), timeout=10)
    assert report is not None
    return report


async def reports_until(sub: ReportSubscription, exec_type: ExecType) -> list[ExecutionReport]:
    seen: list[ExecutionReport] = []
    while not seen or seen[-1].exec_type is not exec_type:
        seen.append(await next_report(sub))
    return seen


async def until(sub: ReportSubscription, condition: Callable[[], Awaitable[bool]]) -> None:
    """Consume reports until `condition` holds (checked before each one); fail after 10 s."""
    async with asyncio.timeout(10):
        while not await condition():
            await sub.next()


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    j = await SqliteJournal.open(tmp_path / "data")
    yield j
    await j.close()


@pytest.fixture
def venue() -> VenueDouble:
    return VenueDouble()


@pytest.fixture
async def service(journal: SqliteJournal, venue: VenueDouble) -> AsyncIterator[TradingService]:
    svc = TradingService(journal, resolve_delays=(0,), not_found_confirmations=2)
    await svc.start()
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue(ACCOUNT, venue)
    yield svc
    await svc.close()
