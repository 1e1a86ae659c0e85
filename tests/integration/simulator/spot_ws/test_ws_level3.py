"""level3 over a real socket: a client applying add/modify/delete keeps every order and checksum."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp

from simulator.app import SimulatorServer
from simulator.engine.model import Side
from simulator.engine.spot import SpotEngine
from simulator.spot.book_checksum import l3_checksum
from simulator.spot.ws import SPOT_WS_L3_PATH
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot_ws.conftest import Message, WsClient
from tests.integration.simulator.spot_ws.test_ws_book import PAIR, SYMBOL, _random_change

Connect = Callable[..., Any]


class ClientL3Book:
    def __init__(self) -> None:
        self.sides: dict[str, dict[Decimal, list[tuple[str, Decimal]]]] = {"asks": {}, "bids": {}}

    def apply(self, data: Message, *, snapshot: bool) -> None:
        for side in ("asks", "bids"):
            levels = self.sides[side]
            if snapshot:
                levels.clear()
            for entry in data[side]:
                price, order_id = Decimal(entry["limit_price"]), entry["order_id"]
                event = entry.get("event", "add")
                queue = levels.setdefault(price, [])
                if event == "add":
                    queue.append((order_id, Decimal(entry["order_qty"])))
                elif event == "modify":
                    index = [o for o, _ in queue].index(order_id)
                    queue[index] = (order_id, Decimal(entry["order_qty"]))
                else:
                    queue[:] = [(o, q) for o, q in queue if o != order_id]
                if not queue:
                    del levels[price]

    def orders(self, side: str) -> list[tuple[Decimal, str, Decimal]]:
        prices = sorted(self.sides[side], reverse=side == "bids")
        return [(p, o, q) for p in prices for o, q in self.sides[side][p]]

    def checksum(self) -> int:
        asks = [(p, q) for p, _, q in self.orders("asks")]
        bids = [(p, q) for p, _, q in self.orders("bids")]
        return l3_checksum(asks, bids, 1, 8)


def _engine_orders(engine: SpotEngine, side: Side) -> list[tuple[Decimal, str, Decimal]]:
    book = engine.book(PAIR)
    return [
        (price, order.txid, book.qty_of(order.txid))
        for price in list(book.prices(side))[:10]
        for order in book.items_at(side, price)
    ]


async def test_level3_follows_every_order(
    sim: SimulatorServer, http: aiohttp.ClientSession, engine: SpotEngine, token: str
) -> None:
    client = WsClient(await http.ws_connect(f"{sim.base_url}{SPOT_WS_L3_PATH}"))
    assert (await client.recv())["channel"] == "status"
    refused = await client.call("subscribe", {"channel": "level3", "symbol": [SYMBOL]})
    assert refused["success"] is False
    ack = await client.call("subscribe", {"channel": "level3", "symbol": [SYMBOL], "token": token})
    assert ack["result"]["depth"] == 10
    snapshot = (await client.channel("level3", "snapshot"))["data"][0]
    assert set(snapshot) == set(kraken_fixture("ws_l3_snapshot.json")["data"][0])
    book = ClientL3Book()
    book.apply(snapshot, snapshot=True)
    assert book.checksum() == snapshot["checksum"]
    rng = random.Random(11)
    open_ids: list[str] = []
    updates = 0
    for _ in range(40):
        _random_change(engine, rng, open_ids)
        req_id = await client.send("ping")
        while (message := await client.recv()).get("req_id") != req_id:
            if message.get("channel") == "level3":
                book.apply(message["data"][0], snapshot=False)
                assert book.checksum() == message["data"][0]["checksum"]
                updates += 1
        assert book.orders("asks") == _engine_orders(engine, Side.SELL)
        assert book.orders("bids") == _engine_orders(engine, Side.BUY)
    assert updates >= 20


async def test_level3_only_on_the_l3_endpoint(connect: Connect, token: str) -> None:
    client: WsClient = await connect(private=True)
    reply = await client.call(
        "subscribe", {"channel": "level3", "symbol": [SYMBOL], "token": token}
    )
    assert reply["success"] is False
