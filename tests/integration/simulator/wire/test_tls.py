"""`--tls` / `SimulatorServer(tls=True)`: HTTPS and WSS on the one port, trusted via the printed
certificate file only (no verification switched off anywhere)."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from kraken.spot import Market

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from tests.integration.simulator.spot.conftest import SpotClient


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    clock = ManualClock(1_700_000_000)
    async with SimulatorServer(port=0, seed=3, clock=clock, tls=True) as server:
        yield server


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


async def test_https_and_wss_with_the_certificate_trusted(sim: SimulatorServer) -> None:
    assert sim.tls_cert_path is not None and sim.tls_cert_path.is_file()
    urls = sim.urls()
    assert urls["spot_rest"].startswith("https://127.0.0.1:")
    assert all(urls[n].startswith("wss://") for n in ("spot_ws_public", "futures_ws"))
    connector = aiohttp.TCPConnector(ssl=trusting(sim.tls_cert_path))
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(sim.base_url + "/0/public/Time") as reply:
            assert (await reply.json())["result"]["unixtime"] == 1_700_000_000
        # A signed private call: the body and signature travel inside TLS unchanged.
        spot = SpotClient(http, sim.base_url, DEMO_SPOT_KEY, DEMO_SPOT_SECRET)
        assert (await spot.private("Balance"))["error"] == []
        async with http.get(sim.futures_base_url + "/instruments") as reply:
            assert (await reply.json())["result"] == "success"
        async with http.ws_connect(sim.spot_ws_public_url) as ws:
            status = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
            assert status["channel"] == "status"
        async with http.ws_connect(sim.futures_ws_url) as ws:
            info = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
            assert info == {"event": "info", "version": 1}


async def test_a_client_that_does_not_trust_the_certificate_is_refused(
    sim: SimulatorServer,
) -> None:
    async with aiohttp.ClientSession() as http:  # the system trust store only
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(sim.base_url + "/0/public/Time")


async def test_python_kraken_sdk_over_https_by_url_and_ca_bundle_only(
    sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sim.tls_cert_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sim.tls_cert_path))  # what a user would set
    market = Market(url=sim.base_url)
    info = await asyncio.to_thread(market.get_asset_pairs, pair="BTC/USD")  # sync client
    assert info["BTC/USD"]["altname"] == "XBTUSD"


async def test_cli_tls_prints_the_certificate_and_serves_https() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--port", "0", "--tls", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        printed: dict[str, str] = {}
        while "tls_cert" not in printed:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "simulator exited early"
            name, value = line.split(maxsplit=1)
            printed[name] = value.strip()
        assert printed["spot_rest"].startswith("https://")
        assert printed["spot_ws_public"].startswith("wss://")
        cert = Path(printed["tls_cert"])
        connector = aiohttp.TCPConnector(ssl=trusting(cert))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.get(printed["spot_rest"] + "/0/public/SystemStatus") as reply,
        ):
            assert (await reply.json())["result"]["status"] == "online"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert not cert.exists()  # the temporary certificate directory goes with the process
