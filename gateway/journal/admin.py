"""`kraken-gateway db migrate|status`: the PostgreSQL journal's schema, from the command line.

The gateway applies missing migrations itself at start; `migrate` lets an operator do it ahead
of a rollout, `status` tells whether a database is behind, current, or newer than this build.
"""

from __future__ import annotations

from typing import Any

import psycopg

from gateway.config import JournalConfig
from gateway.journal.pg_schema import LATEST, current_version, migrate
from gateway.journal.postgres import JournalUnavailable
from gateway.leases.postgres import lease_holders

__all__ = ["db_migrate", "db_status"]


async def _connect(config: JournalConfig) -> psycopg.AsyncConnection[Any]:
    assert config.url is not None
    kwargs: dict[str, Any] = {"autocommit": True}
    if config.password is not None:
        kwargs["password"] = config.password.reveal()
    try:
        return await psycopg.AsyncConnection.connect(config.url, **kwargs)
    except psycopg.OperationalError as exc:
        raise JournalUnavailable(f"cannot connect to the journal database: {exc}") from None


async def db_status(config: JournalConfig) -> tuple[int, str]:
    """(exit code, text): 0 when the schema is this build's, 1 when behind or newer. A current
    schema is followed by the fleet's key leases, one line per key: fingerprint, instance,
    address, fencing token, and until when (or since when expired)."""
    async with await _connect(config) as conn:
        version = await current_version(conn)
        holders = await lease_holders(conn) if version == LATEST else []
    if version == LATEST:
        lines = [f"journal schema version {version}: up to date"]
        lines.append(f"key leases: {len(holders)}" if holders else "key leases: none")
        for h in holders:
            if h.expires_at is None:
                state = "released"
            else:
                when = h.expires_at.isoformat(timespec="seconds")
                state = f"held until {when}" if h.live else f"expired at {when}"
            lines.append(
                f"  key {h.key}  instance {h.instance or '-'}  address {h.address or '-'}  "
                f"token {h.token}  {state}"
            )
        return 0, "\n".join(lines)
    if version < LATEST:
        return 1, (
            f"journal schema version {version}, this gateway needs {LATEST}: run "
            "`kraken-gateway db migrate` (or start the gateway, which migrates)"
        )
    return 1, f"journal schema version {version} is newer than this gateway's {LATEST}"


async def db_migrate(config: JournalConfig) -> tuple[int, str]:
    async with await _connect(config) as conn:
        before, after = await migrate(conn)
    if before == after:
        return 0, f"journal schema version {after}: nothing to migrate"
    return 0, f"journal schema migrated from version {before} to {after}"
