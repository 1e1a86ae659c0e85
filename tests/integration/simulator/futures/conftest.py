"""A running simulator (one real socket on 127.0.0.1, port 0) and signed futures REST calls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
import pytest

from simulator.accounts import DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock


def authent(secret: str, post_data: str, nonce: str, path: str) -> str:
    """Client-side signing, written from wire 8.2 independently of the simulator's code."""
    digest = hashlib.sha256((post_data + nonce + path.removeprefix("/derivatives")).encode())
    mac = hmac.new(base64.b64decode(secret), digest.digest(), hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class FuturesRest:
    """A minimal Kraken Futures client: params in the query string, like CCXT."""

    def __init__(self, http: httpx.AsyncClient, key: str, secret: str) -> None:
        self.http, self.key, self.secret = http, key, secret
        self._nonce = 0

    async def call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        nonce: bool = False,
        body: str = "",
        authent_override: str | None = None,
    ) -> httpx.Response:
        query = urlencode(params or {})
        headers = {"APIKey": self.key}
        nonce_text = ""
        if nonce:
            self._nonce += 1
            nonce_text = headers["Nonce"] = str(1_700_000_000_000 + self._nonce)
        headers["Authent"] = authent_override or authent(
            self.secret, query + body, nonce_text, path
        )
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = path + ("?" + query if query else "")
        return await self.http.request(method, url, headers=headers, content=body or None)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(port=0, seed=11, clock=ManualClock()) as server:
        yield server


@pytest.fixture
def clock(sim: SimulatorServer) -> ManualClock:
    assert isinstance(sim.ctx.clock, ManualClock)
    return sim.ctx.clock


@pytest.fixture
async def rest(sim: SimulatorServer) -> AsyncIterator[FuturesRest]:
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        yield FuturesRest(http, DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET)


Msg = dict[str, Any]


def sign_challenge(challenge: str, secret: str = DEMO_FUTURES_SECRET) -> str:
    digest = hashlib.sha256(challenge.encode()).digest()
    return base64.b64encode(
        hmac.new(base64.b64decode(secret), digest, hashlib.sha512).digest()
    ).decode()


class Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, message: Msg) -> None:
        await self.ws.send_str(json.dumps(message))

    async def next(self) -> Msg:
        async with asyncio.timeout(10):
            message = await self.ws.receive()
        assert message.type is aiohttp.WSMsgType.TEXT, message
        return json.loads(message.data, parse_float=Decimal)  # type: ignore[no-any-return]

    async def until(self, match: Callable[[Msg], bool]) -> Msg:
        while True:
            message = await self.next()
            if match(message):
                return message

    async def authenticate(self) -> tuple[str, str]:
        await self.send({"event": "challenge", "api_key": DEMO_FUTURES_KEY})
        reply = await self.until(lambda m: m.get("event") == "challenge")
        return reply["message"], sign_challenge(reply["message"])

    async def subscribe_private(self, feed: str, challenge: str, signed: str) -> Msg:
        await self.send(
            {
                "event": "subscribe",
                "feed": feed,
                "api_key": DEMO_FUTURES_KEY,
                "original_challenge": challenge,
                "signed_challenge": signed,
            }
        )
        ack = await self.until(lambda m: m.get("event") is not None)
        assert ack["event"] == "subscribed" and ack["feed"] == feed, ack
        return ack


@pytest.fixture
async def client(sim: SimulatorServer) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.futures_ws_url) as ws:
        c = Client(ws)
        assert await c.next() == {"event": "info", "version": 1}
        yield c
