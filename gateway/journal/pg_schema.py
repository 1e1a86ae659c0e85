"""The PostgreSQL journal's schema and its migrations, applied in order at start.

`schema_version` records each applied migration. A gateway applies the ones it lacks (under an
advisory lock, so gateways starting together do not race) and refuses to run against a schema
newer than it knows: an older gateway must not write a layout it does not understand.
"""

from __future__ import annotations

from typing import Any

import psycopg

from gateway.core.errors import FailedPrecondition

__all__ = ["LATEST", "MIGRATIONS", "SchemaTooNew", "current_version", "migrate"]

# Migration N (1-based) brings the schema from version N-1 to N. Append only; never edit one
# that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reports (
        gseq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        account TEXT NOT NULL,
        aseq BIGINT NOT NULL,
        exec_id TEXT NOT NULL UNIQUE,
        payload BYTEA NOT NULL
    );
    CREATE UNIQUE INDEX reports_session ON reports (session_id, seq);
    CREATE UNIQUE INDEX reports_account ON reports (account, aseq);
    -- The last sequence of each stream, written in the transaction of its reports; a session
    -- stream also names its account, so a gateway taking an account over finds its sessions.
    CREATE TABLE sequences (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        account TEXT NOT NULL,
        last BIGINT NOT NULL,
        PRIMARY KEY (scope, name)
    );
    CREATE INDEX sequences_account ON sequences (account);
    CREATE TABLE orders (
        account TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        venue TEXT NOT NULL,
        venue_order_id TEXT,
        status TEXT NOT NULL,
        is_open BOOLEAN NOT NULL,
        created_at TEXT NOT NULL,
        payload BYTEA NOT NULL,
        PRIMARY KEY (account, client_order_id)
    );
    CREATE INDEX orders_open ON orders (is_open, account);
    CREATE TABLE fills (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        venue TEXT NOT NULL,
        trade_id TEXT NOT NULL,
        payload BYTEA NOT NULL,
        UNIQUE (account, venue, trade_id)
    );
    CREATE INDEX fills_order ON fills (account, client_order_id);
    CREATE TABLE client_ids (
        account TEXT NOT NULL,
        venue TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        venue_client_id TEXT NOT NULL,
        PRIMARY KEY (account, venue, client_order_id)
    );
    CREATE UNIQUE INDEX client_ids_venue ON client_ids (account, venue, venue_client_id);
    CREATE TABLE nonces (
        key_id TEXT PRIMARY KEY,
        last BIGINT NOT NULL
    );
    """,
    """
    -- Key leases of a fleet (gateway.leases.postgres): one row per key fingerprint. `token`
    -- only grows (fencing); `expires_at` is the database's clock.
    CREATE TABLE key_leases (
        key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        token BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );
    """,
    """
    -- Who holds a lease, for clients and operators: the holder's [fleet] instance name and the
    -- gRPC address it advertises (a gateway refusing a moved session names it).
    ALTER TABLE key_leases
        ADD COLUMN instance TEXT NOT NULL DEFAULT '',
        ADD COLUMN address TEXT NOT NULL DEFAULT '';
    """,
    """
    -- Small gateway state that survives restarts (gateway.journal save_record): an engaged
    -- kill switch, the result of a transfer by its client_transfer_id.
    CREATE TABLE records (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    """,
    """
    -- Client order ids are scoped per session: an order's key gains its session, and a fill
    -- names its order's session (taken from the order it belongs to).
    ALTER TABLE orders DROP CONSTRAINT orders_pkey;
    ALTER TABLE orders ADD PRIMARY KEY (account, session_id, client_order_id);
    ALTER TABLE fills ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
    UPDATE fills f SET session_id = o.session_id FROM orders o
        WHERE o.account = f.account AND o.client_order_id = f.client_order_id;
    DROP INDEX fills_order;
    CREATE INDEX fills_order ON fills (account, session_id, client_order_id);
    """,
)
LATEST = len(MIGRATIONS)
_LOCK_ID = 0x6B72616B656E6777  # pg_advisory_xact_lock key: "krakengw"


class SchemaTooNew(FailedPrecondition):
    """The database was migrated by a newer gateway than this one."""


async def current_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """The applied schema version (0: an empty database)."""
    cur = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    row = await cur.fetchone()
    if row is None or not row[0]:
        return 0
    cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(conn: psycopg.AsyncConnection[Any]) -> tuple[int, int]:
    """Apply the missing migrations; returns (version before, version after)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        before = await current_version(conn)
        if before > LATEST:
            raise SchemaTooNew(
                f"the journal database has schema version {before}, newer than this gateway's "
                f"{LATEST}; run a gateway at least as new as the one that migrated it"
            )
        for version in range(before + 1, LATEST + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    return before, LATEST
