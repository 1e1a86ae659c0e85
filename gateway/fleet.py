"""A fleet: several gateways share one PostgreSQL journal and its key leases (`[fleet]`).

Every gateway of the fleet is configured with the same accounts and sessions. An account is
served by the one gateway that holds the leases of its keys (accounts without keys: a lease
named after the account); the others refuse its logons with UNAVAILABLE / SESSION_MOVED,
naming the instance that serves it and the gRPC address that instance advertises (ErrorInfo
metadata "instance", "address") when the lease table knows them, so a client configured with
several addresses moves there. Which gateway serves
what: each takes free accounts first come, among `[fleet] accounts` (default: all) and up to
`max_accounts` at once. Disjoint `accounts` lists pin accounts to gateways (static); overlapping
lists with a cap make a shared pool.

Every `lease_ttl_s / 3` each gateway renews its leases (the heartbeat) and, apart from that,
tries to take free accounts. The two run as separate tasks, and renewals on a database
connection of their own: taking an account (building its venue, reconciling it, which can
outlast the TTL on a loaded machine) never holds up the renewal of the leases already held,
including the ones it just took. A gateway that dies stops renewing; once its leases expire
another gateway takes its accounts: it reads their sequences and orders from the shared
journal, reconciles with the venue, and serves them, so a client that resumes its stream there
sees no gap and no duplicate.

A gateway that loses a lease (it was frozen or cut off past the TTL, or another took the key)
logs one line and signs and writes nothing more for that account: its sends are fenced by its
own clock, checked right before each signed request is written (gateway/leases/fence.py), its
journal writes by the lease's fencing token in the database. It does not take that account
again before it restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

import psycopg

from gateway.api.deps import ApiDeps
from gateway.config import AccountConfig, ConfigError, GatewayConfig
from gateway.core.errors import GatewayError
from gateway.core.leases import KeyInUse, KeyLease, LeaseLost
from gateway.core.ports import AccountVenues, JournalPort, SessionGuard
from gateway.journal.postgres import PostgresJournal
from gateway.leases.fence import AccountFence, FencedGuard, FencedOrderEntry
from gateway.leases.postgres import LeaseHolder, PostgresKeyLeases, holder_name
from gateway.sessions.errors import SessionMovedError

__all__ = ["Fleet", "fleet_instance", "lease_keys"]

log = logging.getLogger(__name__)


def fleet_instance(configured: str | None) -> str:
    """This gateway's instance name: the configured one, else host and pid."""
    return configured or f"{socket.gethostname()}-{os.getpid()}"


def lease_keys(account: AccountConfig) -> list[str]:
    """The leases an account is served under: its keys' fingerprints, else its name's hash."""
    keys = list(account.key_fingerprints)
    if keys:
        return keys
    return ["account-" + hashlib.sha256(account.name.encode()).hexdigest()[:12]]


VenueFactory = Callable[[AccountConfig], Awaitable[AccountVenues]]
# wire(account, venues): put an account's venues into service (gateway.app.wire_account)
Wire = Callable[[AccountConfig, AccountVenues], Awaitable[None]]


@dataclass
class _Served:
    fence: AccountFence
    venues: AccountVenues | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class Fleet:
    def __init__(
        self,
        config: GatewayConfig,
        leases: PostgresKeyLeases,
        journal: PostgresJournal,
        factory: VenueFactory,
        deps: ApiDeps,
        wire: Wire,
        guards: dict[str, Sequence[SessionGuard]],
        refused: dict[str, str | GatewayError],
        holder: str,
        instance: str = "",
    ) -> None:
        assert config.fleet is not None
        self._config = config
        self._fleet = config.fleet
        self._leases = leases
        self._journal = journal
        self._factory = factory
        self._deps = deps
        self._wire = wire
        self._guards = guards
        self._refused = refused
        self.holder = holder
        self.instance = instance
        self._served: dict[str, _Served] = {}
        self._lost: set[str] = set()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._renew_lock = asyncio.Lock()  # one renewal round at a time
        self._claim_lock = asyncio.Lock()  # one takeover round at a time

    @classmethod
    async def open(
        cls,
        config: GatewayConfig,
        journal: JournalPort,
        factory: VenueFactory,
        deps: ApiDeps,
        wire: Wire,
        guards: dict[str, Sequence[SessionGuard]],
        refused: dict[str, str | GatewayError],
    ) -> Fleet:
        """Connect the leases and take the first accounts (before the server listens)."""
        fleet = config.fleet
        assert fleet is not None and config.journal.url is not None
        if not isinstance(journal, PostgresJournal):
            raise ConfigError("fleet needs the PostgreSQL journal ([journal] url)")
        instance = fleet_instance(fleet.instance)
        holder = holder_name(instance)
        password = config.journal.password
        leases = await PostgresKeyLeases.open(
            config.journal.url,
            password=None if password is None else password.reveal(),
            holder=holder,
            ttl_s=fleet.lease_ttl_s,
            instance=instance,
        )
        for name in config.accounts:
            refused[name] = _moved(name, instance, None)
        self = cls(config, leases, journal, factory, deps, wire, guards, refused, holder, instance)
        deps.placement = self.placement
        try:
            await self.step()
        except BaseException:
            await self.close_venues()
            await leases.close()
            raise
        return self

    @property
    def served(self) -> list[str]:
        return sorted(self._served)

    def placement(self, account: str) -> tuple[str, tuple[str, ...]]:
        """(this instance, the key fingerprints it leases) for an account it serves."""
        served = self._served.get(account)
        if served is None:
            return "", ()
        return self.instance, tuple(lease.key for lease in served.fence.leases)

    def held_keys(self) -> list[str]:
        """Fingerprints of every key this instance holds a lease on now."""
        return sorted(lease.key for s in self._served.values() for lease in s.fence.leases)

    async def advertise(self, address: str) -> None:
        """Name the gRPC address clients reach this instance at, in its leases (written with
        the next renewal: called right after the server starts listening, it renews now)."""
        self._leases.address = address
        await self.step()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(self.renew, "renewal"), name="fleet-heartbeat"),
            asyncio.create_task(self._every(self.claim, "takeover"), name="fleet-claims"),
        ]

    async def _every(self, beat: Callable[[], Awaitable[None]], what: str) -> None:
        tick = self._fleet.lease_ttl_s / 3
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=tick)
            if self._stop.is_set():
                return
            try:
                await beat()
            except Exception:
                log.exception("fleet %s round failed; retrying at the next one", what)

    async def step(self) -> None:
        """Renew what is held, then take free accounts (at start, and once the address is
        known; afterwards the two run on their own, see `start`)."""
        await self.renew()
        await self.claim()

    async def renew(self) -> None:
        """One heartbeat: renew every lease held, losing the accounts whose leases are gone.
        Never waits for a takeover: an account being taken is renewed like the others."""
        async with self._renew_lock:
            for name, served in list(self._served.items()):
                try:
                    renewed = [await self._leases.renew(lease) for lease in served.fence.leases]
                except LeaseLost:
                    if self._served.get(name) is served:  # not given up meanwhile
                        await self._lose(name, served)
                except psycopg.Error as exc:
                    # The database is unreachable: keep trying; the fence's own clock stops
                    # the sends once the lease may have expired.
                    log.warning("fleet: cannot renew the lease of account %r: %s", name, exc)
                else:
                    if self._served.get(name) is served and not served.fence.lost:
                        served.fence.leases = renewed

    async def claim(self) -> None:
        """Take free accounts (up to the cap), and point the others' refusals at their holder."""
        async with self._claim_lock:
            await self._take_free()
            await self._point_elsewhere()

    async def _point_elsewhere(self) -> None:
        """Refusals of the accounts served elsewhere name their holder as the table has it."""
        try:
            rows = {row.key: row for row in await self._leases.holders()}
        except psycopg.Error as exc:
            log.info("fleet: cannot read the lease table now: %s", exc)
            return
        for name, account in self._config.accounts.items():
            if name in self._served:
                continue
            live = [rows[k] for k in lease_keys(account) if k in rows and rows[k].live]
            holder = next((r for r in live if r.holder != self.holder), None)
            self._refused[name] = _moved(name, self.instance, holder)

    def _candidates(self) -> list[AccountConfig]:
        allowed = self._fleet.accounts
        return [
            account
            for name, account in self._config.accounts.items()
            if (allowed is None or name in allowed)
            and name not in self._served
            and name not in self._lost
        ]

    async def _take_free(self) -> None:
        cap = self._fleet.max_accounts
        for account in self._candidates():
            if cap is not None and len(self._served) >= cap:
                return
            held: list[KeyLease] = []
            try:
                for key in lease_keys(account):
                    held.append(await self._leases.acquire(key))
            except (KeyInUse, psycopg.Error) as exc:
                # Held elsewhere, or its row is locked by a (frozen?) holder's transaction, or
                # the database is unreachable: try again at the next heartbeat.
                if isinstance(exc, psycopg.Error):
                    log.info("fleet: cannot take account %r now: %s", account.name, exc)
                for lease in held:
                    with contextlib.suppress(psycopg.Error):
                        await self._leases.release(lease)
                continue
            served = _Served(AccountFence(account.name, held))
            self._served[account.name] = served  # renewed by the heartbeat from now on
            try:
                await self._take(account, served)
            except Exception:
                if self._served.get(account.name) is not served:
                    # The heartbeat lost its lease meanwhile (and said so): undo what the
                    # takeover put in place after that.
                    await self._retire(account.name, served)
                    continue
                log.exception("fleet: taking account %r failed; will retry", account.name)
                served.fence.lost = True  # its journal writes stay refused until retaken
                del self._served[account.name]
                await self._retire(account.name, served)
                for lease in served.fence.leases:
                    with contextlib.suppress(psycopg.Error):
                        await self._leases.release(lease)

    async def _take(self, account: AccountConfig, served: _Served) -> None:
        name = account.name
        fence = served.fence
        self._journal.fence(name, fence.check_in, fence.check)
        # Continue where the last holder left off: its sequences and orders are in the journal.
        await self._journal.adopt([name])
        service = self._deps.service
        await service.load_account(name)
        guard_requests = getattr(self._factory, "guard_requests", None)
        if guard_requests is not None:
            guard_requests(name, fence.check, fence.request_headers())
        bound = await self._factory(account)
        served.closers = list(bound.closers)
        fence.check()  # lost while the venue was built: stop here (see _take_free)
        bound = replace(
            bound,
            venues={
                venue: replace(
                    ports,
                    order_entry=FencedOrderEntry(ports.order_entry, fence),
                    session_guards=[FencedGuard(g, fence) for g in ports.session_guards],
                )
                for venue, ports in bound.venues.items()
            },
        )
        served.venues = bound
        await self._wire(account, bound)
        fence.check()
        await service.reconcile(name)  # its sends are fenced; its writes too, by token
        fence.check()
        self._refused.pop(name, None)
        tokens = ",".join(str(lease.token) for lease in fence.leases)
        log.info(
            f"fleet: serving account {name!r}",
            extra={"account": name, "lease_tokens": tokens, "holder": self.holder},
        )

    async def _lose(self, name: str, served: _Served) -> None:
        served.fence.lost = True  # first: nothing more is sent for it from here on
        del self._served[name]
        self._lost.add(name)
        log.error(
            f"fleet: lost the key lease of account {name!r} (expired or taken by another "
            "gateway); this gateway signs and writes nothing more for it",
            extra={"account": name, "holder": self.holder},
        )
        self._refused[name] = _moved(name, self.instance, None)
        await self._deps.sessions.end_account(name)
        await self._retire(name, served)

    async def _retire(self, name: str, served: _Served) -> None:
        """Take an account's venues out of service and close them."""
        if served.venues is not None:
            for venue in served.venues.venues:
                self._deps.service.detach_venue(name, venue)
            served.venues = None
        self._guards.pop(name, None)
        await self._close(served)

    @staticmethod
    async def _close(served: _Served) -> None:
        for close in served.closers:
            with contextlib.suppress(Exception):
                await close()
        served.closers = []

    async def stop_claiming(self) -> None:
        self._stop.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await task

    async def close_venues(self) -> None:
        for served in self._served.values():
            await self._close(served)

    async def release(self) -> None:
        """Give every lease up (a graceful stop: the fleet need not wait for the TTL)."""
        await self.stop_claiming()
        self._served.clear()
        await self._leases.close()


def _moved(account: str, instance: str, holder: LeaseHolder | None) -> SessionMovedError:
    """The refusal of a logon for an account this instance does not serve."""
    if holder is None:
        return SessionMovedError(
            f"account {account!r} is not served by this gateway ({instance}) now; try another "
            "gateway of the fleet"
        )
    where = f" at {holder.address}" if holder.address else ""
    return SessionMovedError(
        f"account {account!r} is served by fleet instance {holder.instance!r}{where}; log on there",
        metadata={"instance": holder.instance, "address": holder.address},
    )
