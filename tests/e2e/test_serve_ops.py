"""`kraken-gateway serve --log-format json --metrics ... --console ...` as a real process:
every stderr line is a JSON object with a UTC time, one line per order event carries the
order's ids, no line holds a secret; `kraken-gateway health` says SERVING while it runs and
fails once it is gone."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

import httpx

from gateway.cli import DEV_TOKEN
from krakengw import AsyncClient, ExecType
from tests.secret_scan import find_leaks, known_secrets, record_served

TIMEOUT = 60
READY = re.compile(r"listening on (\S+):(\d+)")
URL = re.compile(r"(metrics|console) on (http://\S+)")


async def _health(target: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "health", "--target", target, "--timeout", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    return proc.returncode or 0, out.decode()


async def test_json_logs_metrics_console_and_health(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KRAKENGW_TOKEN", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "serve", "--listen", "127.0.0.1:0",
            "--log-format", "json", "--metrics", "127.0.0.1:0", "--console", "127.0.0.1:0",
            stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=tmp_path, env=env,
        )  # fmt: skip
    try:
        assert proc.stdout is not None
        printed = ""
        urls: dict[str, str] = {}
        # `serving` follows the URLs once the gateway reconciled with its venue.
        while "metrics" not in urls or "console" not in urls or "\nserving " not in printed:
            line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
            assert line, f"stdout ended: {printed!r}; log: {log.read_text()[-2000:]}"
            printed += line
            for kind, url in URL.findall(line):
                urls[kind] = url
        ready = READY.search(printed)
        assert ready is not None
        target = f"127.0.0.1:{ready.group(2)}"
        code, out = await _health(target)
        assert code == 0 and "SERVING" in out, out

        async with AsyncClient(target, DEV_TOKEN) as client:
            await client.logon()
            stream = client.stream_executions(0)
            order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"))
            async with asyncio.timeout(TIMEOUT):
                async for report in stream:
                    if report.client_order_id == order.client_order_id and (
                        report.exec_type is ExecType.FILL
                    ):
                        break
            await stream.aclose()
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(urls["metrics"], timeout=10)).text
                page = await http.get(urls["console"], timeout=10)
                state = (await http.get(urls["console"] + "api/state", timeout=10)).text
            await client.logout()
        assert "krakengw_venue_request_seconds_bucket" in metrics
        assert page.status_code == 200 and "console.js" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert order.client_order_id in state
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    code, out = await _health(target)
    assert code == 1, out

    lines = log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(e["time"].endswith("Z") for e in entries)
    events = [e for e in entries if e["logger"] == "gateway.orders"]
    mine = [e for e in events if e["client_order_id"] == order.client_order_id]
    assert [e["exec_type"] for e in mine][-1] == "FILL"
    assert all(e["venue_order_id"] for e in mine if e["exec_type"] != "PENDING_NEW")
    assert any(e["message"] == "journal closed" for e in entries)
    texts = [*lines, metrics, state, page.text]
    for text in texts:
        record_served(text)
    assert find_leaks(texts, known_secrets()) == []
