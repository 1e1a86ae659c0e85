"""`kraken-gateway serve` with no config: it embeds the local Kraken simulator, trades on it
through the Kraken Spot adapter, and a client's marketable order comes back filled."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

from krakengw import AsyncClient, ExecType, ExecutionReport

from gateway.cli import DEV_TOKEN
from simulator.accounts import DEMO_SPOT_SECRET

TIMEOUT = 60
READY = re.compile(r"listening on (\S+):(\d+)")


async def test_serve_without_config_trades_on_the_embedded_simulator(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KRAKENGW_TOKEN", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--listen",
            "127.0.0.1:0",
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=tmp_path,
            env=env,
        )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        ready = READY.search(first)
        assert ready, f"no ready line: {first!r}; log: {log.read_text()[-2000:]}"
        printed = first
        while "faults_admin" not in printed:  # the simulator's URLs follow the ready line
            line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
            assert line, f"stdout ended early: {printed!r}"
            printed += line
        assert re.search(r"spot_rest\s+http://127\.0\.0\.1:\d+", printed), printed
        assert re.search(r"spot_ws_private\s+ws://127\.0\.0\.1:\d+/ws-auth/v2", printed)

        async with AsyncClient(f"127.0.0.1:{ready.group(2)}", DEV_TOKEN) as client:
            await client.logon()
            symbols = {i.symbol for i in await client.list_instruments()}
            assert {"BTC/USD", "ETH/USD"} <= symbols
            stream = client.stream_executions(0)
            order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"))
            fill: ExecutionReport | None = None
            async with asyncio.timeout(TIMEOUT):
                async for report in stream:
                    if report.client_order_id == order.client_order_id and (
                        report.exec_type is ExecType.FILL
                    ):
                        fill = report
                        break
            await stream.aclose()
            assert fill is not None
            assert fill.cum_qty == Decimal("0.01") and fill.leaves_qty == 0
            assert fill.last_px is not None and fill.last_px > 0
            assert fill.fee is not None and fill.fee.amount > 0
            await client.logout()

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = log.read_text()
    assert "journal closed" in text
    assert DEV_TOKEN not in text
    assert DEMO_SPOT_SECRET not in text
    # The journal lived in a temporary directory, not in the working directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serve.log"]
