"""`kraken-gateway demo` as a real process: simulator + gateway + demo strategy, exit 0, and
every kind of execution report the strategy waits for shows up in its printed table."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

TIMEOUT = 90
EXPECTED = (
    "PENDING_NEW",
    "NEW",
    "REPLACED",
    "PENDING_CANCEL",
    "CANCELED",
    "FILL",
)


async def test_demo_exits_0_and_prints_the_reports(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KRAKENGW_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "demo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,  # the demo writes nothing outside its own temporary directory
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text, errors = out.decode(), err.decode()
    assert proc.returncode == 0, f"stdout:\n{text[-3000:]}\nstderr:\n{errors[-3000:]}"
    rows = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    exec_types = {row[2] for row in rows if len(row) > 3}
    assert set(EXPECTED) <= exec_types, exec_types
    sequences = [int(row[0]) for row in rows]
    assert sequences == list(range(1, len(sequences) + 1))
    assert "demo complete" in text
    # The futures section: a perpetual order filled, and the reduce-only close left it flat.
    assert any(row[4:5] == ["BTC/USD:USD"] and row[2] == "FILL" for row in rows)
    assert "position BTC/USD:USD after the reduce-only close: 0" in text
    assert list(tmp_path.iterdir()) == []
