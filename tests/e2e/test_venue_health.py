"""Issue 9 (trust): the gateway follows its venue. Health of the venue-bound services goes
NOT_SERVING while Kraken (the simulator) is in maintenance and SERVING again when it returns,
Logon and GetLimits say why; start-up against an unreachable venue retries with backoff, one
log line per try, and a start-up that gives up is one line and a non-zero exit, no traceback."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.venues.factory import GatewayVenues
from krakengw import AsyncClient
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import TRADER, accounts, key_of, set_faults

TIMEOUT = 30
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
startup_retry_s = @RETRY@

[kraken]
rest_url = "http://127.0.0.1:@PORT@"
ws_public_url = "ws://127.0.0.1:@PORT@/ws/v2"
ws_private_url = "ws://127.0.0.1:@PORT@/ws-auth/v2"
tier = "pro"

[accounts.trader]
permissions = ["read", "trade"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(tmp_path: Path, sim_port: int, retry_s: float) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(CONFIG.replace("@PORT@", str(sim_port)).replace("@RETRY@", str(retry_s)))
    return path


def _env(token: str) -> dict[str, str]:
    key, secret = key_of(TRADER)
    return {"SPOT_KEY": key, "SPOT_SECRET": secret, "TOKEN_S1": token}


async def _watch_until(stub: health_pb2_grpc.HealthStub, service: str, want: int) -> None:
    """Wait on the health Watch stream (pushed changes) until `service` reports `want`."""
    call = stub.Watch(health_pb2.HealthCheckRequest(service=service))
    try:
        async with asyncio.timeout(TIMEOUT):
            async for reply in call:
                if reply.status == want:
                    return
    finally:
        call.cancel()


@pytest.fixture
async def sim_and_gateway(tmp_path: Path) -> AsyncIterator[tuple[SimulatorServer, GatewayApp]]:
    port = _free_port()
    async with SimulatorServer(
        host="127.0.0.1", port=port, seed=3, accounts=accounts([TRADER])
    ) as sim:
        token = f"tok-{secrets.token_urlsafe(24)}"
        config = load_config(_config(tmp_path, port, 5), environ=_env(token))
        venues = GatewayVenues(config.kraken)
        app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
        app.test_token = token  # type: ignore[attr-defined]
        await app.start()
        try:
            yield sim, app
        finally:
            await app.stop()


async def test_health_logon_and_limits_follow_venue_maintenance(
    sim_and_gateway: tuple[SimulatorServer, GatewayApp],
) -> None:
    sim, app = sim_and_gateway
    target = f"127.0.0.1:{app.port}"
    async with grpc.aio.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        orders = "krakengw.v1.OrderService"
        await _watch_until(health, orders, SERVING)
        await set_faults(sim, {"system_status": "maintenance"})
        await _watch_until(health, orders, NOT_SERVING)
        # Served by the gateway itself: still up.
        sessions = await health.Check(
            health_pb2.HealthCheckRequest(service="krakengw.v1.SessionService")
        )
        assert sessions.status == SERVING
        async with AsyncClient(target, app.test_token) as client:  # type: ignore[attr-defined]
            info = await client.logon()
            assert info.venue_status == "kraken: maintenance"
            assert (await client.get_limits()).venue_status == "kraken: maintenance"
            await set_faults(sim, {"system_status": "online"})
            await _watch_until(health, orders, SERVING)
            assert (await client.get_limits()).venue_status == ""


async def _lines_until(stream: asyncio.StreamReader, needle: bytes) -> list[bytes]:
    lines: list[bytes] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            line = await stream.readline()
            assert line, f"stream ended before {needle!r}: {lines}"
            lines.append(line)
            if needle in line:
                return lines


async def _serve(tmp_path: Path, port: int, retry_s: float) -> asyncio.subprocess.Process:
    token = f"tok-{secrets.token_urlsafe(24)}"
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "serve",
        "--config",
        str(_config(tmp_path, port, retry_s)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **_env(token), "PYTHONUNBUFFERED": "1"},
    )


async def test_start_up_retries_an_unreachable_venue_until_it_answers(tmp_path: Path) -> None:
    port = _free_port()
    proc = await _serve(tmp_path, port, 60)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        first = await _lines_until(proc.stderr, b"retrying in")
        assert b"try 1" in first[-1]
        async with SimulatorServer(
            host="127.0.0.1", port=port, seed=3, accounts=accounts([TRADER])
        ):
            ready = await _lines_until(proc.stdout, b"listening on")
            assert ready
            proc.terminate()
            assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_start_up_that_gives_up_is_one_line_and_exit_1(tmp_path: Path) -> None:
    proc = await _serve(tmp_path, _free_port(), 1)
    _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 1
    text = err.decode()
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    retries = [line for line in lines if "retrying in" in line]
    assert retries and all("unavailable at start-up" in line for line in retries)
    assert lines[-1].startswith("kraken-gateway: ")
    assert "unreachable" in lines[-1].lower()
