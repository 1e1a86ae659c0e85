"""Fixtures for the journal: every test runs against both backends, a real SQLite file in
tmp_path and a fresh database on the suite's real PostgreSQL server; and a report factory."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.model import ExecType, ExecutionReport, OrderType, OrdStatus, Side, TimeInForce
from gateway.core.ports import ReportSubscription
from gateway.journal import PostgresJournal, SqliteJournal

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def report(n: int, session: str = "s1", account: str = "a1", exec_id: str = "") -> ExecutionReport:
    return ExecutionReport(
        session_id=session,
        account=account,
        exec_id=exec_id or f"{session}-{n}",
        exec_type=ExecType.NEW,
        ord_status=OrdStatus.NEW,
        client_order_id=f"c{n}",
        venue="double",
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        order_qty=Decimal("1.5"),
        price=Decimal("100.1"),
        leaves_qty=Decimal("1.5"),
        gateway_time=NOW,
    )


async def take(sub: ReportSubscription, count: int) -> list[ExecutionReport]:
    out = []
    async with asyncio.timeout(30):  # fail, never hang
        for _ in range(count):
            item = await sub.next()
            assert item is not None
            out.append(item)
    return out


async def nothing_more(sub: ReportSubscription) -> bool:
    """True if no report is ready: next() reports an idle heartbeat instead."""
    return await sub.next(heartbeat_after=0) is None


Journal = SqliteJournal | PostgresJournal
OpenJournal = Callable[..., Awaitable[Journal]]
PG_PASSWORD_ENV = "KRAKENGW_TEST_PG_PASSWORD"


async def open_at(store: str, **options: int) -> Journal:
    """The journal at `store`: a PostgreSQL URI, else a SQLite data directory."""
    if store.startswith("postgresql://"):
        return await PostgresJournal.open(store, password=os.environ[PG_PASSWORD_ENV], **options)
    return await SqliteJournal.open(store, **options)


@pytest.fixture(params=["sqlite", "postgres"])
def journal_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's journal lives; opening it again reopens the same store."""
    if request.param == "sqlite":
        return str(tmp_path)
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    return url


@pytest.fixture
def open_journal(journal_store: str) -> OpenJournal:
    return functools.partial(open_at, journal_store)


@pytest.fixture
async def journal(journal_store: str) -> AsyncIterator[Journal]:
    j = await open_at(journal_store)
    yield j
    await j.close()
