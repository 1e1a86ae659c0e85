"""Journal backends side by side: SQLite (WAL, a temp dir) against PostgreSQL, in the same run.

Both journals are driven through `JournalPort` exactly as the core drives them, with the same
partial-fill reports (bench.journal_stream.fill_reports):

* append: `--reports` reports per round appended one `append([r])` call each, the loop handed
  back every `--burst` reports (as live traffic does), timed from the first call to the last
  commit: the group-commit throughput;
* commit: one report appended and awaited before the next (`--commits` per round): the latency
  a caller waiting for its write-ahead record pays;
* replay: the `--reports` reports of a session nobody streams, read back from the store by a new
  subscription from sequence 0 with `next_batch(512)` (what a resuming client triggers).

Variants alternate per round (SQLite first, then PostgreSQL first, ...). PostgreSQL: a
throwaway server started for the run (tests/support/postgres.py: initdb + pg_ctl on 127.0.0.1,
fsync off), or `--url` with the password in $KRAKENGW_BENCH_PG_PASSWORD; the ratios printed are
PostgreSQL over SQLite (below 1: PostgreSQL is slower).

    .venv/bin/python -m bench.journal_backends [--reports 5000] [--commits 300] [--rounds 5]
                                               [--burst 100] [--url URL] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bench.common import format_ratio, format_seconds, interleaved_async, summarize
from bench.journal_stream import fill_reports
from gateway.journal import PostgresJournal, SqliteJournal

Journal = SqliteJournal | PostgresJournal
PASSWORD_ENV = "KRAKENGW_BENCH_PG_PASSWORD"
BACKENDS = ("sqlite", "postgres")
T = TypeVar("T")


async def append_round(journal: Journal, session: str, count: int, burst: int) -> float:
    reports = fill_reports(session, "bench", session, count)
    start = time.perf_counter()
    pending: list[Awaitable[object]] = []
    for i, report in enumerate(reports, start=1):
        pending.append(journal.append([report]))
        if i % burst == 0:
            await asyncio.sleep(0)  # hand the loop back, as a live producer does
    await asyncio.gather(*pending)
    return time.perf_counter() - start


async def commit_round(journal: Journal, session: str, count: int) -> list[float]:
    latencies = []
    for report in fill_reports(session, "bench", session, count):
        start = time.perf_counter()
        journal.expedite()
        await journal.append([report])
        latencies.append(time.perf_counter() - start)
    return latencies


async def replay_round(journal: Journal, session: str, count: int) -> float:
    start = time.perf_counter()
    sub = journal.subscribe(session, 0)
    got = 0
    while got < count:
        got += len(await sub.next_batch(512))
    sub.close()
    return time.perf_counter() - start


async def run(
    url: str | None, password: str | None, reports: int, commits: int, rounds: int, burst: int
) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-journals-") as tmp:
        server = None
        if url is None:
            from tests.support.postgres import PostgresServer

            server = PostgresServer.start()
            url, password = server.create_database(), server.password
            print("postgres: a throwaway local server for this run (fsync off)")
        try:
            journals: dict[str, Journal] = {
                "sqlite": await SqliteJournal.open(Path(tmp)),
                "postgres": await PostgresJournal.open(url, password=password),
            }
            return await _measure(journals, reports, commits, rounds, burst)
        finally:
            if server is not None:
                await asyncio.to_thread(server.stop)


def _per_backend(
    journals: dict[str, Journal], make: Callable[[Journal], Awaitable[T]]
) -> dict[str, Callable[[], Awaitable[T]]]:
    return {name: functools.partial(make, journal) for name, journal in journals.items()}


async def _measure(
    journals: dict[str, Journal], reports: int, commits: int, rounds: int, burst: int
) -> dict[str, list[float]]:
    run_id = secrets.token_hex(3)  # a reused --url database keeps earlier runs' sessions
    counter = itertools.count()
    try:
        for journal in journals.values():  # the replayed session, written once; a warm-up
            await append_round(journal, f"replay-{run_id}", reports, burst)
            await append_round(journal, f"warm-{run_id}", burst, burst)

        def append(j: Journal) -> Awaitable[float]:
            return append_round(j, f"a-{run_id}-{next(counter)}", reports, burst)

        def commit(j: Journal) -> Awaitable[list[float]]:
            return commit_round(j, f"c-{run_id}-{next(counter)}", commits)

        def replay(j: Journal) -> Awaitable[float]:
            return replay_round(j, f"replay-{run_id}", reports)

        appended = await interleaved_async(rounds, _per_backend(journals, append))
        committed = await interleaved_async(rounds, _per_backend(journals, commit))
        replayed = await interleaved_async(rounds, _per_backend(journals, replay))
    finally:
        for journal in journals.values():
            await journal.close()
    results: dict[str, list[float]] = {}
    for name in journals:
        results[f"append-{name}"] = appended[name]
        results[f"replay-{name}"] = replayed[name]
        results[f"commit-{name}"] = [x for batch in committed[name] for x in batch]
    return results


def report(results: dict[str, list[float]], reports: int, commits: int, rounds: int) -> None:
    print(
        f"journal backends, same run: append {reports} reports x {rounds} rounds, "
        f"commit {commits} x {rounds}, replay {reports} x {rounds}; interleaved"
    )
    for what, unit in (("append", "group commit"), ("replay", "from sequence 0, next_batch")):
        medians = {}
        for backend in BACKENDS:
            times = summarize(results[f"{what}-{backend}"])
            medians[backend] = times.median
            print(
                f"{what:7} {backend:9} median {reports / times.median:9.0f} reports/s   "
                f"p99 round {reports / times.p99:9.0f} reports/s   ({unit})"
            )
        print(
            f"ratio postgres/sqlite {what} throughput "
            f"{format_ratio(medians['sqlite'], medians['postgres'])}"
        )
    latency = {backend: summarize(results[f"commit-{backend}"]) for backend in BACKENDS}
    for backend in BACKENDS:
        s = latency[backend]
        print(
            f"commit  {backend:9} median {format_seconds(s.median)}   "
            f"p99 {format_seconds(s.p99)}   (one report appended and awaited)"
        )
    print(
        "ratio postgres/sqlite commit latency (median) "
        f"{format_ratio(latency['postgres'].median, latency['sqlite'].median)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.journal_backends", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--reports", type=int, default=5000, help="reports per append round")
    parser.add_argument("--commits", type=int, default=300, help="awaited appends per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per variant")
    parser.add_argument("--burst", type=int, default=100, help="reports produced per loop turn")
    parser.add_argument(
        "--url", help=f"an existing PostgreSQL database (password: ${PASSWORD_ENV})"
    )
    parser.add_argument("--quick", action="store_true", help="1000 reports, 100 commits, 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.reports, args.commits, args.rounds = 1000, 100, 3
    password = os.environ.get(PASSWORD_ENV) if args.url else None
    results = asyncio.run(
        run(args.url, password, args.reports, args.commits, args.rounds, args.burst)
    )
    report(results, args.reports, args.commits, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
