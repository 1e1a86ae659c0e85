"""What a fleet relies on in the shared PostgreSQL store: key leases with growing fencing
tokens, fenced journal writes, and sequences that continue across gateways."""

from __future__ import annotations

import psycopg
import pytest

from gateway.core.leases import KeyInUse, LeaseLost
from gateway.journal import PostgresJournal
from gateway.leases.postgres import Conn, PostgresKeyLeases, check_in
from tests.integration.journal.conftest import report, take
from tests.support.postgres import PostgresServer


async def _expire(url: str, pg: PostgresServer, key: str) -> None:
    """What waiting out the TTL does, without waiting: the lease's time is up."""
    async with await psycopg.AsyncConnection.connect(
        url, password=pg.password, autocommit=True
    ) as conn:
        await conn.execute(
            "UPDATE key_leases SET expires_at = now() - interval '1 second' WHERE key = %s",
            (key,),
        )


async def test_leases_expire_fence_and_hand_over(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    journal = await PostgresJournal.open(url, password=postgres_server.password)  # migrates
    pw = postgres_server.password
    one = await PostgresKeyLeases.open(url, password=pw, holder="gw-1", ttl_s=30)
    two = await PostgresKeyLeases.open(url, password=pw, holder="gw-2", ttl_s=30)
    try:
        first = await one.acquire("abc")
        assert (first.token, first.holder) == (1, "gw-1")
        assert first.valid_until is not None
        with pytest.raises(KeyInUse) as taken:
            await two.acquire("abc")
        assert taken.value.holder == "gw-1"
        assert (await one.renew(first)).token == 1

        await _expire(url, postgres_server, "abc")  # gw-1 froze past its lease
        with pytest.raises(LeaseLost):
            await one.renew(first)  # expired is lost, even before anyone took it
        second = await two.acquire("abc")
        assert second.token == 2

        async def fenced(conn: Conn) -> None:
            async with conn.transaction():
                await check_in(conn, first)

        async with await psycopg.AsyncConnection.connect(url, password=pw) as conn:
            with pytest.raises(LeaseLost):
                await fenced(conn)
            async with conn.transaction():
                await check_in(conn, second)  # the holder passes
        await two.release(second)
        assert (await one.acquire("abc")).token == 3  # released: free at once, token grows
    finally:
        await one.close()
        await two.close()
        await journal.close()


async def test_sequences_continue_across_gateways_sharing_the_journal(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    pw = postgres_server.password
    first = await PostgresJournal.open(url, password=pw)
    second = await PostgresJournal.open(url, password=pw)
    try:
        await first.append([report(n) for n in (1, 2, 3)])
        await second.adopt(["a1"])  # takes the account over: continues at 4
        done = await second.append([report(4), report(5)])
        assert [r.report.sequence for r in done] == [4, 5]
        # The first gateway's counters are stale now: its write is retried after rereading.
        (late,) = await first.append([report(6)])
        assert (late.report.sequence, late.report.account_sequence) == (6, 6)
        assert await first.last_sequence("s1") == 6
        replayed = await take(first.subscribe("s1", 0), 6)
        assert [r.sequence for r in replayed] == [1, 2, 3, 4, 5, 6]
        assert [r.exec_id for r in replayed] == [f"s1-{n}" for n in range(1, 7)]
    finally:
        await first.close()
        await second.close()


async def test_a_failed_fence_refuses_only_that_accounts_writes(
    postgres_server: PostgresServer,
) -> None:
    journal = await PostgresJournal.open(
        postgres_server.create_database(), password=postgres_server.password
    )

    async def lost(_conn: Conn) -> None:
        raise LeaseLost("gone")

    try:
        journal.fence("a1", lost)
        refused = journal.append([report(1, account="a1")])
        served = journal.append([report(1, session="s2", account="a2")])
        with pytest.raises(LeaseLost):
            await refused
        assert (await served)[0].report.sequence == 1
        assert await journal.reports("s1", 0, 10) == []
        journal.fence("a1", None)
        assert (await journal.append([report(2, account="a1")]))[0].report.sequence == 1
    finally:
        await journal.close()
