"""Live sessions: logon/logout, exclusive key leases, liveness and cancel-on-disconnect hooks.

Each logon gets its own id (`logon_id`, returned by Logon); every later call must present it, so
a token copied from a client cannot act inside that client's live session. A client that lost
its logon (it crashed) may take its session over explicitly (`takeover`): the old logon ends
without running any end hook (the session, its lease and its guards carry on under the new id).

A session is live from Logon until Logout, server shutdown, or a heartbeat timeout: liveness is the
client's own traffic (Heartbeat, any other RPC, a request on the OrderEntry stream). Once it has
sent nothing for its timeout (two of the heartbeat intervals the client stated at Logon, else the
server's `heartbeat_timeout_s`), it ends and its lease is freed, whatever streams it has open: an
open stream proves only that the connection is up (a stopped or hung client's TCP stack still
holds it), not that the client is.

Logon hooks run once a logon is accepted (e.g. arming a venue's dead man's switch); end hooks
(e.g. cancel-on-disconnect) run for every end. Both see every session: a hook that concerns the
key checks `lease_key`.

Sessions that can trade or transfer lease their account's key exclusively. A read-only /
drop-copy observer signs nothing, and a risk desk (cancel_only) only cancels through the
account's own adapter, so neither takes a lease: they may act alongside the trading session.
All methods run on the event loop thread; no locks are needed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from gateway.config import AccountConfig, SessionConfig
from gateway.core.errors import GatewayError
from gateway.core.model import Permission, SessionContext
from gateway.sessions.errors import (
    KeyLeasedError,
    LogonIdMismatchError,
    NotLoggedOnError,
    SessionAlreadyActiveError,
)
from gateway.sessions.leases import KeyLeaseTable

__all__ = ["ActiveSession", "EndReason", "SessionEndHook", "SessionLogonHook", "SessionRegistry"]

log = logging.getLogger(__name__)

# Sessions that place orders or move funds lease the key. A risk desk (cancel_only alone) does
# not: its cancels go through the same in-process adapter as the trader's, whose one nonce
# source and one signer per key (the key lock) keep every request ordered, so it can act beside
# the trading session instead of being refused KEY_LEASED.
_LEASING_PERMISSIONS = frozenset({Permission.TRADE, Permission.TRANSFER})


class EndReason(StrEnum):
    LOGOUT = "logout"
    TIMEOUT = "timeout"
    SHUTDOWN = "shutdown"


@dataclass(eq=False)
class ActiveSession:
    config: SessionConfig
    account: AccountConfig
    logon_id: str
    cancel_on_disconnect: bool
    heartbeat_interval_s: float
    heartbeat_timeout_s: float
    lease_key: str | None
    last_seen: float
    open_streams: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    logged_on_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def session_id(self) -> str:
        return self.config.session_id

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.config.permissions

    @property
    def drop_copy(self) -> bool:
        return self.config.drop_copy

    def context(self, *, drop_copy: bool | None = None) -> SessionContext:
        """What the core service needs to know about the caller."""
        return SessionContext(
            session_id=self.session_id,
            account=self.account.name,
            permissions=self.permissions,
            is_drop_copy=self.drop_copy if drop_copy is None else drop_copy,
        )


SessionEndHook = Callable[[ActiveSession, EndReason], Awaitable[None]]
SessionLogonHook = Callable[[ActiveSession], None]


class SessionRegistry:
    def __init__(
        self,
        accounts: Mapping[str, AccountConfig],
        *,
        heartbeat_interval_s: float,
        heartbeat_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        refused_accounts: Mapping[str, str | GatewayError] | None = None,
    ) -> None:
        self._accounts = accounts
        # Accounts this gateway does not serve (another gateway holds their key): why, per name.
        # Read live: a fleet gateway adds and removes accounts as it takes and loses leases.
        # A reason text is refused with KeyLeasedError; an error (a fleet's SessionMovedError,
        # naming the instance that serves the account) is raised as it is.
        self._refused = refused_accounts if refused_accounts is not None else {}
        self._interval = heartbeat_interval_s
        self._timeout = heartbeat_timeout_s
        self._clock = clock
        self._leases = KeyLeaseTable()
        self._active: dict[str, ActiveSession] = {}
        self._hooks: list[SessionEndHook] = []
        self._logon_hooks: list[SessionLogonHook] = []

    def add_end_hook(self, hook: SessionEndHook) -> None:
        self._hooks.append(hook)

    def add_logon_hook(self, hook: SessionLogonHook) -> None:
        """`hook(active)` runs after each accepted logon, before `logon` returns."""
        self._logon_hooks.append(hook)

    def logon(
        self,
        session: SessionConfig,
        *,
        cancel_on_disconnect: bool = False,
        heartbeat_interval_s: float | None = None,
        takeover: bool = False,
        client_name: str = "",
    ) -> ActiveSession:
        """Start a session, leasing its account's key; refuses a second concurrent logon unless
        `takeover`, which replaces the live logon of the same session. `client_name`, the
        caller's own identification, is only logged."""
        current = self._active.get(session.session_id)
        if current is not None:
            if not takeover:
                raise SessionAlreadyActiveError(
                    f"session {session.session_id!r} is already logged on; log out first, wait "
                    "for its heartbeat timeout, or log on with takeover"
                )
            return self._take_over(current, cancel_on_disconnect, heartbeat_interval_s, client_name)
        account = self._accounts[session.account]
        refused = self._refused.get(account.name)
        if isinstance(refused, GatewayError):  # a fresh copy: the stored one is shared
            raise type(refused)(refused.message, refused.reason, metadata=refused.metadata)
        if refused is not None:
            raise KeyLeasedError(refused)
        lease_key = account.lease_key if session.permissions & _LEASING_PERMISSIONS else None
        if lease_key is not None:
            holder = self._leases.try_acquire(lease_key, session.session_id)
            if holder is not None:
                raise KeyLeasedError(
                    f"account {account.name!r}'s API key is leased by another live session "
                    f"({holder!r}); a key serves one session at a time"
                )
        active = self._new_logon(session, account, cancel_on_disconnect, heartbeat_interval_s)
        active.lease_key = lease_key
        self._active[session.session_id] = active
        log.info(
            "session logon",
            extra={
                "session_id": session.session_id,
                "account": account.name,
                "leased": lease_key is not None,
                "cancel_on_disconnect": cancel_on_disconnect,
                "client_name": _loggable(client_name),
            },
        )
        for hook in self._logon_hooks:
            try:
                hook(active)
            except Exception:
                # Like end hooks: a failing hook is logged, the logon stands.
                log.exception("session logon hook failed", extra={"session_id": active.session_id})
        return active

    def _new_logon(
        self,
        session: SessionConfig,
        account: AccountConfig,
        cancel_on_disconnect: bool,
        heartbeat_interval_s: float | None,
    ) -> ActiveSession:
        # A client that states its interval is disconnected after two missed ones (the
        # contract's rule); otherwise the server's configured timeout applies.
        interval = heartbeat_interval_s or self._interval
        timeout = 2 * heartbeat_interval_s if heartbeat_interval_s else self._timeout
        return ActiveSession(
            config=session,
            account=account,
            # Unguessable: it is what binds a call to this logon besides the token.
            logon_id=secrets.token_urlsafe(24),
            cancel_on_disconnect=cancel_on_disconnect,
            heartbeat_interval_s=interval,
            heartbeat_timeout_s=timeout,
            lease_key=None,
            last_seen=self._clock(),
        )

    def _take_over(
        self,
        old: ActiveSession,
        cancel_on_disconnect: bool,
        heartbeat_interval_s: float | None,
        client_name: str,
    ) -> ActiveSession:
        """Replace a live logon by a new one of the same session, in one step (no await): the
        lease never becomes free, so no other session can slip in; no hooks run, because the
        session itself does not end. The old logon's streams end and its id stops working."""
        active = self._new_logon(
            old.config, old.account, cancel_on_disconnect, heartbeat_interval_s
        )
        active.lease_key = old.lease_key
        self._active[old.session_id] = active
        old.ended.set()
        log.warning(
            "session taken over by a new logon",
            extra={
                "session_id": old.session_id,
                "account": old.account.name,
                "client_name": _loggable(client_name),
            },
        )
        return active

    def active_count(self) -> int:
        return len(self._active)

    def active_sessions(self) -> list[ActiveSession]:
        """The live sessions, in logon order (for the operator console and metrics)."""
        return list(self._active.values())

    def idle_for(self, active: ActiveSession) -> float:
        """Seconds since the session's last RPC or stream event (its heartbeat age)."""
        return max(0.0, self._clock() - active.last_seen)

    def get(self, session_id: str) -> ActiveSession | None:
        return self._active.get(session_id)

    def require_active(self, session_id: str, logon_id: str | None) -> ActiveSession:
        """The live session (refreshing its liveness), NotLoggedOnError, or
        LogonIdMismatchError when `logon_id` is not the live logon's."""
        active = self._active.get(session_id)
        if active is None:
            raise NotLoggedOnError(f"session {session_id!r} is not logged on; call Logon first")
        if logon_id is None or not hmac.compare_digest(logon_id, active.logon_id):
            raise LogonIdMismatchError(
                f"session {session_id!r} is live under another logon; send the logon id from "
                "LogonResponse.logon_id as 'krakengw-logon-id' metadata, or log on with takeover"
            )
        active.last_seen = self._clock()
        return active

    def stream_opened(self, active: ActiveSession) -> None:
        active.open_streams += 1
        active.last_seen = self._clock()

    def stream_closed(self, active: ActiveSession) -> None:
        active.open_streams = max(0, active.open_streams - 1)
        active.last_seen = self._clock()

    def touch(self, active: ActiveSession) -> None:
        """The client sent something on a stream: it is alive."""
        active.last_seen = self._clock()

    def idle_sessions(self) -> list[ActiveSession]:
        """Sessions whose client sent nothing for their heartbeat timeout (open streams or not)."""
        now = self._clock()
        return [s for s in self._active.values() if now - s.last_seen >= s.heartbeat_timeout_s]

    async def end(self, active: ActiveSession, reason: EndReason) -> None:
        """End one logon: free its lease, wake its streams, run the end hooks once."""
        if self._active.get(active.session_id) is not active:
            return
        del self._active[active.session_id]
        if active.lease_key is not None:
            self._leases.release(active.lease_key, active.session_id)
        active.ended.set()
        log.info("session end", extra={"session_id": active.session_id, "reason": str(reason)})
        for hook in self._hooks:
            try:
                await hook(active, reason)
            except Exception:
                # A failing hook (e.g. the venue is down during cancel-on-disconnect) must not
                # keep the session or its lease alive.
                log.exception("session end hook failed", extra={"session_id": active.session_id})

    async def logout(self, session_id: str) -> None:
        """End the session's live logon (the API checks the caller's logon id first)."""
        active = self._active.get(session_id)
        if active is None:
            raise NotLoggedOnError(f"session {session_id!r} is not logged on; call Logon first")
        await self.end(active, EndReason.LOGOUT)

    async def end_idle(self) -> list[ActiveSession]:
        idle = self.idle_sessions()
        for active in idle:
            await self.end(active, EndReason.TIMEOUT)
        return idle

    async def end_account(self, account: str, reason: EndReason = EndReason.SHUTDOWN) -> None:
        """End every session of `account` (its key lease went to another gateway)."""
        for active in [a for a in self._active.values() if a.account.name == account]:
            await self.end(active, reason)

    async def end_all(self, reason: EndReason = EndReason.SHUTDOWN) -> None:
        for active in list(self._active.values()):
            await self.end(active, reason)

    async def run_expiry(self, stop: asyncio.Event) -> None:
        """Check liveness (at least once a second) until `stop` is set."""
        tick = min(self._interval, 1.0)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick)
            except TimeoutError:
                await self.end_idle()


def _loggable(client_text: str) -> str:
    """Caller-chosen text with control characters escaped, so it cannot forge log lines."""
    return client_text.encode("unicode_escape").decode("ascii")
