"""python-kraken-sdk's SpotWSClient (PyPI, unmodified, URLs only) against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from kraken.spot import SpotWSClient

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from tests.integration.simulator.spot_ws.conftest import RECV_TIMEOUT_S
from tests.unit.simulator.spot.client_book import ClientBook

Message = dict[str, Any]


class Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()

    async def on_message(self, message: Message) -> None:
        await self.queue.put(message)

    async def expect(self, match: Callable[[Message], bool]) -> Message:
        async with asyncio.timeout(RECV_TIMEOUT_S):
            while True:
                message = await self.queue.get()
                if isinstance(message, dict) and match(message):
                    return message


def _decimal_levels(levels: list[dict[str, float]]) -> list[dict[str, Decimal]]:
    """The SDK parses numbers as floats; their repr is the shortest exact wire text."""
    return [{"price": Decimal(repr(lv["price"])), "qty": Decimal(repr(lv["qty"]))} for lv in levels]


@pytest.fixture
async def pks(sim: SimulatorServer) -> AsyncIterator[tuple[SpotWSClient, Inbox]]:
    inbox = Inbox()
    client = SpotWSClient(
        key=DEMO_SPOT_KEY,
        secret=DEMO_SPOT_SECRET,
        callback=inbox.on_message,
        rest_url=sim.base_url,
        # The SDK appends "/v2", as it does to wss://ws.kraken.com.
        ws_url=sim.spot_ws_public_url.removesuffix("/v2"),
        auth_ws_url=sim.spot_ws_private_url.removesuffix("/v2"),
    )
    await client.start()
    try:
        yield client, inbox
    finally:
        await client.close()


async def test_pks_book_and_private_order_entry(pks: tuple[SpotWSClient, Inbox]) -> None:
    client, inbox = pks
    await client.subscribe(params={"channel": "book", "symbol": ["BTC/USD"]})
    snapshot = await inbox.expect(lambda m: m.get("channel") == "book")
    assert snapshot["type"] == "snapshot"
    book = ClientBook(10, 1, 8)
    data = snapshot["data"][0]
    book.apply({side: _decimal_levels(data[side]) for side in ("asks", "bids")}, snapshot=True)
    assert book.checksum() == data["checksum"]

    await client.subscribe(params={"channel": "executions"})
    ack = await inbox.expect(lambda m: m.get("method") == "subscribe" and "executions" in str(m))
    assert ack["success"] is True
    await client.send_message(
        message={
            "method": "add_order",
            "params": {
                "order_type": "limit",
                "side": "buy",
                "order_qty": 0.01,
                "limit_price": 90000,
                "symbol": "BTC/USD",
            },
            "req_id": 5,
        }
    )
    added = await inbox.expect(lambda m: m.get("method") == "add_order")
    assert added["success"] is True and added["req_id"] == 5
    pending = await inbox.expect(
        lambda m: m.get("channel") == "executions" and m.get("type") == "update"
    )
    assert pending["data"][0]["order_id"] == added["result"]["order_id"]
