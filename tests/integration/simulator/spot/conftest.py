"""A live simulator on 127.0.0.1:0 and a small signed Kraken Spot REST client for the tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from simulator.spot.auth import spot_signature


class SpotClient:
    """Signs like Kraken's docs: form bodies by default, JSON on request; nonces count up."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, key: str, secret: str
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.nonce = 1_700_000_000_000
        self.headers: dict[str, str] = {}  # sent with every private request

    async def public(self, method: str, **params: Any) -> dict[str, Any]:
        async with self.session.get(f"{self.base_url}/0/public/{method}", params=params) as r:
            assert r.status == 200
            return json.loads(await r.read(), parse_float=Decimal)  # type: ignore[no-any-return]

    async def raw_private(
        self,
        method: str,
        params: dict[str, Any],
        *,
        as_json: bool = False,
        nonce: int | None = None,
        sign: str | None = None,
    ) -> bytes:
        if nonce is None:
            self.nonce += 1
            nonce = self.nonce
        body_params = {"nonce": str(nonce), **params}
        if as_json:
            body = json.dumps(body_params)
            ctype = "application/json"
        else:
            body = urlencode(body_params)
            ctype = "application/x-www-form-urlencoded"
        path = f"/0/private/{method}"
        headers = {
            "API-Key": self.key,
            "API-Sign": sign or spot_signature(self.secret, path, str(nonce), body.encode()),
            "Content-Type": ctype,
            **self.headers,
        }
        async with self.session.post(self.base_url + path, data=body, headers=headers) as r:
            assert r.status == 200
            return await r.read()

    async def private(self, method: str, **params: Any) -> dict[str, Any]:
        raw = await self.raw_private(method, params)
        return json.loads(raw, parse_float=Decimal)  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(port=0, seed=7, clock=clock) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sim: SimulatorServer, http: aiohttp.ClientSession) -> SpotClient:
    return SpotClient(http, sim.base_url, DEMO_SPOT_KEY, DEMO_SPOT_SECRET)
