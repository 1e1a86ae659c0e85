"""The orders' current state and its journal, kept in step: every state change of an order goes
through `OrderLedger`, which stores the new snapshot in the index and journals it (with its
report) in call order. Commands, outcome resolution and queries share one ledger.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from gateway.core.errors import ErrorReason, GatewayError, Internal
from gateway.core.model import ExecType, Order
from gateway.core.order_index import OrderIndex
from gateway.core.orders import make_report
from gateway.core.ports import JournalPort
from gateway.core.venue_updates import Update

__all__ = ["OrderLedger", "done"]

log = logging.getLogger(__name__)

# Reports journaled before the venue call whose outcome they anticipate (see settle_ahead).
_WRITE_AHEAD = frozenset({ExecType.PENDING_NEW, ExecType.PENDING_CANCEL, ExecType.PENDING_REPLACE})


class OrderLedger:
    def __init__(self, journal: JournalPort, now: Callable[[], datetime]) -> None:
        self.journal = journal
        self.orders = OrderIndex()
        self.now = now

    async def load(self) -> None:
        """Load every journaled order into the index (once, before serving)."""
        for order in await self.journal.load_orders():
            self.orders.put(order)

    def emit(self, order: Order, exec_type: ExecType, **report: Any) -> Awaitable[None]:
        """Store the new state and journal it with its report (in call order)."""
        self.orders.put(order)
        saved = self.journal.save_orders([order])
        appended = self.journal.append([make_report(order, exec_type, self.now(), **report)])
        if exec_type in _WRITE_AHEAD:
            self.journal.expedite()  # the caller will wait for it once the venue answers
        return _both(saved, appended)

    def commit(self, update: Update | None) -> Awaitable[None]:
        if update is None:
            return done()
        if update.exec_type is None:
            return self.save_quietly(update.order)
        return self.emit(update.order, update.exec_type, **update.report)

    def save_quietly(self, order: Order) -> Awaitable[None]:
        """A change without a report (e.g. the venue order id learnt late)."""
        self.orders.put(order)
        return self.journal.save_orders([order])

    async def settle(self, pending: Iterable[Awaitable[Any]]) -> None:
        try:
            for item in pending:
                await item
        except GatewayError:
            raise
        except Exception as exc:
            log.exception("journal write failed")
            raise Internal("journal write failed", ErrorReason.JOURNAL_FAILURE) from exc

    async def settle_ahead(self, pending: Sequence[Awaitable[Any]], ahead: int) -> None:
        """Wait for the write-ahead records only (the first `ahead`: the PENDING_* states,
        journaled while the venue call ran); the outcome's records commit behind them in call
        order. The caller hears the venue's answer without waiting for a second commit. After a
        crash in between, the journal holds the pending state and restart reconciliation asks
        the venue, so no outcome is lost."""
        await self.settle(pending[:ahead])
        for item in pending[ahead:]:
            self.detach(item)

    def detach(self, write: Awaitable[Any]) -> None:
        """Let a journal write complete on its own; a failure is logged (the next awaited write
        of the same journal fails too and reaches its caller as JOURNAL_FAILURE)."""
        future = asyncio.ensure_future(write)
        if future.done():
            _log_write_failure(future)
        else:
            future.add_done_callback(_log_write_failure)


def _log_write_failure(future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        log.error("journal write failed", exc_info=exc)


def _both(first: Awaitable[Any], second: Awaitable[Any]) -> Awaitable[Any]:
    # A future, not a coroutine: dropping it unawaited (after an earlier failure) is harmless.
    return asyncio.gather(first, second)


def done() -> Awaitable[None]:
    """An already completed write (nothing to journal)."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
