"""What every servicer needs: the core service and the sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.api.context import caller, caller_logon_id
from gateway.core.service import TradingService
from gateway.core.venue_status import VenueStatus, VenueStatusPort
from gateway.sessions.registry import ActiveSession, SessionRegistry

__all__ = ["ApiDeps"]


@dataclass
class ApiDeps:
    service: TradingService
    sessions: SessionRegistry
    # Per account, the venue ports that report whether they can trade now.
    venue_health: Mapping[str, list[VenueStatusPort]] = field(default_factory=dict)
    # Set when the server begins its shutdown: streams end, new logons are refused.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # placement(account) -> (fleet instance serving it, fingerprints of the keys it leases for
    # it); set by a fleet gateway (gateway.fleet), ("", ()) outside a fleet.
    placement: Callable[[str], tuple[str, tuple[str, ...]]] = lambda _account: ("", ())

    def active(self) -> ActiveSession:
        """The caller's live session (refreshes its liveness); NOT_LOGGED_ON when it has none,
        LOGON_ID_MISMATCH when the call does not carry that logon's id."""
        return self.sessions.require_active(caller().session_id, caller_logon_id())

    def venue_status(self, account: str) -> str:
        """Empty while the account's venues are reachable and trading; otherwise why not."""
        return "; ".join(
            why
            for port in self.venue_health.get(account, ())
            if (why := _why_not(port.venue_status())) is not None
        )


# The venue's own states in which it takes no new orders.
_NOT_TRADING = frozenset({"maintenance", "cancel_only"})


def _why_not(status: VenueStatus) -> str | None:
    """None while the venue is reachable and trading; otherwise why not, for people."""
    if not status.connected:
        return f"{status.venue}: unreachable (private connection down)"
    if status.system_status in _NOT_TRADING:
        return f"{status.venue}: {status.system_status}"
    return None
