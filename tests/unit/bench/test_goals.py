"""Smoke test of `python -m bench.goals`: it runs every goal's benchmark end to end at tiny sizes
and prints one `GOAL` line per goal in the agreed format. No timing assertions: a goal may be
MET or MISSED here, only the shape of the output and the exit code are checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.goals import Goal

REPO = Path(__file__).resolve().parents[3]
NAMES = [
    "order_ack_vs_floor_p50",
    "order_ack_vs_floor_p99",
    "cpu_per_order_vs_grpc",
    "orders_per_s_p99_10ms",
    "journal_stream_vs_plain",
    "replay_reports_per_s",
]
LINE = re.compile(r"^GOAL (\S+) (\d+(?:\.\d+)?) (<=|>=) (\d+(?:\.\d+)?) (MET|MISSED)$")


def test_goal_line_says_met_or_missed_by_its_operator() -> None:
    assert Goal("a", 1.2, "<=", 1.5).line() == "GOAL a 1.20 <= 1.50 MET"
    assert Goal("a", 1.7, "<=", 1.5).line() == "GOAL a 1.70 <= 1.50 MISSED"
    assert Goal("b", 1499.6, ">=", 1500).line() == "GOAL b 1500 >= 1500 MISSED"
    assert Goal("b", 52_000.4, ">=", 50_000).line() == "GOAL b 52000 >= 50000 MET"


def test_goals_prints_one_line_per_goal_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.goals", "--scale", "0.01", "--processes", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("GOAL ")]
    assert [LINE.match(line).group(1) for line in lines if LINE.match(line)] == NAMES, lines
    # The figures the goals come from are printed too, with the stage breakdown of an order.
    assert "gateway / (echo + spot floor)" in done.stdout
    assert "gateway / (echo + futures floor)" in done.stdout
    assert "venue round trip" in done.stdout
    assert "CPU per order" in done.stdout
    assert "1 gateway process, paper venue, 100 sessions" in done.stdout
    assert "2 gateway processes, paper venue, 100 sessions" in done.stdout
    assert "ratio journal/plain throughput" in done.stdout
