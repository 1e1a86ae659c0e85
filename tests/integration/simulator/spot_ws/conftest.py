"""A real simulator on 127.0.0.1:0 and a small Kraken WS v2 test client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from simulator.accounts import DEMO_SPOT_KEY
from simulator.app import SimulatorServer
from simulator.context import make_context
from simulator.engine.clock import ManualClock
from simulator.engine.spot import SpotEngine
from simulator.wire.json_codec import decode, encode

RECV_TIMEOUT_S = 5.0  # a guard against hangs, never a synchronisation device

Message = dict[str, Any]


class WsClient:
    """One WS v2 connection; `expect` skips heartbeats and returns the first matching message."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[Message] = []
        self.backlog: list[Message] = []
        self._req_id = 0

    async def send(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._req_id += 1
        request: dict[str, Any] = {"method": method, "req_id": self._req_id}
        if params is not None:
            request["params"] = params
        await self.ws.send_str(encode(request))
        return self._req_id

    async def recv(self) -> Message:
        message = await asyncio.wait_for(self.ws.receive(), RECV_TIMEOUT_S)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket ended: {message.type!r}")
        parsed: Message = decode(message.data)
        self.seen.append(parsed)
        return parsed

    async def expect(self, match: Callable[[Message], bool]) -> Message:
        """The first message (held back or new) that `match`es; others stay held back."""
        for index, held in enumerate(self.backlog):
            if match(held):
                return self.backlog.pop(index)
        async with asyncio.timeout(RECV_TIMEOUT_S):  # heartbeats must not keep us waiting
            while True:
                message = await self.recv()
                if message.get("channel") == "heartbeat":
                    continue
                if match(message):
                    return message
                self.backlog.append(message)

    async def reply(self, req_id: int) -> Message:
        return await self.expect(lambda m: m.get("req_id") == req_id)

    async def channel(self, name: str, kind: str | None = None) -> Message:
        return await self.expect(
            lambda m: m.get("channel") == name and (kind is None or m.get("type") == kind)
        )

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Message:
        return await self.reply(await self.send(method, params))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    # A manual clock keeps the market maker still: every book change comes from the test.
    ctx = make_context(seed=7, clock=ManualClock())
    async with SimulatorServer(context=ctx) as server:
        yield server


@pytest.fixture
def engine(sim: SimulatorServer) -> SpotEngine:
    return sim.ctx.spot()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def connect(sim: SimulatorServer, http: aiohttp.ClientSession) -> Callable[..., Any]:
    async def open_client(private: bool = False) -> WsClient:
        url = sim.spot_ws_private_url if private else sim.spot_ws_public_url
        client = WsClient(await http.ws_connect(url))
        status = await client.recv()
        assert status["channel"] == "status"
        return client

    return open_client


@pytest.fixture
def token(sim: SimulatorServer) -> str:
    """A fresh WS token of the demo key, as GetWebSocketsToken would issue it."""
    key = sim.ctx.accounts.key(DEMO_SPOT_KEY)
    assert key is not None
    return sim.ctx.ws_tokens.issue(key, sim.ctx.now())
