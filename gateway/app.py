"""The composition root: assemble a running gateway from its config (journal, core service,
venues, sessions, server).

Venues come from a `VenueFactory` (one `AccountVenues` per account profile), so tests can plug
an in-process double and the Kraken adapters plug in through `gateway.venues.factory` without
touching this module. Without a factory, `GatewayVenues` of that module is used (paper venue
for accounts without keys, the Kraken adapter for keyed ones) with the journal it opens.

Venue safety that follows session liveness (Kraken's dead man's switch) plugs in as
`SessionGuard`s of an account: started when a session that leases the account's key logs on,
ended (cleanly or not) when it ends. Read-only and drop-copy observers lease nothing and touch
no guard. This module knows no venue: it only maps registry events onto guards.

Shutdown order matters: refuse new work, let streams drain, stop the server, end the sessions
(cancel-on-disconnect still needs the venues), then stop the core and close the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.api.deps import ApiDeps
from gateway.api.metrics import ApiMetrics
from gateway.api.server import GatewayServer
from gateway.api.servicers.sessions import cancel_on_disconnect_hook
from gateway.config import AccountConfig, GatewayConfig
from gateway.core.errors import Unavailable
from gateway.core.leases import KeyLeases
from gateway.core.model import Subaccount
from gateway.core.ports import AccountVenues, JournalPort, SessionGuard
from gateway.core.risk import RiskLimits
from gateway.core.service import TradingService
from gateway.core.venue_status import VenueStatusPort
from gateway.journal.opening import open_journal
from gateway.leases.claims import Claims, claim
from gateway.observability.endpoints import OperatorEndpoints
from gateway.sessions.auth import TokenAuthenticator
from gateway.sessions.registry import ActiveSession, EndReason, SessionRegistry
from gateway.startup import LiveSessionMarks, reconcile_until_done
from gateway.venues.factory import GatewayVenues

if TYPE_CHECKING:
    from gateway.fleet import Fleet

__all__ = ["GatewayApp", "JournalFactory", "VenueFactory", "wire_account"]

log = logging.getLogger(__name__)

# How often the venue-bound services' health is brought in line with the venues.
VENUE_WATCH_INTERVAL_S = 0.25
# Start-up retries of an unreachable venue: first delay, doubling up to the cap.
STARTUP_RETRY_FIRST_S = 0.5
STARTUP_RETRY_MAX_S = 10.0


VenueFactory = Callable[[AccountConfig], Awaitable[AccountVenues]]
JournalFactory = Callable[[Path], Awaitable[JournalPort]]


@dataclass
class GatewayApp:
    config: GatewayConfig
    journal: JournalPort
    service: TradingService
    sessions: SessionRegistry
    deps: ApiDeps
    server: GatewayServer
    metrics: ApiMetrics | None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _expiry: asyncio.Task[None] | None = None
    _expiry_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _venue_watch: asyncio.Task[None] | None = None
    port: int = 0
    metrics_port: int = 0
    console_port: int = 0
    endpoints: OperatorEndpoints | None = None
    claims: Claims | None = None
    fleet: Fleet | None = None
    _unreconciled: list[str] = field(default_factory=list)
    _startup: asyncio.Task[None] | None = None
    # Set once every account is reconciled with its venues (health SERVING).
    serving: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def build(
        cls,
        config: GatewayConfig,
        *,
        venues: VenueFactory | None = None,
        journal_factory: JournalFactory | None = None,
        metrics: bool | None = None,
        key_leases: KeyLeases | None = None,
        endpoints: OperatorEndpoints | None = None,
    ) -> GatewayApp:
        """`endpoints`: metrics and console (built from the config when not given; give them
        to also instrument venues built by `venues`, with `endpoints.telemetry`)."""
        endpoints = endpoints or OperatorEndpoints(config, metrics=metrics)
        # Before anything is opened or signed: this data dir and each account's key are ours
        # alone (see gateway.leases.claims); an account whose key is taken is left out.
        # A fleet gateway leases keys in PostgreSQL instead, account by account (gateway.fleet).
        own_keys = () if config.fleet is not None else config.accounts.values()
        claims = await claim(config.server, own_keys, key_leases)
        if venues is None:
            default = GatewayVenues(config.kraken, journal=config.journal)
            default.telemetry = endpoints.telemetry
            venues = default
            journal_factory = journal_factory or default.open_journal
        holder = None
        if config.fleet is not None:
            from gateway.fleet import fleet_instance
            from gateway.leases.postgres import holder_name

            holder = holder_name(fleet_instance(config.fleet.instance))
        if isinstance(venues, GatewayVenues) and config.fleet is not None and holder:
            # A frozen gateway's journal writer must not hold lease-row locks past the TTL.
            venues.stall_timeout_s = config.fleet.lease_ttl_s
            venues.application_name = holder
        try:
            if journal_factory is None:
                stall = None if config.fleet is None else config.fleet.lease_ttl_s
                journal = await open_journal(
                    config.journal,
                    config.server.data_dir,
                    stall_timeout_s=stall,
                    application_name=holder or "",
                )
            else:
                journal = await journal_factory(config.server.data_dir)
        except BaseException:
            await claims.release()
            raise
        served = [a for a in own_keys if a.name not in claims.refused]
        marks = LiveSessionMarks(config.server.data_dir)
        were_live = marks.were_live()
        service = TradingService(journal)
        closers: list[Callable[[], Awaitable[None]]] = []
        guards: dict[str, Sequence[SessionGuard]] = {}
        venue_health: dict[str, list[VenueStatusPort]] = {}
        try:
            await service.start()
            for account in served:
                bound = await _bind_with_retries(venues, account, config.server.startup_retry_s)
                closers.extend(bound.closers)
                if account.name in were_live:
                    for guard in bound.session_guards:
                        guard.restarted()  # before anything else goes to the venue
                venue_health[account.name] = _health_ports(bound)
                await wire_account(service, account, bound, guards)
                # Reconciled once serving (start): until then new orders are refused.
                service.hold_new_orders(account.name)
            service.data.set_profiles(_profiles(config))
        except BaseException:
            for close in closers:
                await close()
            await journal.close()
            await claims.release()
            raise
        sessions = SessionRegistry(
            config.accounts,
            heartbeat_interval_s=config.server.heartbeat_interval_s,
            heartbeat_timeout_s=config.server.heartbeat_timeout_s,
            refused_accounts=claims.refused,
        )
        deps = ApiDeps(service=service, sessions=sessions, venue_health=venue_health)
        sessions.add_end_hook(cancel_on_disconnect_hook(deps))
        _guard_sessions(sessions, guards, marks)
        fleet = None
        if config.fleet is not None:
            from gateway.fleet import Fleet

            async def wire(account: AccountConfig, bound: AccountVenues) -> None:
                await wire_account(service, account, bound, guards)
                venue_health[account.name] = _health_ports(bound)

            try:
                fleet = await Fleet.open(
                    config, journal, venues, deps, wire, guards, claims.refused
                )
            except BaseException:
                await service.close()
                await journal.close()
                await claims.release()
                raise
        endpoints.attach(service, sessions, journal)
        api_metrics = endpoints.metrics.api if endpoints.metrics is not None else None
        if api_metrics is not None and fleet is not None:
            api_metrics.watch_key_leases(fleet.instance, fleet.held_keys)
        server = GatewayServer(deps, TokenAuthenticator(config.sessions.values()), api_metrics)
        return cls(
            config=config,
            journal=journal,
            service=service,
            sessions=sessions,
            deps=deps,
            server=server,
            metrics=api_metrics,
            _closers=closers,
            claims=claims,
            fleet=fleet,
            endpoints=endpoints,
            _unreconciled=[a.name for a in served],
        )

    async def start(self, listen: str | None = None, *, wait_serving: bool = True) -> int:
        """Open the port at once (health NOT_SERVING, new orders refused UNAVAILABLE with
        reason RECONCILING), then reconcile every account with its venues in the background,
        retrying venue failures; `serving` is set (and health SERVING) once all are. With
        `wait_serving`, return only then."""
        self.port = await self.server.start(
            listen or self.config.server.listen, self.config.server.tls, serving=False
        )
        self._startup = asyncio.create_task(self._reconcile_then_serve())
        self._expiry = asyncio.create_task(self.sessions.run_expiry(self._expiry_stop))
        if self.fleet is not None:
            await self.fleet.advertise(
                self.config.fleet.advertise_address
                if self.config.fleet is not None and self.config.fleet.advertise_address
                else _reachable(listen or self.config.server.listen, self.port)
            )
            self.fleet.start()
        self._venue_watch = asyncio.create_task(self._watch_venues())
        if self.endpoints is not None:
            await self.endpoints.start()
            self.metrics_port = self.endpoints.metrics_port
            self.console_port = self.endpoints.console_port
        if wait_serving:
            await self.serving.wait()
        return self.port

    async def _reconcile_then_serve(self) -> None:
        await reconcile_until_done(self.service, self._unreconciled)
        await self.server.set_serving()
        self.serving.set()
        log.info("gateway serving: every account reconciled with its venues")

    async def _watch_venues(self) -> None:
        """The venue-bound services' health follows the venues: NOT_SERVING while any account's
        venue is unreachable or in maintenance, SERVING again when it is back. One log line
        per change. Polled: the venue adapters keep their state current on their own."""
        down: dict[str, str] = {}
        while not self._expiry_stop.is_set():
            if not self.serving.is_set():  # not reconciled yet: the server says NOT_SERVING
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._expiry_stop.wait(), VENUE_WATCH_INTERVAL_S)
                continue
            now = {
                account: status
                for account in self.deps.venue_health
                if (status := self.deps.venue_status(account))
            }
            if now != down:
                for account, status in now.items():
                    if down.get(account) != status:
                        log.warning("venue unavailable for account %s: %s", account, status)
                for account in down.keys() - now.keys():
                    log.info("venue available again for account %s", account)
                if bool(now) != bool(down):
                    await self.server.set_venue_serving(not now)
                down = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._expiry_stop.wait(), VENUE_WATCH_INTERVAL_S)

    async def stop(self) -> None:
        """Graceful: drain streams and calls, end sessions, stop the core, close the journal."""
        grace = self.config.server.shutdown_grace_s
        if self.fleet is not None:
            await self.fleet.stop_claiming()
        if self._startup is not None:
            self._startup.cancel()
            await asyncio.gather(self._startup, return_exceptions=True)
        await self.server.stop(grace)
        self._expiry_stop.set()
        if self._expiry is not None:
            await self._expiry
        if self._venue_watch is not None:
            await self._venue_watch
        await self.sessions.end_all()
        await self.service.close()
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()
        if self.fleet is not None:
            await self.fleet.close_venues()
        await self.journal.close()
        log.info("journal closed")
        if self.fleet is not None:  # after the journal's last write: it checks the leases
            await self.fleet.release()
        if self.claims is not None:
            await self.claims.release()
        if self.endpoints is not None:
            await self.endpoints.stop()


def _profiles(config: GatewayConfig) -> dict[str, Subaccount]:
    """Every account profile, with the venue's id of it when configured (for transfers)."""
    return {
        a.name: Subaccount(
            account_id=a.name,
            name=a.subaccount or a.name,
            venue="kraken",
            venue_account_id=a.venue_account_id or "",
        )
        for a in config.accounts.values()
    }


def _health_ports(bound: AccountVenues) -> list[VenueStatusPort]:
    return [
        p.order_entry for p in bound.venues.values() if isinstance(p.order_entry, VenueStatusPort)
    ]


async def wire_account(
    service: TradingService,
    account: AccountConfig,
    bound: AccountVenues,
    guards: dict[str, Sequence[SessionGuard]],
) -> None:
    """Put one account's venues into service (reconcile it afterwards)."""
    for ports in bound.venues.values():
        if ports.instruments is not None:
            service.add_instruments(await ports.instruments.instruments())
        service.attach(account.name, ports)
    if bound.session_guards:
        guards[account.name] = list(bound.session_guards)
    service.set_risk_limits(account.name, _risk(account))


def _guard_sessions(
    sessions: SessionRegistry,
    guards: Mapping[str, Sequence[SessionGuard]],
    marks: LiveSessionMarks,
) -> None:
    """Start and end each account's guards with its key-leasing (trading) sessions. Runs after
    cancel-on-disconnect, so a lost session's own orders are cancelled before a guard lets go.
    While such a session is live its account is marked in the data dir (see gateway.startup)."""

    def started(active: ActiveSession) -> None:
        if active.lease_key is not None and active.account.name in guards:
            marks.mark(active.account.name)
        if active.lease_key is not None:
            for guard in guards.get(active.account.name, ()):
                guard.session_started()

    async def ended(active: ActiveSession, reason: EndReason) -> None:
        if active.lease_key is not None:
            marks.clear(active.account.name)
            for guard in guards.get(active.account.name, ()):
                await guard.session_ended(clean=reason is not EndReason.TIMEOUT)

    # Always: a fleet gateway adds accounts (and their guards) after start.
    sessions.add_logon_hook(started)
    sessions.add_end_hook(ended)


async def _bind_with_retries(
    factory: VenueFactory, account: AccountConfig, retry_for_s: float
) -> AccountVenues:
    """The account's venues; while the venue is unreachable at start-up, retry with backoff
    (one log line per try) for up to `retry_for_s`, then give up with the last refusal."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_for_s
    delay = STARTUP_RETRY_FIRST_S
    attempt = 1
    while True:
        try:
            return await factory(account)
        except Unavailable as exc:
            left = deadline - loop.time()
            if left <= 0:
                raise
            wait = min(delay, left)
            log.warning(
                "venue of account %s unavailable at start-up (try %d: %s); retrying in %.1f s",
                account.name,
                attempt,
                exc.message,
                wait,
            )
            await asyncio.sleep(wait)  # a retry backoff, not a synchronisation
            delay = min(delay * 2, STARTUP_RETRY_MAX_S)
            attempt += 1


def _risk(account: AccountConfig) -> RiskLimits:
    r = account.risk
    return RiskLimits(
        max_order_qty=r.max_order_qty,
        max_notional=r.max_notional,
        price_band_pct=r.price_band_pct,
        max_open_orders=r.max_open_orders,
        allow_no_reference_price=r.allow_no_reference_price,
        reference_max_age_s=r.reference_max_age_s,
        reference_wait_s=r.reference_wait_s,
    )


def _reachable(listen: str, port: int) -> str:
    """The address other machines reach a server listening on `listen` (bound to `port`) at:
    a wildcard host becomes this host's name."""
    host = listen.rpartition(":")[0].strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (naming the wildcard, not binding it)
        host = socket.gethostname()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
