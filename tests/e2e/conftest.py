"""Run `kraken-gateway serve` as a real subprocess and talk to it with the real client."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

READY = re.compile(rb"listening on (\S+):(\d+)")
START_TIMEOUT = 60

CONFIG = """
[server]
data_dir = "data"
heartbeat_interval_s = 0.5
heartbeat_timeout_s = 30
shutdown_grace_s = 2

[accounts.paper]
permissions = ["read", "trade", "cancel_only", "drop_copy"]

[sessions.trader]
account = "paper"
token_file = "trader.token"
"""


@dataclass
class GatewayProcess:
    """One `serve` subprocess; `start` may be called again after `kill` (same data dir)."""

    workdir: Path
    token: str
    port: int = 0
    proc: asyncio.subprocess.Process | None = None
    logs: list[Path] = field(default_factory=list)
    listening_at: float = 0.0  # time.monotonic() of the last `listening on` line
    serving_at: float = 0.0  # ... and of the last `serving` line
    env: dict[str, str] = field(default_factory=dict)  # added to the next starts' environment

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, *extra: str, wait_serving: bool = True) -> None:
        """Start `serve`; return once it listens (and, with `wait_serving`, once it printed
        `serving`: every account reconciled with its venues)."""
        log = self.workdir / f"server-{len(self.logs)}.log"
        self.logs.append(log)
        listen = f"127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with log.open("wb") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--config",
                str(self.workdir / "gateway.toml"),
                "--listen",
                listen,
                *extra,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), START_TIMEOUT)
        match = READY.search(line)
        assert match, f"no ready line; got {line!r}; log: {log.read_text()[-2000:]}"
        self.port = int(match.group(2))
        self.listening_at = time.monotonic()
        if wait_serving:
            await self.wait_serving()

    async def wait_serving(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), START_TIMEOUT)
            assert line, f"stdout ended before serving; log: {self.log_text()[-2000:]}"
            if line.startswith(b"serving "):
                self.serving_at = time.monotonic()
                return

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), START_TIMEOUT)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs)


@pytest.fixture
async def gateway_process(tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    token = f"e2e-{secrets.token_urlsafe(24)}"
    token_file = tmp_path / "trader.token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    (tmp_path / "gateway.toml").write_text(CONFIG)
    process = GatewayProcess(workdir=tmp_path, token=token)
    try:
        yield process
    finally:
        if process.proc is not None and process.proc.returncode is None:
            process.proc.kill()
            await process.proc.wait()
