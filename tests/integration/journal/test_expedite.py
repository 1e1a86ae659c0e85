"""expedite(): a small batch a caller waits for commits on the loop, never ahead of earlier
batches still with the writer thread, and never under synchronous=FULL."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
