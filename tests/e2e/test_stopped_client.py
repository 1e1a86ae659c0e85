"""A SIGSTOPped client with an execution stream open: its session times out on its heartbeat
schedule all the same (the stream proves only that its TCP connection is up) and
cancel-on-disconnect fires; a drop-copy observer sees the cancel while the client is stopped."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

from krakengw import AsyncClient, ExecType
from tests.e2e.conftest import GatewayProcess

HEARTBEAT_S = 0.5
WATCHER_TOKEN = "e2e-watcher-token-0123456789abcdef"
CHILD = """
import asyncio, sys
from datetime import timedelta
from decimal import Decimal
from krakengw import AsyncClient

async def main(target: str, token: str) -> None:
    client = AsyncClient(target, token)
    await client.logon(heartbeat_interval=timedelta(seconds=HEARTBEAT_S), cancel_on_disconnect=True)
    await client.submit_order(
        "BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"), client_order_id="resting-1"
    )
    stream = client.stream_executions(0)
    print("ready", flush=True)
    async for _report in stream:
        pass

asyncio.run(main(sys.argv[1], sys.argv[2]))
""".replace("HEARTBEAT_S", str(HEARTBEAT_S))


async def test_a_stopped_client_times_out_despite_its_open_stream(
    gateway_process: GatewayProcess, tmp_path: Path
) -> None:
    (tmp_path / "watcher.token").write_text(WATCHER_TOKEN)
    (tmp_path / "watcher.token").chmod(0o600)
    config = tmp_path / "gateway.toml"
    config.write_text(
        config.read_text()
        + '\n[sessions.watcher]\naccount = "paper"\ntoken_file = "watcher.token"\n'
        + 'permissions = ["read", "drop_copy"]\n'
    )
    await gateway_process.start()
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(repo), str(repo / "clients" / "python")]),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        gateway_process.target,
        gateway_process.token,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    watcher = AsyncClient(gateway_process.target, WATCHER_TOKEN)
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 60)).strip() == b"ready"
        await watcher.logon()
        copies = watcher.stream_executions(0, drop_copy=True)
        child.send_signal(signal.SIGSTOP)  # its connection and stream stay open
        stopped_at = time.monotonic()
        async with asyncio.timeout(60):
            async for report in copies:
                if report.client_order_id == "resting-1" and report.exec_type is ExecType.CANCELED:
                    break
        took = time.monotonic() - stopped_at
        assert child.returncode is None  # still stopped, stream still open: not a disconnect
        print(f"stopped client: session timed out and its order canceled {took:.2f}s after SIGSTOP")
        await copies.aclose()
    finally:
        await watcher.close()
        if child.returncode is None:
            child.send_signal(signal.SIGCONT)
            child.kill()
        await child.wait()
    log = gateway_process.log_text()
    assert re.search(r"session end reason=timeout session_id=trader", log)
    assert re.search(r"cancel on disconnect canceled=1 reason=timeout session_id=trader", log)
