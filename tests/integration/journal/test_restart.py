"""Restart recovery on a real SQLite file: counters, orders, client-id mappings, nonces, and a
writer killed with SIGKILL mid-stream loses nothing it had reported committed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gateway.core.model import Fill, Order, OrdStatus, Side
from tests.integration.journal.conftest import (
    Journal,
    OpenJournal,
    nothing_more,
    report,
    take,
)
from tests.support.venue_double import default_instruments
from tests.unit.core.conftest import limit

REPO = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from tests.integration.journal.conftest import open_at, report

    async def main() -> None:
        journal = await open_at(sys.argv[1])
        n = 0
        while True:
            n += 1
            (result,) = await journal.append([report(n)])
            nonce = await journal.reserve_nonce("key-1", 0)
            print(result.report.sequence, nonce, flush=True)

    asyncio.run(main())
    """
)


async def test_sigkill_loses_nothing_committed(
    journal_store: str, open_journal: OpenJournal
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, journal_store],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    acknowledged: list[tuple[int, int]] = []
    try:
        while len(acknowledged) < 200:
            line = await asyncio.to_thread(child.stdout.readline)
            assert line, "the writer died early"
            seq, nonce = line.split()
            acknowledged.append((int(seq), int(nonce)))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    last_seq, last_nonce = acknowledged[-1]
    assert [s for s, _ in acknowledged] == list(range(1, last_seq + 1))

    journal = await open_journal()
    try:
        recovered = await journal.last_sequence("s1")
        assert recovered >= last_seq  # the child may have committed more than it printed
        sub = journal.subscribe("s1", 0)
        got = await take(sub, recovered)
        assert [r.sequence for r in got] == list(range(1, recovered + 1))
        assert await nothing_more(sub)
        (nxt,) = await journal.append([report(recovered + 1)])
        assert nxt.report.sequence == recovered + 1
        assert await journal.reserve_nonce("key-1", 0) > last_nonce
    finally:
        await journal.close()


async def test_counters_orders_mappings_and_nonces_survive_reopen(
    open_journal: OpenJournal,
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(
        account="a1",
        session_id="s1",
        request=limit("c1"),
        venue="double",
        status=OrdStatus.NEW,
        qty=Decimal(1),
        price=Decimal("100.0"),
        venue_order_id="O1",
        created_at=now,
        updated_at=now,
    )
    assert default_instruments("double")[0].symbol == order.symbol
    journal = await open_journal()
    await journal.append([report(1), report(2), report(1, "s2")])
    await journal.save_orders([order])
    await journal.save_client_id_mapping("a1", "kraken", "c1", "0b2c1b8e-uuid")
    nonces = [await journal.reserve_nonce("k", 1000) for _ in range(3)]
    assert nonces == [1000, 1001, 1002]
    await journal.close()

    journal = await open_journal()
    try:
        assert await journal.last_sequence("s1") == 2
        assert await journal.last_sequence("s2") == 1
        assert await journal.last_account_sequence("a1") == 3
        (next_report,) = await journal.append([report(3)])
        assert (next_report.report.sequence, next_report.report.account_sequence) == (3, 4)
        assert await journal.load_orders() == [order]
        assert await journal.load_orders("a1", open_only=True) == [order]
        assert await journal.load_orders("other") == []
        assert await journal.venue_client_id("a1", "kraken", "c1") == "0b2c1b8e-uuid"
        assert await journal.client_order_id_for("a1", "kraken", "0b2c1b8e-uuid") == "c1"
        assert await journal.venue_client_id("a1", "kraken", "nope") is None
        assert await journal.reserve_nonce("k", 5) == 1003
        assert await journal.reserve_nonce("k", 5000) == 5000
        page = await journal.reports("s1", 1, 10)
        assert [r.sequence for r in page] == [2, 3]
    finally:
        await journal.close()


async def test_concurrent_nonce_reservations_are_unique_and_increasing(
    journal: Journal,
) -> None:
    nonces = await asyncio.gather(*(journal.reserve_nonce("k", 0) for _ in range(200)))
    assert list(nonces) == list(range(1, 201))  # call order is commit order


async def test_order_fills_are_stored_once_and_reloaded_in_order(open_journal: OpenJournal) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(
        account="a1",
        session_id="s1",
        request=limit("c1", qty=Decimal(3)),
        venue="double",
        status=OrdStatus.NEW,
        qty=Decimal(3),
        created_at=now,
        updated_at=now,
    )
    journal = await open_journal()
    for n in range(1, 4):
        fill = Fill(
            trade_id=f"T{n}",
            account="a1",
            session_id="s1",
            venue="double",
            symbol="BTC/USD",
            client_order_id="c1",
            venue_order_id="O1",
            side=Side.BUY,
            qty=Decimal(1),
            price=Decimal(100 + n),
        )
        order = replace(order, fills=(*order.fills, fill), cum_qty=Decimal(n))
        await journal.save_orders([order])
    await journal.save_orders([order])  # saving again adds nothing
    await journal.close()

    journal = await open_journal()
    try:
        (loaded,) = await journal.load_orders()
        assert loaded == order
        assert [f.trade_id for f in loaded.fills] == ["T1", "T2", "T3"]
        await journal.save_orders([loaded])  # a fresh process knows what is stored
        (again,) = await journal.load_orders("a1")
        assert again.fills == order.fills
    finally:
        await journal.close()


async def test_snapshots_of_one_order_in_one_commit_keep_the_last_and_each_fill_once(
    open_journal: OpenJournal,
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(
        account="a1",
        session_id="s1",
        request=limit("c1", qty=Decimal(3)),
        venue="double",
        status=OrdStatus.PENDING_NEW,
        qty=Decimal(3),
        created_at=now,
        updated_at=now,
    )
    journal = await open_journal()
    # No await in between: every save below lands in the same group commit.
    saves = [journal.save_orders([order])]
    order = replace(order, status=OrdStatus.NEW, venue_order_id="O1")
    saves.append(journal.save_orders([order]))
    for n in range(1, 4):
        fill = Fill(
            trade_id=f"T{n}",
            account="a1",
            session_id="s1",
            venue="double",
            symbol="BTC/USD",
            client_order_id="c1",
            venue_order_id="O1",
            side=Side.BUY,
            qty=Decimal(1),
            price=Decimal(100 + n),
        )
        done = n == 3
        order = replace(
            order,
            fills=(*order.fills, fill),
            cum_qty=Decimal(n),
            status=OrdStatus.FILLED if done else OrdStatus.PARTIALLY_FILLED,
        )
        saves.append(journal.save_orders([order]))
        if done:  # closed: the next save of it counts its fills from the file again
            saves.append(journal.save_orders([order]))
    await asyncio.gather(*saves)
    await journal.close()

    journal = await open_journal()
    try:
        (loaded,) = await journal.load_orders()
        assert loaded == order
        assert [f.trade_id for f in loaded.fills] == ["T1", "T2", "T3"]
    finally:
        await journal.close()
