"""Orders are journaled per (account, session, client order id), on SQLite and PostgreSQL: two
sessions' orders under one client id are kept apart with their own fills, and a journal written
before ids were scoped per session is migrated at open and still maps its orders back."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg
import pytest

from gateway.core.model import Fill, Order, OrdStatus, Side
from gateway.core.orders import new_order
from gateway.journal import sqlite as sqlite_journal
from gateway.journal.codec import encode
from gateway.journal.pg_schema import MIGRATIONS
from tests.integration.journal.conftest import PG_PASSWORD_ENV, OpenJournal
from tests.support.venue_double import default_instruments
from tests.unit.core.conftest import limit

NOW = datetime(2026, 1, 1, tzinfo=UTC)
INSTRUMENT = default_instruments("double")[0]
MAPPED = "0b2c1b8e-0000-5000-8000-000000000001"  # a Kraken-side id journaled for "c1"


def _order(session: str, price: str, venue_order_id: str) -> Order:
    placed = new_order(
        account="a1",
        session_id=session,
        request=limit("c1", price=Decimal(price)),
        instrument=INSTRUMENT,
        now=NOW,
    )
    return replace(placed, status=OrdStatus.NEW, venue_order_id=venue_order_id, version=1)


def _fill(order: Order, trade_id: str) -> Fill:
    return Fill(
        trade_id=trade_id,
        account=order.account,
        venue=order.venue,
        symbol=order.symbol,
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or "",
        side=Side.BUY,
        qty=Decimal("0.5"),
        price=order.price or Decimal(0),
    )


def _with_session(order: Order) -> Order:
    return replace(order, fills=tuple(replace(f, session_id=order.session_id) for f in order.fills))


async def test_two_sessions_keep_their_own_order_under_one_client_id(
    open_journal: OpenJournal,
) -> None:
    mine, theirs = _order("s1", "100.0", "O1"), _order("s2", "99.0", "O2")
    assert mine.venue_client_order_id != theirs.venue_client_order_id
    journal = await open_journal()
    await journal.save_orders([mine, theirs])
    mine = replace(mine, fills=(_fill(mine, "T1"),), cum_qty=Decimal("0.5"), version=2)
    theirs = replace(theirs, fills=(_fill(theirs, "T2"),), cum_qty=Decimal("0.5"), version=2)
    await journal.save_orders([mine])
    await journal.save_orders([theirs])  # neither replaces the other
    await journal.close()
    journal = await open_journal()
    try:
        loaded = {o.session_id: o for o in await journal.load_orders("a1")}
        # The fills were journaled without their session (as before fills named one): each
        # comes back with its order's session, from the fills table's session column.
        assert loaded == {"s1": _with_session(mine), "s2": _with_session(theirs)}
        assert [(f.trade_id, f.session_id) for f in loaded["s2"].fills] == [("T2", "s2")]
    finally:
        await journal.close()


def _legacy_payload(order: Order) -> bytes:
    """The order as a gateway before the scoping journaled it (no venue-side id field)."""
    data = orjson.loads(encode(replace(order, fills=())))
    del data["venue_client_order_id"]
    return orjson.dumps(data)


def _legacy_rows(order: Order) -> tuple[tuple[object, ...], tuple[object, ...]]:
    fill = order.fills[0]
    return (
        (
            order.account,
            order.client_order_id,
            order.session_id,
            order.venue,
            order.venue_order_id,
            order.status.value,
            order.is_open,
            order.created_at.isoformat(),
            _legacy_payload(order),
        ),
        (order.account, order.client_order_id, order.venue, fill.trade_id, encode(fill)),
    )


async def _write_legacy_store(store: str, order: Order) -> None:
    """A journal at schema version 0 (SQLite) / 4 (PostgreSQL): orders keyed by (account,
    client_order_id), fills without a session, and one client-id mapping."""
    order_row, fill_row = _legacy_rows(order)
    mapping = ("a1", "kraken", "c1", MAPPED)
    if not store.startswith("postgresql://"):
        conn = sqlite3.connect(Path(store) / sqlite_journal.SqliteJournal.FILENAME)
        conn.executescript(sqlite_journal.SCHEMA)
        conn.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", order_row)
        conn.execute(
            "INSERT INTO fills (account, client_order_id, venue, trade_id, payload) "
            "VALUES (?, ?, ?, ?, ?)",
            fill_row,
        )
        conn.execute("INSERT INTO client_ids VALUES (?, ?, ?, ?)", mapping)
        conn.commit()
        conn.close()
        return
    password = os.environ[PG_PASSWORD_ENV]
    async with await psycopg.AsyncConnection.connect(
        store, password=password, autocommit=True
    ) as conn:
        await conn.execute(
            "CREATE TABLE schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for version, migration in enumerate(MIGRATIONS[:4], start=1):
            await conn.execute(migration)
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        await conn.execute(
            "INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", order_row
        )
        await conn.execute(
            "INSERT INTO fills (account, client_order_id, venue, trade_id, payload) "
            "VALUES (%s, %s, %s, %s, %s)",
            fill_row,
        )
        await conn.execute("INSERT INTO client_ids VALUES (%s, %s, %s, %s)", mapping)


async def test_a_journal_from_before_the_scoping_is_migrated_and_maps_back(
    journal_store: str, open_journal: OpenJournal
) -> None:
    old = replace(_order("s1", "100.0", "O1"), venue_client_order_id=None)
    old = replace(old, fills=(_fill(old, "T1"),), cum_qty=Decimal("0.5"))
    await _write_legacy_store(journal_store, old)
    journal = await open_journal()
    try:
        (loaded,) = await journal.load_orders("a1")
        # The venue knows it as it was sent; the fill gets its session from the migration.
        assert loaded == _with_session(old) and loaded.id_at_venue == "c1"
        assert loaded.fills[0].session_id == "s1"
        got = await journal.client_order_id_for(
            "a1", "kraken", "0b2c1b8e-0000-5000-8000-000000000001"
        )
        assert got == "c1"
        # Another session may now use the id: a second order beside the first.
        theirs = _order("s2", "99.0", "O2")
        await journal.save_orders([theirs, replace(loaded, status=OrdStatus.CANCELED, version=2)])
        loaded_now = {o.session_id: o for o in await journal.load_orders("a1")}
        assert loaded_now["s2"] == theirs
        assert loaded_now["s1"].status is OrdStatus.CANCELED
        assert loaded_now["s1"].fills == loaded.fills
    finally:
        await journal.close()


async def test_a_sqlite_file_migrated_by_a_newer_gateway_is_refused(tmp_path: Path) -> None:
    journal = await sqlite_journal.SqliteJournal.open(tmp_path)
    await journal.close()
    conn = sqlite3.connect(tmp_path / sqlite_journal.SqliteJournal.FILENAME)
    conn.execute(f"PRAGMA user_version = {sqlite_journal.LATEST + 1}")
    conn.close()
    with pytest.raises(sqlite_journal.SchemaTooNew, match="newer than this gateway"):
        await sqlite_journal.SqliteJournal.open(tmp_path)
