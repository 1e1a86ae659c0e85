"""Durable store of execution reports, orders, client-id mappings and nonces.

The core only sees `gateway.core.ports.JournalPort`; this package holds its backends (SQLite in
the data directory, PostgreSQL for a shared store) plus the backend-neutral live hub and codec.
"""

from gateway.journal.hub import ReportHub, Subscription
from gateway.journal.postgres import PostgresJournal
from gateway.journal.sqlite import SqliteJournal

__all__ = ["PostgresJournal", "ReportHub", "SqliteJournal", "Subscription"]
