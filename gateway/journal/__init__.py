"""Durable store of execution reports, orders, client-id mappings and nonces.

The core only sees `gateway.core.ports.JournalPort`; this package holds its backends (SQLite now;
a PostgreSQL module can sit beside it) plus the backend-neutral live hub and codec.
"""

from gateway.journal.hub import ReportHub, Subscription
from gateway.journal.sqlite import SqliteJournal

__all__ = ["ReportHub", "SqliteJournal", "Subscription"]
