"""Make a real SQLite journal fail the way a full disk does, and recover."""

from __future__ import annotations

from gateway.journal import SqliteJournal


def disk_full(journal: SqliteJournal, full: bool) -> None:
    """Cap the journal file at its current size, so SQLite fails the next commit that needs a
    new page with SQLITE_FULL ("database or disk is full"), or lift the cap. (Less strict than
    a full disk: a write that fits in a page's free space still succeeds.)"""
    conn = journal._write_conn
    assert conn is not None
    with journal._commit_lock:  # between two commits of the writer
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count={pages if full else 1 << 30}")
