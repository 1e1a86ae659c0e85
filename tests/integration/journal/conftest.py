"""Fixtures for the journal: a real SQLite file in tmp_path and a report factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.model import ExecType, ExecutionReport, OrderType, OrdStatus, Side, TimeInForce
from gateway.core.ports import ReportSubscription
from gateway.journal import SqliteJournal

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


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    j = await SqliteJournal.open(tmp_path)
    yield j
    await j.close()
