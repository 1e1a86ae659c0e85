"""What every servicer needs: the core service and the sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.api.context import caller, caller_logon_id
from gateway.core.service import TradingService
from gateway.sessions.registry import ActiveSession, SessionRegistry

__all__ = ["ApiDeps"]


@dataclass
class ApiDeps:
    service: TradingService
    sessions: SessionRegistry
    # Set when the server begins its shutdown: streams end, new logons are refused.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # placement(account) -> (fleet instance serving it, fingerprints of the keys it leases for
    # it); set by a fleet gateway (gateway.fleet), ("", ()) outside a fleet.
    placement: Callable[[str], tuple[str, tuple[str, ...]]] = lambda _account: ("", ())

    def active(self) -> ActiveSession:
        """The caller's live session (refreshes its liveness); NOT_LOGGED_ON when it has none,
        LOGON_ID_MISMATCH when the call does not carry that logon's id."""
        return self.sessions.require_active(caller().session_id, caller_logon_id())
