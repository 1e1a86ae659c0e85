"""What the operator console and the metrics exporter read of a running gateway, as plain rows.

One place that knows where sessions, accounts, venue status, rate budgets and open orders live
(the session registry, the core service, the venue ports); nothing here changes state. The
rows hold identifiers and figures only: key ids are non-secret fingerprints, tokens never
appear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from gateway.config import GatewayConfig
from gateway.core.model import Order, Permission, RateBudget, SessionContext
from gateway.core.ports import RateBudgetPort
from gateway.core.service import TradingService
from gateway.core.venue_status import VenueStatus, VenueStatusPort
from gateway.sessions.registry import SessionRegistry

__all__ = ["AccountRow", "BudgetRow", "GatewayReadModel", "SessionRow", "account_observer"]


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: str
    account: str
    since: datetime
    leased: bool  # holds its account's key lease (a trading session)
    heartbeat_age_s: float
    heartbeat_timeout_s: float
    cancel_on_disconnect: bool
    drop_copy: bool
    open_streams: int


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: str
    venue_kind: str  # kraken, simulator or paper (the config's `venue`)
    kill_switch: bool
    leased_by: str | None
    venues: tuple[VenueStatus, ...]


@dataclass(frozen=True, slots=True)
class BudgetRow:
    account: str
    key_id: str
    budget: RateBudget


def account_observer(account: str) -> SessionContext:
    """A drop-copy view of one account: the core's queries then see every session's orders."""
    return SessionContext(
        session_id=f"console:{account}",
        account=account,
        permissions=frozenset({Permission.READ, Permission.DROP_COPY}),
        is_drop_copy=True,
    )


class GatewayReadModel:
    def __init__(
        self,
        config: GatewayConfig,
        service: TradingService,
        sessions: SessionRegistry,
        stream_lags: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.registry = sessions
        self._lags = stream_lags

    def _ports(self, account: str) -> list[object]:
        """The account's order-entry ports attached now (a fleet attaches accounts later)."""
        return [ports.order_entry for ports in self.service.attached_venues(account)]

    def sessions(self) -> list[SessionRow]:
        return [
            SessionRow(
                session_id=s.session_id,
                account=s.account.name,
                since=s.logged_on_at,
                leased=s.lease_key is not None,
                heartbeat_age_s=self.registry.idle_for(s),
                heartbeat_timeout_s=s.heartbeat_timeout_s,
                cancel_on_disconnect=s.cancel_on_disconnect,
                drop_copy=s.drop_copy,
                open_streams=s.open_streams,
            )
            for s in self.registry.active_sessions()
        ]

    def accounts(self) -> list[AccountRow]:
        leases = {
            s.account.name: s.session_id
            for s in self.registry.active_sessions()
            if s.lease_key is not None
        }
        return [
            AccountRow(
                account=name,
                venue_kind=account.trades_on.value,
                kill_switch=self.service.kill_switch_active(name),
                leased_by=leases.get(name),
                venues=tuple(
                    p.venue_status() for p in self._ports(name) if isinstance(p, VenueStatusPort)
                ),
            )
            for name, account in self.config.accounts.items()
        ]

    def budgets(self) -> list[BudgetRow]:
        rows: list[BudgetRow] = []
        for account in self.config.accounts:
            for port in self._ports(account):
                if not isinstance(port, RateBudgetPort):
                    continue
                key_id = port.venue_status().key_id if isinstance(port, VenueStatusPort) else ""
                rows.extend(BudgetRow(account, key_id, b) for b in port.rate_budgets())
        return rows

    async def open_orders(self, account: str) -> list[Order]:
        return await self.service.list_open_orders(account_observer(account))

    def stream_lags(self) -> Mapping[str, int]:
        return self._lags() if self._lags is not None else {}
