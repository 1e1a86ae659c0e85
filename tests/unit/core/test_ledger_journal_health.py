"""The ledger marks an account when its journal breaks, not when a fleet fence refuses a write
(the lease is gone: the caller gets KEY_LEASED as such and its client moves)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.core.leases import LeaseLost
from gateway.core.ledger import OrderLedger
from gateway.core.model import ExecType, Order
from gateway.core.orders import new_order
from tests.support.venue_double import default_instruments
from tests.unit.core.conftest import ACCOUNT, TRADER, limit


class FailingJournal:
    """Only what `OrderLedger.emit` calls; every write fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def _failed(self) -> Awaitable[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(self.error)
        return future

    def save_orders(self, orders: Sequence[Order]) -> Awaitable[None]:
        return self._failed()

    def append(self, reports: Sequence[Any]) -> Awaitable[Any]:
        return self._failed()

    def expedite(self) -> None:
        pass


def _order() -> Order:
    now = datetime.now(UTC)
    instrument = default_instruments("double")[0]
    return new_order(
        account=ACCOUNT,
        session_id=TRADER.session_id,
        request=limit(),
        instrument=instrument,
        now=now,
    )


async def _emit_failing(error: Exception) -> OrderLedger:
    ledger = OrderLedger(FailingJournal(error), lambda: datetime.now(UTC))  # type: ignore[arg-type]
    write = ledger.emit(_order(), ExecType.PENDING_NEW)
    with pytest.raises(type(error)):
        await write  # the ledger's own callback, registered first, has run by now
    return ledger


async def test_a_broken_journal_marks_the_account() -> None:
    ledger = await _emit_failing(OSError("disk full"))
    assert "disk full" in (ledger.journal_failure(ACCOUNT) or "")


async def test_a_lost_lease_does_not_mark_the_account() -> None:
    ledger = await _emit_failing(LeaseLost("lease taken by gw-2"))
    assert ledger.journal_failure(ACCOUNT) is None
