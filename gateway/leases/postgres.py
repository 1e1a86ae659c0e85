"""Key leases in PostgreSQL (table `key_leases`, created by the journal's migrations), for a
fleet of gateways on any number of machines sharing one database.

A lease lasts `ttl_s` on the database's clock and is renewed by its holder's heartbeat. A key
is free when nobody ever held it, when its holder released it, or when its lease expired (a
dead or frozen holder); taking it bumps the fencing token. Renewing needs the same holder and
token and an unexpired lease: a holder that was frozen past its expiry has lost the key even if
nobody took it yet, and must acquire it again (a new token).

`valid_until` is the holder's own, conservative view: the monotonic time the acquire or renew
was *sent* plus the TTL, so it ends before the database's expiry. A holder must not sign after
it (see gateway/leases/fence.py). `check_in(conn, lease)` is the journal-side fence: run inside
a write transaction, it locks the lease row (FOR SHARE, so a takeover waits for that commit)
and fails unless the lease is still this holder's, unexpired, with the same token.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from gateway.core.leases import KeyInUse, KeyLease, LeaseLost

__all__ = ["LeaseHolder", "PostgresKeyLeases", "check_in", "holder_name", "lease_holders"]


def holder_name(instance: str) -> str:
    """A gateway process's name in the lease table, and the `application_name` of its journal
    writer's database session (so a taker can end a frozen holder's session, see acquire)."""
    return f"{instance} pid {os.getpid()}"[:63]  # application_name keeps 63 bytes


Conn = psycopg.AsyncConnection[Any]

_ACQUIRE = """
INSERT INTO key_leases AS l (key, holder, token, expires_at, instance, address)
VALUES (
    %(key)s, %(holder)s, 1, now() + make_interval(secs => %(ttl)s), %(instance)s, %(address)s
)
ON CONFLICT (key) DO UPDATE
    SET holder = excluded.holder, token = l.token + 1, expires_at = excluded.expires_at,
        instance = excluded.instance, address = excluded.address
    WHERE l.expires_at <= now()
RETURNING token
"""
_RENEW = """
UPDATE key_leases
SET expires_at = now() + make_interval(secs => %(ttl)s), address = %(address)s
WHERE key = %(key)s AND holder = %(holder)s AND token = %(token)s AND expires_at > now()
RETURNING token
"""
_RELEASE = """
UPDATE key_leases SET expires_at = '-infinity', holder = ''
WHERE key = %(key)s AND holder = %(holder)s AND token = %(token)s
"""
_HOLDERS = """
SELECT key, instance, address, holder, token,
    CASE WHEN expires_at = '-infinity' THEN NULL ELSE expires_at END, expires_at > now()
FROM key_leases ORDER BY key
"""
# A takeover blocked by the row lock of a holder whose lease has expired (a gateway frozen in
# the middle of sending a journal batch: the server waits inside the statement, where neither
# statement_timeout nor idle_in_transaction_session_timeout applies) ends that holder's journal
# sessions. It had lost the lease already (the database's clock says so); its writer reconnects
# if it ever runs again, and its writes stay fenced by the token.
_EVICT = """
SELECT pg_terminate_backend(a.pid)
FROM pg_stat_activity a JOIN key_leases l ON l.key = %(key)s
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND l.holder <> '' AND l.holder <> %(holder)s AND l.expires_at <= now()
  AND a.application_name = l.holder
"""
_CHECK = """
SELECT 1 FROM key_leases
WHERE key = %(key)s AND holder = %(holder)s AND token = %(token)s AND expires_at > now()
FOR SHARE
"""


@dataclass(frozen=True)
class LeaseHolder:
    """One row of the lease table: who holds (or last held) a key, and until when."""

    key: str
    instance: str
    address: str
    holder: str
    token: int
    expires_at: datetime | None  # None: released
    live: bool


async def lease_holders(conn: Conn) -> list[LeaseHolder]:
    """Every key's lease, live or expired, by key."""
    cur = await conn.execute(_HOLDERS)
    return [
        LeaseHolder(str(k), str(i), str(a), str(h), int(t), e, bool(v))
        for k, i, a, h, t, e, v in await cur.fetchall()
    ]


async def check_in(conn: Conn, lease: KeyLease) -> None:
    """Inside a write transaction: raise LeaseLost unless `lease` still holds."""
    cur = await conn.execute(
        _CHECK, {"key": lease.key, "holder": lease.holder, "token": lease.token}
    )
    if await cur.fetchone() is None:
        raise LeaseLost(
            f"the lease on API key {lease.key} (token {lease.token}) is no longer ours; "
            "nothing is written for it"
        )


class _Session:
    """One database connection, one statement at a time, reconnected when it broke."""

    def __init__(self, conn: Conn, reconnect: Callable[[], Awaitable[Conn]] | None) -> None:
        self.conn = conn
        self._reconnect = reconnect
        self._lock = asyncio.Lock()

    async def one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        async with self._lock:
            conn = await self._usable()
            cur = await conn.execute(sql, params)
            return await cur.fetchone() if cur.description is not None else None

    async def holders(self) -> list[LeaseHolder]:
        async with self._lock:
            return await lease_holders(await self._usable())

    async def _usable(self) -> Conn:
        if (self.conn.closed or self.conn.broken) and self._reconnect is not None:
            self.conn = await self._reconnect()
        return self.conn

    async def close(self) -> None:
        await self.conn.close()


class PostgresKeyLeases:
    """`KeyLeases` in a shared PostgreSQL table. Create with `await PostgresKeyLeases.open()`.

    Renewals run on a connection of their own: a takeover's acquire may wait on a row lock (up
    to the lock timeout), and that must never hold up the renewal of the leases already held.
    """

    def __init__(
        self,
        conn: Conn,
        holder: str,
        ttl_s: float,
        instance: str = "",
        *,
        renew_conn: Conn | None = None,
        connect: Callable[[], Awaitable[Conn]] | None = None,
    ) -> None:
        self._holder = holder
        self._instance = instance
        # The gRPC address this holder advertises (set once the server listens; written with
        # every acquire and renew).
        self.address = ""
        self._ttl = ttl_s
        self._session = _Session(conn, connect)
        self._renewals = self._session if renew_conn is None else _Session(renew_conn, connect)
        self._held: dict[str, KeyLease] = {}

    @classmethod
    async def open(
        cls, url: str, *, password: str | None, holder: str, ttl_s: float, instance: str = ""
    ) -> PostgresKeyLeases:
        # A row lock held by a frozen gateway's journal transaction must not stall the
        # heartbeat: give up after a third of the TTL and try again at the next one.
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "options": f"-c lock_timeout={max(1, int(ttl_s * 1000 / 3))}",
        }
        if password is not None:
            kwargs["password"] = password

        def connect() -> Awaitable[Conn]:
            return psycopg.AsyncConnection.connect(url, **kwargs)

        conn: Conn = await connect()
        try:
            renew_conn: Conn = await connect()
        except BaseException:
            await conn.close()
            raise
        return cls(conn, holder, ttl_s, instance, renew_conn=renew_conn, connect=connect)

    @property
    def ttl_s(self) -> float:
        return self._ttl

    async def _one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return await self._session.one(sql, params)

    async def acquire(self, key: str) -> KeyLease:
        sent = time.monotonic()
        params = {
            "key": key,
            "holder": self._holder,
            "ttl": self._ttl,
            "instance": self._instance,
            "address": self.address,
        }
        try:
            row = await self._one(_ACQUIRE, params)
        except psycopg.errors.LockNotAvailable:
            await self._one(_EVICT, {"key": key, "holder": self._holder})
            raise
        if row is None:
            held = await self._one(
                "SELECT holder FROM key_leases WHERE key = %(key)s", {"key": key}
            )
            raise KeyInUse(key, str(held[0]) if held else "unknown holder")
        lease = KeyLease(key, self._holder, int(row[0]), sent + self._ttl)
        self._held[key] = lease
        return lease

    async def renew(self, lease: KeyLease) -> KeyLease:
        sent = time.monotonic()
        params = {
            "key": lease.key,
            "holder": lease.holder,
            "token": lease.token,
            "ttl": self._ttl,
            "address": self.address,
        }
        if await self._renewals.one(_RENEW, params) is None:
            self._held.pop(lease.key, None)
            raise LeaseLost(
                f"the lease on API key {lease.key} (token {lease.token}) expired or was taken"
            )
        renewed = KeyLease(lease.key, lease.holder, lease.token, sent + self._ttl)
        self._held[lease.key] = renewed
        return renewed

    async def holders(self) -> list[LeaseHolder]:
        """The lease table as it is now (see `lease_holders`)."""
        return await self._session.holders()

    async def release(self, lease: KeyLease) -> None:
        self._held.pop(lease.key, None)
        await self._one(_RELEASE, {"key": lease.key, "holder": lease.holder, "token": lease.token})

    async def close(self) -> None:
        try:
            for lease in list(self._held.values()):
                await self.release(lease)
        finally:
            await self._session.close()
            if self._renewals is not self._session:
                await self._renewals.close()
