"""`python -m simulator` prints its URLs and serves Kraken's paths on the port it chose."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp


async def test_cli_prints_urls_and_serves(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"system_status": "post_only"}))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", "0", "--seed", "5",
        "--faults", str(faults), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        urls: dict[str, str] = {}
        while "faults_admin" not in urls:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "simulator exited early"
            name, url = line.split(maxsplit=1)
            urls[name] = url.strip()
        assert urls["spot_ws_private"].endswith("/ws-auth/v2")
        assert urls["futures_rest"] == urls["spot_rest"] + "/derivatives/api/v3"
        status_url = urls["spot_rest"] + "/0/public/SystemStatus"
        async with aiohttp.ClientSession() as http, http.get(status_url) as r:
            assert (await r.json())["result"]["status"] == "post_only"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_cli_rejects_a_bad_accounts_file(tmp_path: Path) -> None:
    bad = tmp_path / "accounts.toml"
    bad.write_text('[[accounts]]\nid = "A"\ntier = "platinum"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--accounts", str(bad),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"unknown tier" in err
