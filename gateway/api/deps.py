"""What every servicer needs: the core service, the sessions, the non-order venue ports."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.api.context import caller
from gateway.core.errors import ErrorReason, Unavailable
from gateway.core.ports import AccountPort, MarketDataPort
from gateway.core.service import TradingService
from gateway.sessions.registry import ActiveSession, SessionRegistry

__all__ = ["ApiDeps"]


@dataclass
class ApiDeps:
    service: TradingService
    sessions: SessionRegistry
    # Balances, positions, transfers per account profile; market data per venue.
    account_ports: Mapping[str, AccountPort] = field(default_factory=dict)
    market_data: Mapping[str, MarketDataPort] = field(default_factory=dict)
    # Set when the server begins its shutdown: streams end, new logons are refused.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def active(self) -> ActiveSession:
        """The caller's live session (refreshes its liveness); NOT_LOGGED_ON otherwise."""
        return self.sessions.require_active(caller().session_id)

    def account_port(self, account: str) -> AccountPort:
        port = self.account_ports.get(account)
        if port is None:
            raise Unavailable(
                f"account {account!r} has no account data source configured",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return port

    def market_data_port(self, venue: str) -> MarketDataPort:
        port = self.market_data.get(venue)
        if port is None:
            raise Unavailable(
                f"no market data source for venue {venue!r}", ErrorReason.VENUE_UNAVAILABLE
            )
        return port
