"""expedite(): a small batch a caller waits for commits on the loop, never ahead of earlier
batches still with the writer thread, and never under synchronous=FULL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from gateway.journal import SqliteJournal
from tests.integration.journal.conftest import report


async def test_an_expedited_write_commits_when_the_caller_yields(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path)
    try:
        pending = journal.append([report(1)])
        journal.expedite()
        await asyncio.sleep(0)  # one loop turn: no writer thread could have answered yet
        assert pending.done()  # type: ignore[attr-defined]
        assert (await pending)[0].report.sequence == 1
        assert await journal.last_sequence("s1") == 1
    finally:
        await journal.close()


async def test_an_expedited_write_never_overtakes_the_writer(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path)
    try:
        for _ in range(5):
            base = await journal.last_sequence("s1")
            # A burst for the writer thread, then at once a small expedited write: it must
            # take the next sequence after the burst, never one before it.
            burst = [journal.append([report(base + i + 1)]) for i in range(40)]
            await asyncio.sleep(0)
            urgent = journal.append([report(base + 41)])
            journal.expedite()
            results = await asyncio.gather(*burst, urgent)
            sequences = [r[0].report.sequence for r in results]
            assert sequences == list(range(base + 1, base + 42))
    finally:
        await journal.close()


async def test_full_sync_leaves_every_commit_to_the_writer(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path, synchronous="FULL")
    try:
        pending = journal.append([report(1)])
        journal.expedite()
        await asyncio.sleep(0)
        assert not pending.done()  # type: ignore[attr-defined]  # fsync stays off the loop
        assert (await pending)[0].report.sequence == 1
    finally:
        await journal.close()


class _GatedJournal(SqliteJournal):
    """The writer thread waits at `gate` before committing, and says when it has entered and
    when it has committed (its completion then waits on the loop)."""

    entered: threading.Event
    gate: threading.Event
    committed: threading.Event

    def _commit_batch(self, conn: Any, batch: Any, *, on_loop: bool = False) -> None:
        if not on_loop:
            self.entered.set()
            self.gate.wait(10)
        super()._commit_batch(conn, batch, on_loop=on_loop)
        if not on_loop:
            self.committed.set()


async def test_an_expedited_write_is_published_after_the_writers_earlier_commit(
    tmp_path: Path,
) -> None:
    # The writer commits 1..3 while an expedited write of 4 is already due on the loop, ahead
    # of the writer's completion: 4 must still be published after 1..3 (else the stream's
    # high-water mark ends at 3 and its ring holds 4 before 1).
    journal = await _GatedJournal.open(tmp_path)
    assert isinstance(journal, _GatedJournal)
    journal.entered, journal.gate, journal.committed = (threading.Event() for _ in range(3))
    try:
        earlier = journal.append([report(1), report(2), report(3)])
        await asyncio.sleep(0)  # handed over to the writer
        assert journal.entered.wait(10)
        urgent = journal.append([report(4)])
        journal.expedite()  # its hand-over is now due on the loop
        journal.gate.set()
        assert journal.committed.wait(10)  # the loop is held: 1..3's completion waits
        with journal._commit_lock:  # the writer has let go: an inline commit could run
            pass
        await asyncio.gather(earlier, urgent)
        assert await journal.last_sequence("s1") == 4
        sub = journal.subscribe("s1", 0)
        got = [await sub.next() for _ in range(4)]
        assert [r.sequence for r in got if r is not None] == [1, 2, 3, 4]
        sub.close()
    finally:
        journal.gate.set()
        await journal.close()
