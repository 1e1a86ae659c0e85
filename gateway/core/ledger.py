"""The orders' current state and its journal, kept in step: every state change of an order goes
through `OrderLedger`, which stores the new snapshot in the index and journals it (with its
report) in call order. Commands, outcome resolution and queries share one ledger.

The ledger also knows which accounts' journal writes are failing (`journal_failure`): a failed
write of an account's order marks the account, the next successful one (or a `probe`) clears it.
The service sends nothing new for a marked account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from gateway.core.errors import ErrorReason, GatewayError, Internal, Unavailable
from gateway.core.model import ExecType, Order
from gateway.core.order_index import OrderIndex
from gateway.core.orders import make_report
from gateway.core.ports import JournalPort
from gateway.core.venue_updates import Update

__all__ = ["JOURNAL_PROBE_RECORD", "OrderLedger", "done"]

log = logging.getLogger(__name__)

# The record kind of `OrderLedger.probe` writes (one per account: the time of the last probe).
JOURNAL_PROBE_RECORD = "journal_probe"

# Reports journaled before the venue call whose outcome they anticipate (see settle_ahead).
_WRITE_AHEAD = frozenset({ExecType.PENDING_NEW, ExecType.PENDING_CANCEL, ExecType.PENDING_REPLACE})


class OrderLedger:
    def __init__(self, journal: JournalPort, now: Callable[[], datetime]) -> None:
        self.journal = journal
        self.orders = OrderIndex()
        self.now = now
        self._failing: dict[str, str] = {}  # account -> why its last journal write failed
        self._probes: dict[str, asyncio.Future[bool]] = {}

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
            self.journal.expedite()  # the caller waits for it (before or after the venue call)
        return self._watch(order.account, _both(saved, appended))

    def commit(self, update: Update | None) -> Awaitable[None]:
        if update is None:
            return done()
        if update.exec_type is None:
            return self.save_quietly(update.order)
        return self.emit(update.order, update.exec_type, **update.report)

    def save_quietly(self, order: Order) -> Awaitable[None]:
        """A change without a report (e.g. the venue order id learnt late)."""
        self.orders.put(order)
        return self._watch(order.account, asyncio.ensure_future(self.journal.save_orders([order])))

    # -- journal health, per account --------------------------------------------------------
    def journal_failure(self, account: str) -> str | None:
        """Why `account`'s last journal write failed; None while its writes succeed."""
        return self._failing.get(account)

    def _watch(self, account: str, write: asyncio.Future[Any]) -> asyncio.Future[Any]:
        write.add_done_callback(lambda f: self._observe(account, f))
        return write

    def _observe(self, account: str, write: asyncio.Future[Any]) -> None:
        if write.cancelled():
            return
        exc = write.exception()  # also marks it retrieved: a detached failure is logged here
        if exc is None:
            if self._failing.pop(account, None) is not None:
                log.warning("journal writes succeed again for account %s: sending resumes", account)
        elif _journal_broken(exc) and account not in self._failing:
            why = f"{type(exc).__name__}: {exc}"
            self._failing[account] = why
            # One line per outage, no traceback: the cause is the journal's, not a bug here.
            log.error(
                "journal write failed for account %s (%s): nothing new is sent for this account "
                "until a journal write succeeds",
                account,
                why,
            )

    async def probe(self, account: str) -> bool:
        """Try one journal write for a failing `account` (shared by concurrent callers); True
        (and the account cleared) if it succeeded."""
        running = self._probes.get(account)
        if running is None:
            running = asyncio.ensure_future(self._probe(account))
            self._probes[account] = running
            running.add_done_callback(lambda _: self._probes.pop(account, None))
        return await asyncio.shield(running)

    async def _probe(self, account: str) -> bool:
        write = asyncio.ensure_future(
            self.journal.save_record(JOURNAL_PROBE_RECORD, account, self.now().isoformat())
        )
        try:
            await self._watch(account, write)
        except GatewayError as exc:
            if exc.reason is ErrorReason.KEY_LEASED:
                raise  # not a journal failure: a fleet fence (the lease is gone; clients move)
            return False
        except Exception:  # _observe logged the outage (once)
            return False
        return True

    async def write_ahead(self, account: str, pending: Sequence[Awaitable[Any]]) -> None:
        """Wait until the records a venue call needs before it is made (PENDING_NEW: what lets
        a restart find the order and give it back to its session) are durable. A failure
        raises Unavailable(JOURNAL_FAILURE): the caller must not send."""
        try:
            for item in pending:
                await item
        except GatewayError:
            raise
        except Exception as exc:
            raise Unavailable(
                "the journal could not record the order, so it was not sent "
                f"({self._failing.get(account) or type(exc).__name__}); nothing new is sent for "
                "this account until a journal write succeeds",
                ErrorReason.JOURNAL_FAILURE,
            ) from exc

    async def settle(self, pending: Iterable[Awaitable[Any]]) -> None:
        try:
            for item in pending:
                await item
        except GatewayError:
            raise
        except Exception as exc:
            # Logged by _observe (every ledger write is watched), once per outage.
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
        """Let a ledger write complete on its own; a failure marks its account (logged once,
        see journal_failure)."""
        future = asyncio.ensure_future(write)
        if future.done():
            _log_write_failure(future)
        else:
            future.add_done_callback(_log_write_failure)


def _journal_broken(exc: BaseException) -> bool:
    """Whether a failed write says the journal is broken, rather than that this gateway may no
    longer write for the account (a fleet fence: KEY_LEASED, which the caller gets as such)."""
    return not isinstance(exc, GatewayError) or exc.reason is ErrorReason.JOURNAL_FAILURE


def _log_write_failure(future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        if _journal_broken(exc):
            log.debug("detached journal write failed: %s", exc)  # _observe logged the outage
        else:
            log.warning("journal write refused: %s", exc)


def _both(first: Awaitable[Any], second: Awaitable[Any]) -> asyncio.Future[Any]:
    # A future, not a coroutine: dropping it unawaited (after an earlier failure) is harmless.
    return asyncio.gather(first, second)


def done() -> Awaitable[None]:
    """An already completed write (nothing to journal)."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
