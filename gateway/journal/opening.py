"""Open the journal the config names: PostgreSQL at `[journal] url`, else SQLite in data_dir."""

from __future__ import annotations

from pathlib import Path

from gateway.config import JournalConfig
from gateway.core.ports import JournalPort
from gateway.journal.postgres import PostgresJournal
from gateway.journal.sqlite import SqliteJournal

__all__ = ["open_journal"]


async def open_journal(
    config: JournalConfig,
    data_dir: Path,
    *,
    stall_timeout_s: float | None = None,
    application_name: str = "",
) -> JournalPort:
    """`stall_timeout_s`, `application_name` (PostgreSQL): see PostgresJournal.open; a fleet
    passes its lease TTL and lease holder name."""
    if config.url is None:
        return await SqliteJournal.open(data_dir)
    return await PostgresJournal.open(
        config.url,
        password=None if config.password is None else config.password.reveal(),
        pool_size=config.pool_size,
        stall_timeout_s=5.0 if stall_timeout_s is None else stall_timeout_s,
        application_name=application_name,
    )
