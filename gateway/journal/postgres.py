"""The PostgreSQL journal behind `JournalPort` (psycopg 3, async), for gateways that share one
store (a fleet) or want the journal off the machine.

Same model as the SQLite journal (gateway/journal/sqlite.py), same codec and live hub:
- Writes are queued in call order; one writer task takes everything queued so far and commits
  it as one transaction (group commit), so under load each commit carries many reports. All of
  a batch's reports go in with one statement (arrays, `unnest`).
- Sequences are assigned by the writer from counters cached in memory; each commit also writes
  the streams' last sequence to `sequences`, conditionally on the value the cache started from.
  If another gateway wrote the stream meanwhile (it held the account before this one), the
  commit is rolled back, the counters are read again and the batch is retried: sequences
  continue in the shared store with no gap and no duplicate.
- Fencing: `fence(account, check)` makes every batch that writes for `account` first run
  `check` inside its transaction (the key lease backend compares its fencing token there); a
  batch whose check fails writes nothing and its callers get the check's error. A batch that
  failed otherwise (the connection lost: a new lease holder ends a frozen holder's database
  sessions) runs the checks again on a new connection, and the callers of an account whose
  check fails then get its error too: the lease is gone, not the journal.
- Reads use a small connection pool.

Every report is committed before any subscriber sees it, as with SQLite. A PostgreSQL commit is
durable per the server's `synchronous_commit` (on by default: flushed to its WAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.core.errors import ErrorReason, Unavailable
from gateway.core.model import ExecutionReport, Fill, Order
from gateway.core.ports import AppendResult
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.journal.codec import decode, decode_report, encode, report_row
from gateway.journal.hub import ReportHub, ReportListener, Subscription
from gateway.journal.pg_schema import migrate

__all__ = ["JournalUnavailable", "PostgresJournal"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]
# check(conn) runs inside a batch's transaction before it writes; raising aborts the batch.
FenceCheck = Callable[[Conn], Awaitable[None]]

STALE_RETRIES = 5  # re-reads of the counters before a batch gives up


class JournalUnavailable(Unavailable):
    """The journal database cannot be reached or used."""

    default_reason = ErrorReason.JOURNAL_FAILURE


class _StaleCounters(Exception):
    """Another gateway advanced a stream this batch wrote: re-read the counters and retry."""

    def __init__(self, streams: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(streams)} stream(s) moved")
        self.streams = streams


class _Fenced(Exception):
    """An account's fence check failed: its writes are refused."""

    def __init__(self, account: str, error: Exception) -> None:
        super().__init__(account)
        self.account = account
        self.error = error


@dataclass(slots=True)
class _Op:
    run: Callable[[Conn, _Batch], Awaitable[Any]]
    future: asyncio.Future[Any]
    exec_ids: list[str] = field(default_factory=list)
    accounts: tuple[str, ...] = ()  # whose fences apply
    result: Any = None


@dataclass(slots=True)
class _Batch:
    """Scratch of one batch transaction: counters it advanced (with their starting values),
    reports already stored, reports stored by it and their rows."""

    session: dict[str, int]
    account: dict[str, int]
    moved: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # -> (was, acct)
    known: dict[str, bytes] = field(default_factory=dict)
    fresh: dict[str, ExecutionReport] = field(default_factory=dict)
    rows: list[tuple[str, int, str, int, str, bytes]] = field(default_factory=list)

    def next(self, session_id: str, account: str) -> tuple[int, int]:
        seq = self.session.get(session_id, 0) + 1
        aseq = self.account.get(account, 0) + 1
        self.moved.setdefault(("session", session_id), (seq - 1, account))
        self.moved.setdefault(("account", account), (aseq - 1, account))
        self.session[session_id] = seq
        self.account[account] = aseq
        return seq, aseq


def _stamp(report: ExecutionReport, seq: int, aseq: int) -> None:
    # As in the SQLite journal: reports handed to append() belong to the journal.
    object.__setattr__(report, "sequence", seq)
    object.__setattr__(report, "account_sequence", aseq)
    if report.poss_resend:
        object.__setattr__(report, "poss_resend", False)


_INSERT_REPORTS = (
    "INSERT INTO reports (session_id, seq, account, aseq, exec_id, payload) "
    "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::text[], "
    "%s::bytea[])"
)
# Advance a stream only from the value this gateway's cache started at; RETURNING tells which
# moved. New streams are inserted (nothing returned if another gateway created them first).
_ADVANCE = """
WITH v(scope, name, account, was, last) AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[])
), updated AS (
    UPDATE sequences s SET last = v.last FROM v
    WHERE s.scope = v.scope AND s.name = v.name AND s.last = v.was AND v.was > 0
    RETURNING s.scope, s.name
), inserted AS (
    INSERT INTO sequences (scope, name, account, last)
    SELECT scope, name, account, last FROM v WHERE was = 0
    ON CONFLICT (scope, name) DO NOTHING
    RETURNING scope, name
)
SELECT scope, name FROM updated UNION ALL SELECT scope, name FROM inserted
"""


class PostgresJournal:
    """PostgreSQL implementation of `JournalPort`. Create with `await PostgresJournal.open(url)`.

    `url` is a libpq connection string or URI without a password; `password` comes from the
    config's password file or environment variable."""

    def __init__(
        self, pool: AsyncConnectionPool[Conn], writer: Conn, max_batch: int, ring_size: int
    ) -> None:
        self._pool = pool
        self._writer_conn = writer
        self._max_batch = max_batch
        self._loop = asyncio.get_running_loop()
        self._outbox: list[_Op] = []
        self._wake = asyncio.Event()
        self._session: dict[str, int] = {}
        self._account: dict[str, int] = {}
        self._hub = ReportHub(ring_size=ring_size)
        self.telemetry: Telemetry = NO_TELEMETRY  # commit latency
        self._fences: dict[str, FenceCheck] = {}
        self._local_fences: dict[str, Callable[[], None]] = {}
        self._stored_fills: dict[tuple[str, str, str], int] = {}
        self._closed = False
        self._writer: asyncio.Task[None] | None = None
        self._connect_writer: Callable[[], Awaitable[Conn]] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        password: str | None = None,
        max_batch: int = 4096,
        ring_size: int = 16_384,
        pool_size: int = 4,
        stall_timeout_s: float = 5.0,
        application_name: str = "",
    ) -> PostgresJournal:
        """Connect, apply missing schema migrations, load the counters, start the writer.

        `stall_timeout_s`: the server ends the writer's session when a transaction waits that
        long on this process (idle_in_transaction_session_timeout), and cancels a writer's
        statement that lasts that long (statement_timeout, also when the process froze in the
        middle of sending a pipelined batch: the server then waits for it inside the
        statement), so a gateway frozen mid-commit cannot hold its locks (e.g. on a key lease
        row) and block a fleet takeover."""
        kwargs: dict[str, Any] = {"autocommit": True}
        if password is not None:
            kwargs["password"] = password
        writer_kwargs = {
            **kwargs,
            # A fleet names the writer's session after the lease holder (leases/postgres.py).
            "application_name": application_name,
            "options": f"-c idle_in_transaction_session_timeout={int(stall_timeout_s * 1000)}",
        }
        statement_timeout = f"SET statement_timeout = {int(stall_timeout_s * 1000)}"
        try:
            writer: Conn = await psycopg.AsyncConnection.connect(url, **writer_kwargs)
        except psycopg.OperationalError as exc:
            raise JournalUnavailable(f"cannot connect to the journal database: {exc}") from None
        pool: AsyncConnectionPool[Conn] | None = None
        try:
            await migrate(writer)  # before the statement timeout: it may wait for a peer's
            await writer.execute(statement_timeout)
            pool = AsyncConnectionPool(
                url, kwargs=kwargs, min_size=1, max_size=pool_size, open=False
            )
            await pool.open(wait=True)
            journal = cls(pool, writer, max_batch, ring_size)

            async def connect_writer() -> Conn:
                conn: Conn = await psycopg.AsyncConnection.connect(url, **writer_kwargs)
                await conn.execute(statement_timeout)
                return conn

            journal._connect_writer = connect_writer
            await journal._load_counters(None)
        except BaseException:
            if pool is not None:
                await pool.close()
            await writer.close()
            raise
        journal._writer = asyncio.create_task(journal._write_loop(), name="journal-pg-writer")
        return journal

    async def _load_counters(self, accounts: Iterable[str] | None) -> None:
        """Read streams' last sequences (all, or those of `accounts`) into the cache and hub."""
        sql = "SELECT scope, name, last FROM sequences"
        params: tuple[Any, ...] = ()
        if accounts is not None:
            sql += " WHERE account = ANY(%s)"
            params = (list(accounts),)
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            rows = await cur.fetchall()
        self._apply_counters(rows)

    def _apply_counters(self, rows: Iterable[tuple[str, str, int]]) -> None:
        for scope, name, last in rows:
            by_account = scope == "account"
            counters = self._account if by_account else self._session
            if last > counters.get(name, 0):
                counters[name] = last
            self._hub.catch_up(by_account, name, last)

    async def adopt(self, accounts: Iterable[str]) -> None:
        """This gateway now writes for `accounts` (e.g. after taking their leases over): read
        their streams' sequences from the store, so it continues where the last writer left."""
        await self._load_counters(accounts)

    def fence(
        self, account: str, check: FenceCheck | None, local: Callable[[], None] | None = None
    ) -> None:
        """Every later batch writing for `account` runs `check` in its transaction first.
        `local` (the holder's own clock) is also run after a failed commit without the database,
        so a broken connection still tells a lost lease from a journal failure."""
        if check is None:
            self._fences.pop(account, None)
            self._local_fences.pop(account, None)
        else:
            self._fences[account] = check
            if local is not None:
                self._local_fences[account] = local

    # -- writer ---------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch = self._outbox[: self._max_batch]
                del self._outbox[: self._max_batch]
                await self._commit(batch)
            if self._closed:
                return

    async def _commit(self, batch: list[_Op]) -> None:
        error: BaseException | None = None
        fence_errors: dict[str, Exception] = {}
        stale_left = STALE_RETRIES
        while batch:
            state = _Batch(dict(self._session), dict(self._account))
            started = time.perf_counter()
            try:
                await self._run_batch(batch, state)
            except _Fenced as fenced:
                # That account's writes are refused; the rest of the batch goes on.
                self._stored_fills.clear()
                for op in batch:
                    if fenced.account in op.accounts and not op.future.done():
                        op.future.set_exception(fenced.error)
                batch = [op for op in batch if fenced.account not in op.accounts]
                continue
            except _StaleCounters as stale:
                self._stored_fills.clear()
                await self._reload(stale.streams)
                stale_left -= 1
                if stale_left > 0:
                    continue
                error = JournalUnavailable("journal sequences kept moving under this gateway")
            except Exception as exc:  # every waiter must learn of the failure
                self._stored_fills.clear()  # a cache of committed state: rebuilt from the store
                if isinstance(exc, psycopg.Error):
                    log.error("journal commit failed: %s", exc)
                    exc = JournalUnavailable(f"journal commit failed: {exc}")
                    await self._reconnect_if_broken()
                    fence_errors = await self._fence_errors(batch)
                error = exc
            else:
                self._session, self._account = state.session, state.account
                self.telemetry.journal_commit(time.perf_counter() - started, len(batch))
            break
        for op in batch:
            if op.future.done():
                continue
            if error is not None:
                lost = next((fence_errors[a] for a in op.accounts if a in fence_errors), None)
                op.future.set_exception(lost or error)
                continue
            if isinstance(op.result, list):
                for item in op.result:
                    if isinstance(item, AppendResult) and item.is_new:
                        self._hub.publish(item.report)
            op.future.set_result(op.result)

    async def _run_batch(self, batch: list[_Op], state: _Batch) -> None:
        conn = self._writer_conn
        async with conn.transaction():
            fenced = {a for op in batch for a in op.accounts if a in self._fences}
            for account in sorted(fenced):
                try:
                    await self._fences[account](conn)
                except Exception as exc:
                    raise _Fenced(account, exc) from exc
            exec_ids = [i for op in batch for i in op.exec_ids]
            if exec_ids:
                cur = await conn.execute(
                    "SELECT exec_id, payload FROM reports WHERE exec_id = ANY(%s)", (exec_ids,)
                )
                state.known.update(await cur.fetchall())
            for op in batch:
                op.result = await op.run(conn, state)
            # Streams first: if another gateway moved one, nothing of this batch is inserted.
            if state.moved:
                keys = list(state.moved)
                cur = await conn.execute(
                    _ADVANCE,
                    (
                        [scope for scope, _ in keys],
                        [name for _, name in keys],
                        [state.moved[k][1] for k in keys],
                        [state.moved[k][0] for k in keys],
                        [(state.account if s == "account" else state.session)[n] for s, n in keys],
                    ),
                )
                advanced = {(str(s), str(n)) for s, n in await cur.fetchall()}
                stale = [k for k in keys if k not in advanced]
                if stale:
                    raise _StaleCounters(stale)
            if state.rows:
                columns = list(zip(*state.rows, strict=True))
                await conn.execute(_INSERT_REPORTS, [list(c) for c in columns])

    async def _fence_errors(self, batch: list[_Op]) -> dict[str, Exception]:
        """After a failed commit: the fenced accounts of the batch whose fence fails now. Their
        writers learn that (the lease is gone: a fleet gateway that lost it, whose database
        session the new holder ended) rather than the connection's failure."""
        fenced = sorted({a for op in batch for a in op.accounts if a in self._fences})
        errors: dict[str, Exception] = {}
        if not fenced:
            return errors
        for account in fenced:
            local = self._local_fences.get(account)
            try:
                if local is not None:
                    local()
            except Exception as exc:  # the lease ran out by the holder's own clock
                errors[account] = exc
        fenced = [a for a in fenced if a not in errors]
        if not fenced:
            return errors
        conn = self._writer_conn
        with contextlib.suppress(psycopg.Error):
            async with conn.transaction():
                for account in fenced:
                    try:
                        await self._fences[account](conn)
                    except psycopg.Error:
                        raise
                    except Exception as exc:
                        errors[account] = exc
        return errors

    async def _reconnect_if_broken(self) -> None:
        """After a failed commit: a dead writer connection (server restart, or the server ended
        a stalled session) is replaced, so later batches can commit."""
        if not self._writer_conn.closed and not self._writer_conn.broken:
            return
        if self._connect_writer is None:
            return
        try:
            self._writer_conn = await self._connect_writer()
        except psycopg.Error as exc:
            log.error("journal writer cannot reconnect (will retry with the next batch): %s", exc)

    async def _reload(self, streams: list[tuple[str, str]]) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT scope, name, last FROM sequences "
                "WHERE (scope, name) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([s for s, _ in streams], [n for _, n in streams]),
            )
            self._apply_counters(await cur.fetchall())

    def _submit(
        self,
        run: Callable[[Conn, _Batch], Awaitable[T]],
        exec_ids: list[str] | None = None,
        accounts: tuple[str, ...] = (),
    ) -> asyncio.Future[T]:
        if self._closed:
            raise RuntimeError("journal is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._outbox.append(_Op(run, future, exec_ids or [], accounts))
        self._wake.set()
        return future

    def expedite(self) -> None:
        """Nothing to do: the writer task commits whatever is queued as soon as it is free."""

    # -- reports --------------------------------------------------------------------------
    def append(self, reports: Sequence[ExecutionReport]) -> Awaitable[list[AppendResult]]:
        items = list(reports)

        async def run(_conn: Conn, state: _Batch) -> list[AppendResult]:
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
                seq, aseq = state.next(report.session_id, report.account)
                _stamp(report, seq, aseq)
                fresh[exec_id] = report
                state.rows.append(
                    (
                        report.session_id,
                        seq,
                        report.account,
                        aseq,
                        exec_id,
                        orjson.dumps(report_row(report)),
                    )
                )
                results.append(AppendResult(report, True))
            return results

        accounts = tuple({r.account for r in items})
        return self._submit(run, [r.exec_id for r in items], accounts)

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
            f"WHERE {column} = %s AND {cursor} > %s AND {cursor} <= %s ORDER BY {cursor} LIMIT %s"
        )
        rows = await self._read(sql, (key, after, upto, limit))
        return [
            decode_report(payload, poss_resend=position <= resend_upto)
            for position, payload in rows
        ]

    async def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._closed:
            raise RuntimeError("journal is closed")
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    # -- orders and client ids ------------------------------------------------------------
    def save_orders(self, orders: Sequence[Order]) -> Awaitable[None]:
        """Upsert order snapshots; only fills not yet stored are written (as in SQLite)."""
        items = list(orders)

        async def run(conn: Conn, _state: _Batch) -> None:
            rows = []
            new_fills = []
            for o in items:
                key = (o.account, o.session_id, o.client_order_id)
                stored = self._stored_fills.get(key)
                if stored is None and not o.fills:
                    stored = 0
                elif stored is None:
                    cur = await conn.execute(
                        "SELECT COUNT(*) FROM fills "
                        "WHERE account = %s AND session_id = %s AND client_order_id = %s",
                        key,
                    )
                    row = await cur.fetchone()
                    stored = int(row[0]) if row is not None else 0
                for fill in o.fills[stored:]:
                    new_fills.append((*key, fill.venue, fill.trade_id, encode(fill)))
                if o.is_open:
                    self._stored_fills[key] = len(o.fills)
                else:
                    self._stored_fills.pop(key, None)
                rows.append(
                    (
                        o.account,
                        o.client_order_id,
                        o.session_id,
                        o.venue,
                        o.venue_order_id,
                        o.status.value,
                        o.is_open,
                        o.created_at.isoformat(),
                        encode(dataclasses.replace(o, fills=()) if o.fills else o),
                    )
                )
            async with conn.cursor() as cur:
                if new_fills:
                    await cur.executemany(
                        "INSERT INTO fills (account, session_id, client_order_id, venue, "
                        "trade_id, payload) VALUES (%s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        new_fills,
                    )
                await cur.executemany(
                    "INSERT INTO orders (account, client_order_id, session_id, venue, "
                    "venue_order_id, status, is_open, created_at, payload) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (account, session_id, client_order_id) DO UPDATE SET "
                    "venue_order_id = excluded.venue_order_id, status = excluded.status, "
                    "is_open = excluded.is_open, payload = excluded.payload",
                    rows,
                )

        return self._submit(run, accounts=tuple({o.account for o in items}))

    async def load_orders(self, account: str | None = None, open_only: bool = False) -> list[Order]:
        where = "WHERE (%s::text IS NULL OR o.account = %s)" + (
            " AND o.is_open" if open_only else ""
        )
        fills: dict[tuple[str, str, str], list[Fill]] = {}
        fills_sql = (
            "SELECT f.account, f.session_id, f.client_order_id, f.payload "  # noqa: S608
            "FROM fills f JOIN orders o ON o.account = f.account "
            "AND o.session_id = f.session_id AND o.client_order_id = f.client_order_id "
            f"{where} ORDER BY f.id"
        )
        for acct, session, cid, payload in await self._read(fills_sql, (account, account)):
            fills.setdefault((acct, session, cid), []).append(
                decode(Fill, payload, session_id=session)
            )
        orders = []
        orders_sql = f"SELECT o.payload FROM orders o {where} ORDER BY o.created_at"  # noqa: S608
        for (payload,) in await self._read(orders_sql, (account, account)):
            order = decode(Order, payload)
            mine = fills.get((order.account, order.session_id, order.client_order_id))
            orders.append(dataclasses.replace(order, fills=tuple(mine)) if mine else order)
        return orders

    async def save_client_id_mapping(
        self, account: str, venue: str, client_order_id: str, venue_client_id: str
    ) -> None:
        async def run(conn: Conn, _state: _Batch) -> None:
            await conn.execute(
                "INSERT INTO client_ids (account, venue, client_order_id, venue_client_id) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (account, venue, client_order_id) "
                "DO UPDATE SET venue_client_id = excluded.venue_client_id",
                (account, venue, client_order_id, venue_client_id),
            )

        await self._submit(run, accounts=(account,))

    async def venue_client_id(self, account: str, venue: str, client_order_id: str) -> str | None:
        rows = await self._read(
            "SELECT venue_client_id FROM client_ids "
            "WHERE account = %s AND venue = %s AND client_order_id = %s",
            (account, venue, client_order_id),
        )
        return str(rows[0][0]) if rows else None

    async def client_order_id_for(
        self, account: str, venue: str, venue_client_id: str
    ) -> str | None:
        rows = await self._read(
            "SELECT client_order_id FROM client_ids "
            "WHERE account = %s AND venue = %s AND venue_client_id = %s",
            (account, venue, venue_client_id),
        )
        return str(rows[0][0]) if rows else None

    # -- nonces ---------------------------------------------------------------------------
    async def reserve_nonce(self, key_id: str, at_least: int) -> int:
        async def run(conn: Conn, _state: _Batch) -> int:
            cur = await conn.execute(
                "INSERT INTO nonces (key_id, last) VALUES (%s, %s) ON CONFLICT (key_id) "
                "DO UPDATE SET last = GREATEST(excluded.last, nonces.last + 1) RETURNING last",
                (key_id, max(at_least, 1)),
            )
            row = await cur.fetchone()
            assert row is not None
            return int(row[0])

        return await self._submit(run)

    # -- records ----------------------------------------------------------------------------
    async def save_record(self, kind: str, key: str, value: str | None) -> None:
        async def run(conn: Conn, _state: _Batch) -> None:
            if value is None:
                await conn.execute("DELETE FROM records WHERE kind = %s AND key = %s", (kind, key))
            else:
                await conn.execute(
                    "INSERT INTO records (kind, key, value) VALUES (%s, %s, %s) "
                    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                    (kind, key, value),
                )

        # Records are keyed by account (kill switch, journal probe): a fleet gateway writes one
        # only while it holds that account's lease (no fence is set for other keys).
        await self._submit(run, accounts=(key,))

    async def load_records(self, kind: str) -> dict[str, str]:
        rows = await self._read("SELECT key, value FROM records WHERE kind = %s", (kind,))
        return {str(k): str(v) for k, v in rows}

    # -- lifecycle ------------------------------------------------------------------------
    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""

        async def nothing(_conn: Conn, _state: _Batch) -> None:
            return None

        await self._submit(nothing)

    async def close(self) -> None:
        if self._closed:
            return
        await self.flush()
        self._closed = True
        self._hub.close_all()
        self._wake.set()
        if self._writer is not None:
            await self._writer
        await self._pool.close()
        await self._writer_conn.close()
