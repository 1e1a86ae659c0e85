"""The SQLite journal (WAL) behind `JournalPort`.

One writer thread owns the only write connection. Writes are queued in call order; the writer
takes everything queued so far and commits it as one transaction (group commit), so under load
each commit carries many reports. Sequences are assigned by the writer, in queue order, from
counters that are loaded at open and written in the same transaction as the reports: a crash
(even kill -9) loses nothing that was committed and never reuses a sequence. Reads run on a small
thread pool with their own connections, so the event loop never blocks on SQLite.

`synchronous=NORMAL` (the default) survives process crashes; choose FULL to also survive power
loss, at the cost of an fsync per group commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from gateway.core.errors import FailedPrecondition
from gateway.core.model import ExecutionReport, Fill, Order
from gateway.core.ports import AppendResult
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.journal.codec import decode, decode_report, encode, report_row
from gateway.journal.hub import ReportHub, ReportListener, Subscription

log = logging.getLogger(__name__)
T = TypeVar("T")
Synchronous = Literal["NORMAL", "FULL"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    gseq INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    account TEXT NOT NULL,
    aseq INTEGER NOT NULL,
    exec_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS reports_session ON reports (session_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS reports_account ON reports (account, aseq);
CREATE TABLE IF NOT EXISTS sequences (
    scope TEXT NOT NULL,          -- 'session' or 'account'
    name TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
    account TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    venue_order_id TEXT,
    status TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (account, client_order_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_open ON orders (is_open, account);
CREATE TABLE IF NOT EXISTS fills (
    account TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    UNIQUE (account, venue, trade_id)
);
CREATE INDEX IF NOT EXISTS fills_order ON fills (account, client_order_id);
CREATE TABLE IF NOT EXISTS client_ids (
    account TEXT NOT NULL,
    venue TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    venue_client_id TEXT NOT NULL,
    PRIMARY KEY (account, venue, client_order_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS client_ids_venue ON client_ids (account, venue, venue_client_id);
CREATE TABLE IF NOT EXISTS nonces (
    key_id TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
# SCHEMA is the layout of version 0, kept as it shipped; MIGRATIONS[n - 1] brings a file from
# version n - 1 to n, in the transaction that records n in `PRAGMA user_version`. Append only;
# never edit one that has shipped. (The PostgreSQL journal has the same steps, pg_schema.py.)
MIGRATIONS: tuple[str, ...] = (
    """
    -- Client order ids are scoped per session: an order's key gains its session, and a fill
    -- names its order's session (taken from the order it belongs to).
    CREATE TABLE orders_by_session (
        account TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        venue TEXT NOT NULL,
        venue_order_id TEXT,
        status TEXT NOT NULL,
        is_open INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (account, session_id, client_order_id)
    ) WITHOUT ROWID;
    INSERT INTO orders_by_session SELECT account, client_order_id, session_id, venue,
        venue_order_id, status, is_open, created_at, payload FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_by_session RENAME TO orders;
    CREATE INDEX orders_open ON orders (is_open, account);
    ALTER TABLE fills ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
    UPDATE fills SET session_id = COALESCE((SELECT o.session_id FROM orders o
        WHERE o.account = fills.account AND o.client_order_id = fills.client_order_id), '');
    DROP INDEX fills_order;
    CREATE INDEX fills_order ON fills (account, session_id, client_order_id);
    """,
)
LATEST = len(MIGRATIONS)


class SchemaTooNew(FailedPrecondition):
    """The journal file was migrated by a newer gateway than this one."""


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations the file lacks, each in its own transaction."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > LATEST:
        raise SchemaTooNew(
            f"the journal file has schema version {version}, newer than this gateway's "
            f"{LATEST}; run a gateway at least as new as the one that migrated it"
        )
    for step in range(version + 1, LATEST + 1):
        conn.executescript(
            f"BEGIN IMMEDIATE; {MIGRATIONS[step - 1]}; PRAGMA user_version = {step}; COMMIT;"
        )


def _connect(path: Path, synchronous: Synchronous) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


@dataclass(slots=True)
class _Op:
    """One queued write. `run` executes inside the batch transaction, on the writer thread."""

    run: Callable[[sqlite3.Connection, _Counters], Any]
    future: asyncio.Future[Any]
    exec_ids: list[str] = field(default_factory=list)  # reports to look up before the batch
    result: Any = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Counters:
    """Sequence counters, owned by the writer thread; `dirty` remembers pre-batch values.

    The `sequences` table only names the streams (a row is written with a stream's first
    report); the last sequence of each is read back at open as the largest in `reports` (an
    index seek). So a commit writes no counter row, one statement fewer per group commit."""

    session: dict[str, int] = field(default_factory=dict)
    account: dict[str, int] = field(default_factory=dict)
    dirty_session: dict[str, int] = field(default_factory=dict)
    dirty_account: dict[str, int] = field(default_factory=dict)
    named: set[tuple[str, str]] = field(default_factory=set)  # (scope, name) rows in the file
    naming: list[tuple[str, str, int]] = field(default_factory=list)  # rows this batch adds
    # Scratch of the batch being written: reports already in the file (exec_id -> payload),
    # reports stored by this batch, and their rows (session_id, seq, account, aseq, exec_id,
    # codec.report_row), inserted by one statement (see _INSERT_REPORTS).
    known: dict[str, bytes] = field(default_factory=dict)
    fresh: dict[str, ExecutionReport] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)
    # Order snapshots saved by this batch, the last per order (an order's PENDING_NEW and NEW
    # often share a commit: only the newest is encoded and written), and their new fills.
    orders: dict[tuple[str, str, str], Order] = field(default_factory=dict)
    fills: list[tuple[str, str, str, str, str, bytes]] = field(default_factory=list)

    def next(self, session_id: str, account: str) -> tuple[int, int]:
        return self.session.get(session_id, 0) + 1, self.account.get(account, 0) + 1

    def take(self, session_id: str, seq: int, account: str, aseq: int) -> None:
        self.dirty_session.setdefault(session_id, self.session.get(session_id, 0))
        self.dirty_account.setdefault(account, self.account.get(account, 0))
        self.session[session_id] = seq
        self.account[account] = aseq

    def flush(self, conn: sqlite3.Connection) -> None:
        named = self.named
        self.naming = [
            (scope, k, values[k])
            for scope, values, dirty in (
                ("session", self.session, self.dirty_session),
                ("account", self.account, self.dirty_account),
            )
            for k in dirty
            if (scope, k) not in named
        ]
        if self.naming:
            conn.executemany(
                "INSERT INTO sequences (scope, name, last) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, name) DO UPDATE SET last = excluded.last",
                self.naming,
            )

    def commit(self) -> None:
        self.named.update((scope, name) for scope, name, _ in self.naming)
        self.naming = []
        self.dirty_session.clear()
        self.dirty_account.clear()
        self.known.clear()
        self.fresh.clear()
        self.rows.clear()
        self.orders.clear()
        self.fills.clear()

    def rollback(self) -> None:
        self.naming = []
        for k, v in self.dirty_session.items():
            self.session[k] = v
        for k, v in self.dirty_account.items():
            self.account[k] = v
        self.commit()


_STOP = object()
CHECKPOINT_EVERY = 1000  # queued writes between WAL checkpoints
INLINE_MAX_OPS = 16  # batches up to this size may commit on the loop (see _commit_here)

# A batch's reports travel to SQLite as one JSON document (one orjson call for the batch) and are
# split there. That one statement is one sqlite3_step, and the sqlite3 module drops the GIL for
# it: parsing and inserting the whole batch runs beside the event loop instead of contending
# with it, where an executemany takes the GIL back after every row and encodes row by row.
# Each payload is the row's JSON array text, byte for byte as orjson wrote it.
_INSERT_REPORTS = """
INSERT INTO reports (session_id, seq, account, aseq, exec_id, payload)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
       json_extract(value, '$[3]'), json_extract(value, '$[4]'),
       CAST(json_extract(value, '$[5]') AS BLOB)
FROM json_each(?)
"""
_KNOWN_REPORTS = (
    "SELECT exec_id, payload FROM reports WHERE exec_id IN (SELECT value FROM json_each(?))"
)


_INSERT_FILLS = (
    "INSERT OR IGNORE INTO fills (account, session_id, client_order_id, venue, trade_id, "
    "payload) VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT_ORDERS = (
    "INSERT INTO orders (account, client_order_id, session_id, venue, venue_order_id, status, "
    "is_open, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account, session_id, client_order_id) DO UPDATE SET venue_order_id = "
    "excluded.venue_order_id, status = excluded.status, is_open = excluded.is_open, "
    "payload = excluded.payload"
)


def _order_row(o: Order) -> tuple[Any, ...]:
    return (
        o.account,
        o.client_order_id,
        o.session_id,
        o.venue,
        o.venue_order_id,
        o.status.value,
        int(o.is_open),
        o.created_at.isoformat(),
        encode(dataclasses.replace(o, fills=()) if o.fills else o),
    )


def _stamp(report: ExecutionReport, seq: int, aseq: int) -> None:
    # Reports handed to append() belong to the journal from then on. Setting the sequence in
    # place saves rebuilding a 34-field frozen object per report, the hot path of every stream.
    object.__setattr__(report, "sequence", seq)
    object.__setattr__(report, "account_sequence", aseq)
    if report.poss_resend:
        object.__setattr__(report, "poss_resend", False)


class SqliteJournal:
    """SQLite implementation of `JournalPort`. Create with `await SqliteJournal.open(dir)`."""

    FILENAME = "journal.sqlite3"

    def __init__(
        self, path: Path, synchronous: Synchronous, max_batch: int, ring_size: int
    ) -> None:
        self.path = path
        self._synchronous: Synchronous = synchronous
        self._max_batch = max_batch
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[list[_Op] | object] = queue.SimpleQueue()
        self._outbox: list[_Op] = []
        self._counters = _Counters()
        self._hub = ReportHub(ring_size=ring_size)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="journal-read")
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-ckpt")
        self._ops_since_checkpoint = 0
        self._checkpoint_running = False
        self._writer = threading.Thread(target=self._write_loop, name="journal-writer", daemon=True)
        self._commit_lock = threading.Lock()  # one commit at a time: the writer's or the loop's
        self._queued = 0  # hand-overs queued for the writer and not yet committed
        # Writer commits whose completion (publishing their reports) is scheduled on the loop
        # and not yet run. One writer each (thread / loop), so neither loses an update.
        self._completions_scheduled = 0
        self._completions_run = 0
        self._expedite = False  # the next hand-over has a waiting caller (see expedite)
        self._closed = False
        self._stored_fills: dict[tuple[str, str, str], int] = {}  # writer thread only
        self._write_conn: sqlite3.Connection | None = None
        self.telemetry: Telemetry = NO_TELEMETRY  # commit latency (called from either thread)

    @classmethod
    async def open(
        cls,
        data_dir: Path | str,
        *,
        synchronous: Synchronous = "NORMAL",
        max_batch: int = 4096,
        ring_size: int = 16_384,
    ) -> SqliteJournal:
        """`ring_size`: recent reports kept in memory per subscribed stream; subscribers further
        behind read the file."""
        directory = Path(data_dir)
        journal = cls(directory / cls.FILENAME, synchronous, max_batch, ring_size)
        await asyncio.to_thread(journal._init_store)
        journal._writer.start()
        journal._hub.load_high_water(
            dict(journal._counters.session), dict(journal._counters.account)
        )
        return journal

    def _init_store(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self.path, self._synchronous)
        conn.executescript(SCHEMA)
        _migrate(conn)
        # Checkpoints (which fsync) run on their own thread, never inside a commit: otherwise
        # every ~1000th group commit stalls the order path for milliseconds.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        counters = self._counters
        for scope, name, last in conn.execute("SELECT scope, name, last FROM sequences").fetchall():
            session = scope == "session"
            column, cursor = ("session_id", "seq") if session else ("account", "aseq")
            (newest,) = conn.execute(
                f"SELECT MAX({cursor}) FROM reports WHERE {column} = ?",  # noqa: S608 - fixed names
                (name,),
            ).fetchone()
            (counters.session if session else counters.account)[name] = max(last, newest or 0)
            counters.named.add((scope, name))
        self._write_conn = conn

    # -- writer thread --------------------------------------------------------------------
    def _write_loop(self) -> None:
        conn = self._write_conn
        assert conn is not None
        stop = False
        while not stop:
            batch: list[_Op] = []
            taken = 0
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                    break
                assert isinstance(item, list)
                batch.extend(item)
                taken += 1
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            with self._commit_lock:
                if batch:
                    self._commit_batch(conn, batch)
                self._queued -= taken
        conn.close()

    def _commit_batch(
        self, conn: sqlite3.Connection, batch: list[_Op], *, on_loop: bool = False
    ) -> None:
        counters = self._counters
        started = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            exec_ids = [i for op in batch for i in op.exec_ids]
            if exec_ids:  # one lookup for the whole batch
                known = conn.execute(_KNOWN_REPORTS, (orjson.dumps(exec_ids),))
                counters.known.update(known.fetchall())
            for op in batch:
                op.result = op.run(conn, counters)
            if counters.fills:
                conn.executemany(_INSERT_FILLS, counters.fills)
            if counters.orders:
                conn.executemany(_UPSERT_ORDERS, [_order_row(o) for o in counters.orders.values()])
            if counters.rows:
                conn.execute(_INSERT_REPORTS, (orjson.dumps(counters.rows),))
            counters.flush(conn)
            conn.execute("COMMIT")
            counters.commit()
            self.telemetry.journal_commit(time.perf_counter() - started, len(batch))
            self._ops_since_checkpoint += len(batch)
            if self._ops_since_checkpoint >= CHECKPOINT_EVERY and not self._checkpoint_running:
                self._ops_since_checkpoint = 0
                self._checkpoint_running = True
                self._checkpointer.submit(self._checkpoint)
        except BaseException as exc:  # every waiter must learn of the failure
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            counters.rollback()  # also drops the batch scratch
            self._stored_fills.clear()  # a cache of committed state: rebuilt from the file
            for op in batch:
                op.error = exc
        if on_loop:
            self._complete(batch)
        else:
            self._completions_scheduled += 1  # under the commit lock: _commit_here sees it
            self._loop.call_soon_threadsafe(self._complete_from_writer, batch)

    def _complete_from_writer(self, batch: list[_Op]) -> None:
        self._completions_run += 1
        self._complete(batch)

    def _complete(self, batch: list[_Op]) -> None:
        """On the loop, in commit order: publish new reports, then wake the writers."""
        for op in batch:
            if op.error is None and isinstance(op.result, list):
                for item in op.result:
                    if isinstance(item, AppendResult) and item.is_new:
                        self._hub.publish(item.report)
            if op.future.done():
                continue  # the waiter was cancelled; the write itself stands
            if op.error is not None:
                op.future.set_exception(op.error)
            else:
                op.future.set_result(op.result)

    def _submit(
        self, run: Callable[[sqlite3.Connection, _Counters], T], exec_ids: list[str] | None = None
    ) -> asyncio.Future[T]:
        if self._closed:
            raise RuntimeError("journal is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._outbox.append(_Op(run, future, exec_ids or []))
        if len(self._outbox) == 1:
            # Hand over once per loop iteration, after the current task yields: waking the
            # writer thread costs the loop the GIL, so it must not happen before a venue send.
            self._loop.call_soon(self._hand_over)
        return future

    def expedite(self) -> None:
        self._expedite = True

    def _hand_over(self) -> None:
        ops, self._outbox = self._outbox, []
        urgent, self._expedite = self._expedite, False
        if urgent and self._commit_here(ops):
            return
        with self._commit_lock:
            self._queued += 1
        self._queue.put(ops)

    def _commit_here(self, ops: list[_Op]) -> bool:
        """Commit an expedited small batch on the loop when the writer has nothing queued or
        running.

        Waking the writer thread, handing it the GIL for each statement and waking the loop
        again costs a few hundred microseconds, several times the commit itself; an order
        waiting for its write-ahead record pays all of it, while the loop would sit idle
        waiting for the venue anyway. Everything else (outcomes, fills, bursts) goes to the
        writer, where SQLite's own work runs beside the loop, and so does every commit under
        synchronous=FULL, whose fsync must not stall the loop."""
        if len(ops) > INLINE_MAX_OPS or self._synchronous != "NORMAL" or self._closed:
            return False
        if not self._commit_lock.acquire(blocking=False):
            return False  # the writer is committing: queue behind it, in order
        try:
            if self._queued:
                return False  # earlier batches wait for the writer: keep the order
            if self._completions_scheduled != self._completions_run:
                # The writer committed an earlier batch whose reports are not published yet:
                # publishing this one first would put the hub's high-water mark and ring out
                # of sequence order.
                return False
            assert self._write_conn is not None
            self._commit_batch(self._write_conn, ops, on_loop=True)
            return True
        finally:
            self._commit_lock.release()

    # -- reports --------------------------------------------------------------------------
    def append(self, reports: Sequence[ExecutionReport]) -> Awaitable[list[AppendResult]]:
        items = list(reports)

        def run(_conn: sqlite3.Connection, state: _Counters) -> list[AppendResult]:
            results = []
            fresh = state.fresh
            for report in items:
                exec_id = report.exec_id
                earlier = fresh.get(exec_id)
                if earlier is not None:  # the same exec_id twice within this batch
                    results.append(AppendResult(earlier, False))
                    continue
                stored = state.known.get(exec_id)
                if stored is not None:
                    results.append(AppendResult(decode_report(stored), False))
                    continue
                session_id = report.session_id
                account = report.account
                seq, aseq = state.next(session_id, account)
                _stamp(report, seq, aseq)
                state.take(session_id, seq, account, aseq)
                fresh[exec_id] = report
                state.rows.append([session_id, seq, account, aseq, exec_id, report_row(report)])
                results.append(AppendResult(report, True))
            return results

        return self._submit(run, [r.exec_id for r in items])

    def add_report_listener(self, listener: ReportListener) -> None:
        """`listener(report)` on the event loop for each report once committed, in order."""
        self._hub.add_listener(listener)

    def stream_lags(self) -> dict[str, int]:
        """Committed reports not yet taken by each session's open execution stream."""
        return self._hub.stream_lags()

    def subscribe(self, session_id: str, from_sequence: int) -> Subscription:
        return Subscription(
            self._hub, self._fetch, by_account=False, key=session_id, from_sequence=from_sequence
        )

    def subscribe_account(self, account: str, from_sequence: int) -> Subscription:
        return Subscription(
            self._hub, self._fetch, by_account=True, key=account, from_sequence=from_sequence
        )

    async def last_sequence(self, session_id: str) -> int:
        return self._hub.high_water(False, session_id)

    async def last_account_sequence(self, account: str) -> int:
        return self._hub.high_water(True, account)

    async def reports(
        self, session_id: str, after_sequence: int, limit: int
    ) -> list[ExecutionReport]:
        return await self._fetch(False, session_id, after_sequence, 2**62, limit, 0)

    async def _fetch(
        self, by_account: bool, key: str, after: int, upto: int, limit: int, resend_upto: int
    ) -> list[ExecutionReport]:
        column, cursor = ("account", "aseq") if by_account else ("session_id", "seq")
        sql = (
            f"SELECT {cursor}, payload FROM reports "  # noqa: S608 - fixed names, bound values
            f"WHERE {column} = ? AND {cursor} > ? AND {cursor} <= ? ORDER BY {cursor} LIMIT ?"
        )

        def query(conn: sqlite3.Connection) -> list[ExecutionReport]:
            # Decoded on the reader thread: the loop only receives finished objects.
            rows = conn.execute(sql, (key, after, upto, limit)).fetchall()
            return [
                decode_report(payload, poss_resend=position <= resend_upto)
                for position, payload in rows
            ]

        return await self._read(query)

    # -- orders and client ids ------------------------------------------------------------
    def save_orders(self, orders: Sequence[Order]) -> Awaitable[None]:
        """Upsert order snapshots. Fills are append-only, so only the ones not yet stored are
        written (to the fills table): saving an order costs the same at its 1st or 1000th fill."""
        items = list(orders)

        def run(conn: sqlite3.Connection, counters: _Counters) -> None:
            for o in items:
                key = (o.account, o.session_id, o.client_order_id)
                stored = self._stored_fills.get(key)
                if stored is None and not o.fills:
                    stored = 0  # fills are append-only: an order without any has none stored
                elif stored is None:
                    # Fills queued earlier in this batch are not in the file yet: they may be
                    # queued again, and INSERT OR IGNORE keeps one of each.
                    stored = conn.execute(
                        "SELECT COUNT(*) FROM fills "
                        "WHERE account = ? AND session_id = ? AND client_order_id = ?",
                        key,
                    ).fetchone()[0]
                for fill in o.fills[stored:]:
                    counters.fills.append((*key, fill.venue, fill.trade_id, encode(fill)))
                if o.is_open:
                    self._stored_fills[key] = len(o.fills)
                else:  # closed orders rarely change again: recount from the file if they do
                    self._stored_fills.pop(key, None)
                counters.orders.pop(key, None)  # re-inserted last: rows keep the save order
                counters.orders[key] = o

        return self._submit(run)

    async def load_orders(self, account: str | None = None, open_only: bool = False) -> list[Order]:
        where = "WHERE (? IS NULL OR o.account = ?)" + (" AND o.is_open = 1" if open_only else "")
        orders_sql = f"SELECT o.payload FROM orders o {where} ORDER BY o.created_at"  # noqa: S608
        fills_sql = (
            "SELECT f.account, f.session_id, f.client_order_id, f.payload "  # noqa: S608
            "FROM fills f JOIN orders o ON o.account = f.account "
            "AND o.session_id = f.session_id AND o.client_order_id = f.client_order_id "
            f"{where} ORDER BY f.rowid"
        )

        def query(conn: sqlite3.Connection) -> list[Order]:
            fills: dict[tuple[str, str, str], list[Fill]] = {}
            for acct, session, cid, payload in conn.execute(fills_sql, (account, account)):
                fills.setdefault((acct, session, cid), []).append(
                    decode(Fill, payload, session_id=session)
                )
            orders = []
            for (payload,) in conn.execute(orders_sql, (account, account)):
                order = decode(Order, payload)
                mine = fills.get((order.account, order.session_id, order.client_order_id))
                orders.append(dataclasses.replace(order, fills=tuple(mine)) if mine else order)
            return orders

        return await self._read(query)

    async def save_client_id_mapping(
        self, account: str, venue: str, client_order_id: str, venue_client_id: str
    ) -> None:
        def run(conn: sqlite3.Connection, _counters: _Counters) -> None:
            conn.execute(
                "INSERT INTO client_ids (account, venue, client_order_id, venue_client_id) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (account, venue, client_order_id) "
                "DO UPDATE SET venue_client_id = excluded.venue_client_id",
                (account, venue, client_order_id, venue_client_id),
            )

        await self._submit(run)

    async def venue_client_id(self, account: str, venue: str, client_order_id: str) -> str | None:
        sql = (
            "SELECT venue_client_id FROM client_ids "
            "WHERE account = ? AND venue = ? AND client_order_id = ?"
        )
        row = await self._read(
            lambda c: c.execute(sql, (account, venue, client_order_id)).fetchone()
        )
        return None if row is None else str(row[0])

    async def client_order_id_for(
        self, account: str, venue: str, venue_client_id: str
    ) -> str | None:
        sql = (
            "SELECT client_order_id FROM client_ids "
            "WHERE account = ? AND venue = ? AND venue_client_id = ?"
        )
        row = await self._read(
            lambda c: c.execute(sql, (account, venue, venue_client_id)).fetchone()
        )
        return None if row is None else str(row[0])

    # -- nonces ---------------------------------------------------------------------------
    async def reserve_nonce(self, key_id: str, at_least: int) -> int:
        def run(conn: sqlite3.Connection, _counters: _Counters) -> int:
            row = conn.execute("SELECT last FROM nonces WHERE key_id = ?", (key_id,)).fetchone()
            nonce = max(at_least, (row[0] if row else 0) + 1)
            conn.execute(
                "INSERT INTO nonces (key_id, last) VALUES (?, ?) "
                "ON CONFLICT (key_id) DO UPDATE SET last = excluded.last",
                (key_id, nonce),
            )
            return nonce

        return await self._submit(run)

    # -- records ----------------------------------------------------------------------------
    async def save_record(self, kind: str, key: str, value: str | None) -> None:
        def run(conn: sqlite3.Connection, _counters: _Counters) -> None:
            if value is None:
                conn.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
            else:
                conn.execute(
                    "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                    (kind, key, value),
                )

        await self._submit(run)

    async def load_records(self, kind: str) -> dict[str, str]:
        sql = "SELECT key, value FROM records WHERE kind = ?"
        rows = await self._read(lambda c: c.execute(sql, (kind,)).fetchall())
        return {str(k): str(v) for k, v in rows}

    def _checkpoint(self) -> None:
        """On the checkpoint thread: copy the WAL into the database without blocking writers."""
        try:
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = _connect(self.path, self._synchronous)
                with self._readers_lock:
                    self._readers.append(conn)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.exception("journal checkpoint failed; the WAL keeps growing until one succeeds")
        finally:
            self._checkpoint_running = False

    # -- reads and lifecycle --------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, self._synchronous)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("journal is closed")
        return await self._loop.run_in_executor(self._pool, lambda: query(self._reader()))

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        await self._submit(lambda _conn, _counters: None)

    async def close(self) -> None:
        if self._closed:
            return
        await self.flush()
        self._closed = True
        self._hub.close_all()
        self._hand_over()
        self._queue.put(_STOP)
        await asyncio.to_thread(self._writer.join)
        self._pool.shutdown(wait=True)
        self._checkpointer.shutdown(wait=True)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
