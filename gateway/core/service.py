"""The application service the gRPC servicers call (no grpc here). SKELETON: signatures final."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from gateway.core.errors import GatewayError
from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    ReplaceRequest,
    SessionContext,
)
from gateway.core.ports import JournalPort, OrderEntryPort, ReportSubscription
from gateway.core.risk import RiskEngine, RiskLimits

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; an empty `next_page_token` means the last page."""

    items: list[T]
    next_page_token: str = ""


class TradingService:
    """Orders, fills and execution streams for sessions; see module docstring."""

    def __init__(
        self,
        journal: JournalPort,
        *,
        clock: Callable[[], datetime] | None = None,
        resolve_delays: Sequence[float] = (0.2, 1.0, 3.0, 10.0),
    ) -> None:
        self.journal = journal
        self.risk = RiskEngine()

    async def start(self) -> None:
        """Load orders from the journal. Call once before serving."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop background resolution tasks."""
        raise NotImplementedError

    # -- wiring ---------------------------------------------------------------------------
    def add_instruments(self, instruments: Iterable[Instrument]) -> None:
        raise NotImplementedError

    def instruments(self, venue: str | None = None) -> list[Instrument]:
        raise NotImplementedError

    def instrument(self, symbol: str, venue: str = "") -> Instrument:
        """Raises InvalidArgument(UNKNOWN_SYMBOL)."""
        raise NotImplementedError

    def attach_venue(self, account: str, port: OrderEntryPort) -> None:
        """Route `account`'s orders on `port.venue` to `port`; gives it the event sink."""
        raise NotImplementedError

    def detach_venue(self, account: str, venue: str) -> None:
        raise NotImplementedError

    def set_risk_limits(self, account: str, limits: RiskLimits) -> None:
        self.risk.set_limits(account, limits)

    def update_last_price(self, venue: str, symbol: str, price: Decimal) -> None:
        self.risk.update_last_price(venue, symbol, price)

    async def reconcile(self, account: str, venue: str | None = None) -> None:
        """Settle pending orders and merge open orders / recent fills from the venue."""
        raise NotImplementedError

    # -- order entry ----------------------------------------------------------------------
    async def submit(self, ctx: SessionContext, request: OrderRequest) -> Order:
        """Idempotent on (account, client_order_id). Returns the order after the venue's answer:
        NEW (or later), REJECTED (venue refused; see order.reject), or PENDING_NEW (outcome
        unknown, being resolved). Raises InvalidArgument, PermissionDenied, RiskRejected,
        FailedPrecondition(KILL_SWITCH_ACTIVE), AlreadyExists (same id, different request)."""
        raise NotImplementedError

    async def submit_batch(
        self, ctx: SessionContext, requests: Sequence[OrderRequest]
    ) -> list[Order | GatewayError]:
        raise NotImplementedError

    async def amend(self, ctx: SessionContext, request: AmendRequest) -> Order:
        raise NotImplementedError

    async def replace(self, ctx: SessionContext, request: ReplaceRequest) -> Order:
        """Cancel/replace; returns the new order."""
        raise NotImplementedError

    async def cancel(self, ctx: SessionContext, request: CancelRequest) -> Order:
        raise NotImplementedError

    async def cancel_batch(
        self, ctx: SessionContext, requests: Sequence[CancelRequest]
    ) -> list[Order | GatewayError]:
        raise NotImplementedError

    async def cancel_all(self, ctx: SessionContext, symbol: str | None = None) -> int:
        """Cancel the session's open orders (of one symbol if given); returns the count."""
        raise NotImplementedError

    async def set_kill_switch(self, ctx: SessionContext, active: bool) -> int:
        """On: refuse new orders of the account and cancel all its open orders (returns the
        count). TRADE or CANCEL_ONLY may switch it on; only TRADE may switch it off."""
        raise NotImplementedError

    def kill_switch_active(self, account: str) -> bool:
        return self.risk.kill_switch_active(account)

    # -- queries --------------------------------------------------------------------------
    async def get_order(self, ctx: SessionContext, client_order_id: str) -> Order:
        """NotFound for unknown ids and other sessions' orders (drop copy sees the account)."""
        raise NotImplementedError

    async def list_open_orders(self, ctx: SessionContext, symbol: str | None = None) -> list[Order]:
        raise NotImplementedError

    async def list_orders(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Order]:
        """All orders (open and closed), newest first."""
        raise NotImplementedError

    async def list_fills(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Fill]:
        """Fills, newest first."""
        raise NotImplementedError

    # -- execution stream -----------------------------------------------------------------
    def stream_executions(self, ctx: SessionContext, from_sequence: int) -> ReportSubscription:
        """The session's reports after `from_sequence` (replay, then live). For a drop-copy
        session: every report of its account, resumed on `account_sequence`."""
        raise NotImplementedError

    async def last_sequence(self, ctx: SessionContext) -> int:
        raise NotImplementedError
