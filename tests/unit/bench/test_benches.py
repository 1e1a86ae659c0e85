"""Smoke tests of the benchmarks: each runs end to end with tiny sizes and prints its figures.
No timing assertions: only that the runs complete and the figure lines are there."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import journal_backends, journal_stream, order_entry
from bench.__main__ import discover
from bench.__main__ import main as run_benches
from bench.common import (
    format_ratio,
    format_seconds,
    interleaved,
    percentile,
    round_order,
    summarize,
)
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[3]
RATE = r"\d+ reports/s"


def test_percentile_is_nearest_rank() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 1.0) == 100.0
    assert percentile(samples, 0.0) == 1.0
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_summary_ratio_and_units() -> None:
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert (s.count, s.median, s.p99, s.minimum, s.maximum) == (4, 2.5, 4.0, 1.0, 4.0)
    assert format_ratio(9.0, 10.0) == "x0.90"
    assert format_ratio(1.0, 0.0) == "x-"
    assert format_seconds(0.000_812_3) == "812.3 us"
    assert format_seconds(0.004_21) == "4.21 ms"
    assert format_seconds(2.5) == "2.50 s"


def test_rounds_alternate_the_order_of_variants() -> None:
    assert round_order(["a", "b"], 0) == ["a", "b"]
    assert round_order(["a", "b"], 1) == ["b", "a"]
    calls: list[str] = []

    def variant(name: str) -> Callable[[], int]:
        def run() -> int:
            calls.append(name)
            return len(calls)

        return run

    results: dict[str, list[int]] = interleaved(3, {"a": variant("a"), "b": variant("b")})
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert results == {"a": [1, 4, 5], "b": [2, 3, 6]}


def test_journal_stream_runs_and_prints_every_variant(capsys: pytest.CaptureFixture[str]) -> None:
    assert journal_stream.main(["--reports", "30", "--rounds", "2", "--burst", "7"]) == 0
    out = capsys.readouterr().out
    for name in ("plain", "convert", "journal", "gateway", "journal-batched"):
        assert re.search(rf"^{name} +median +{RATE} +p99 round +{RATE} +x\d+\.\d\d", out, re.M)
    assert re.search(r"ratio journal/plain throughput x\d+\.\d\d", out)
    assert re.search(r"ratio journal-batched/plain throughput x\d+\.\d\d \(coalesced", out)
    assert re.search(r"replay of 30 journaled reports .* batched/single throughput x\d+\.\d\d", out)


def test_journal_backends_runs_and_prints_the_ratios(
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(journal_backends.PASSWORD_ENV, postgres_server.password)
    url = postgres_server.create_database()
    args = ["--reports", "40", "--commits", "5", "--rounds", "2", "--burst", "7", "--url", url]
    assert journal_backends.main(args) == 0
    out = capsys.readouterr().out
    for what in ("append", "replay"):
        for backend in ("sqlite", "postgres"):
            assert re.search(rf"^{what} +{backend} +median +{RATE} +p99 round +{RATE}", out, re.M)
        assert re.search(rf"ratio postgres/sqlite {what} throughput x\d+\.\d\d", out)
    assert re.search(r"^commit +postgres +median .+ p99 ", out, re.M)
    assert re.search(r"ratio postgres/sqlite commit latency \(median\) x\d+\.\d\d", out)


def test_order_entry_runs_and_prints_p50_p99(capsys: pytest.CaptureFixture[str]) -> None:
    assert order_entry.main(["--orders", "5", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    for name in ("unary", "stream"):
        assert re.search(rf"^{name} +p50 +[\d.]+ [mu]?s +p99 +[\d.]+ [mu]?s", out, re.M)
        assert "(10 samples)" in out
    assert re.search(r"ratio stream/unary: p50 x\d+\.\d\d, p99 x\d+\.\d\d", out)


def test_runner_finds_every_bench_module(capsys: pytest.CaptureFixture[str]) -> None:
    names = discover()
    assert names[:2] == ["journal_stream", "order_entry"]
    assert {"sim_rest", "sim_ws", "kraken_parse"} <= set(names)
    assert not {"common", "__main__", "__init__"} & set(names)
    assert run_benches(["--list"]) == 0
    assert capsys.readouterr().out.split() == names
    assert run_benches(["no_such_bench"]) == 2


def test_runner_runs_one_bench_with_its_arguments() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "order_entry", "--orders", "3", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio stream/unary" in done.stdout
    assert "=== bench.order_entry: ok" in done.stdout


def test_tracing_overhead_runs_and_prints_both_variants(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import tracing_overhead

    assert tracing_overhead.main(["--orders", "5", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    for name in ("off", "on "):
        assert re.search(rf"^tracing {name} p50 +[\d.]+ [mu]?s +p99", out, re.M)
    assert re.search(r"ratio on/off: p50 x\d+\.\d\d, p99 x\d+\.\d\d \((\d+) spans", out)
    assert re.search(r"tracing off: \d+ ns per span\(\) call x 2 per order", out)
    from gateway.core import tracing

    assert tracing._factory is None  # the bench leaves tracing off
