"""The book channel over a real socket: a rule-following client book matches every checksum."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from simulator.accounts import DEMO_ACCOUNT_ID
from simulator.app import SimulatorServer
from simulator.engine.model import OrderParams, OrderType, Side
from simulator.engine.spot import SpotEngine
from simulator.faults import FaultAction, FaultRule
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot_ws.conftest import Message, WsClient
from tests.unit.simulator.spot.client_book import ClientBook

Connect = Callable[..., Any]
D = Decimal
PAIR = "XXBTZUSD"
SYMBOL = "BTC/USD"


async def _precisions(client: WsClient, symbol: str) -> tuple[int, int]:
    """Price/qty decimals from the instrument channel, as a real client gets them."""
    await client.call("subscribe", {"channel": "instrument"})
    snapshot = await client.channel("instrument", "snapshot")
    await client.call("unsubscribe", {"channel": "instrument"})
    pair = next(p for p in snapshot["data"]["pairs"] if p["symbol"] == symbol)
    return pair["price_precision"], pair["qty_precision"]


async def _book_messages_until_pong(client: WsClient) -> list[Message]:
    """Everything published before the server answered our ping (the flush precedes it)."""
    req_id = await client.send("ping")
    out: list[Message] = []
    while True:
        message = await client.recv()
        if message.get("req_id") == req_id:
            return out
        if message.get("channel") == "book":
            out.append(message)


def _random_change(engine: SpotEngine, rng: random.Random, open_ids: list[str]) -> None:
    if open_ids and rng.random() < 0.35:
        engine.cancel_order(DEMO_ACCOUNT_ID, open_ids.pop(rng.randrange(len(open_ids))))
        return
    side = rng.choice([Side.BUY, Side.SELL])
    if rng.random() < 0.1:
        engine.add_order(
            DEMO_ACCOUNT_ID,
            OrderParams(pair=PAIR, side=side, ordertype=OrderType.MARKET, volume="0.3"),
        )
        return
    # Rest on our own side of the market, inside and beyond the top levels.
    offset = D(rng.randint(1, 400)) / 2
    price = D("99990.0") - offset if side is Side.BUY else D("100010.0") + offset
    qty = D(rng.randint(1, 5000)) / 10000
    added = engine.add_order(
        DEMO_ACCOUNT_ID,
        OrderParams(
            pair=PAIR,
            side=side,
            ordertype=OrderType.LIMIT,
            volume=qty,
            price=price,
            oflags=frozenset({"post"}),
        ),
    )
    if added.txid is not None and added.order is not None and added.order.is_open:
        open_ids.append(added.txid)


@pytest.mark.parametrize(
    "trim_each_level", [False, True], ids=["trim-per-message", "trim-per-level"]
)
@pytest.mark.parametrize("depth", [10, 25])
async def test_client_book_checksum_matches_every_message(
    connect: Connect, engine: SpotEngine, depth: int, trim_each_level: bool
) -> None:
    """Several changes per published message (one flush), so a message can both insert a better
    level and delete one it displaces; a client trimming after each level must keep up too."""
    client: WsClient = await connect()
    price_decimals, qty_decimals = await _precisions(client, SYMBOL)
    ack = await client.call("subscribe", {"channel": "book", "symbol": [SYMBOL], "depth": depth})
    assert ack["result"] == {"channel": "book", "depth": depth, "snapshot": True, "symbol": SYMBOL}
    snapshot = await client.channel("book", "snapshot")
    (data,) = snapshot["data"]
    assert set(data) == set(kraken_fixture("ws_book_snapshot.json")["data"][0])
    book = ClientBook(depth, price_decimals, qty_decimals, trim_each_level=trim_each_level)
    book.apply(data, snapshot=True)
    assert book.checksum() == data["checksum"]
    assert book.sorted_asks() == engine.book_levels(PAIR, Side.SELL, depth)

    rng = random.Random(depth)
    open_ids: list[str] = []
    updates = 0
    for _ in range(80):
        for _ in range(rng.randint(1, 4)):  # no await in between: one flush, one message
            _random_change(engine, rng, open_ids)
        for message in await _book_messages_until_pong(client):
            assert message["type"] == "update"
            (update,) = message["data"]
            book.apply(update, snapshot=False)
            assert book.checksum() == update["checksum"]
            updates += 1
        assert book.sorted_asks() == engine.book_levels(PAIR, Side.SELL, depth)
        assert book.sorted_bids() == engine.book_levels(PAIR, Side.BUY, depth)
    assert updates >= 40


async def test_wrong_checksum_fault_then_resubscribe_resyncs(
    sim: SimulatorServer, connect: Connect, engine: SpotEngine
) -> None:
    client: WsClient = await connect()
    price_decimals, qty_decimals = await _precisions(client, SYMBOL)
    await client.call("subscribe", {"channel": "book", "symbol": [SYMBOL]})
    book = ClientBook(10, price_decimals, qty_decimals)
    book.apply((await client.channel("book", "snapshot"))["data"][0], snapshot=True)
    sim.ctx.faults.add(FaultRule(match="ws:book", action=FaultAction.BAD_CHECKSUM, times=1))
    rng = random.Random(5)
    mismatch = None
    while mismatch is None:
        _random_change(engine, rng, [])
        for message in await _book_messages_until_pong(client):
            book.apply(message["data"][0], snapshot=False)
            if book.checksum() != message["data"][0]["checksum"]:
                mismatch = message
    # The book itself was right: only the checksum was corrupted. A resync starts clean.
    unsub = await client.call("unsubscribe", {"channel": "book", "symbol": [SYMBOL]})
    assert unsub["success"] is True
    await client.call("subscribe", {"channel": "book", "symbol": [SYMBOL]})
    fresh = (await client.channel("book", "snapshot"))["data"][0]
    book.apply(fresh, snapshot=True)
    assert book.checksum() == fresh["checksum"]
    _random_change(engine, rng, [])
    for message in await _book_messages_until_pong(client):
        book.apply(message["data"][0], snapshot=False)
        assert book.checksum() == message["data"][0]["checksum"]


async def test_two_symbols_one_request_get_one_ack_each(connect: Connect) -> None:
    client: WsClient = await connect()
    req_id = await client.send(
        "subscribe", {"channel": "book", "symbol": [SYMBOL, "ETH/USD"], "depth": 10}
    )
    acks: list[Message] = []
    snapshots: list[Message] = []
    while len(acks) < 2 or len(snapshots) < 2:
        message = await client.expect(lambda m: True)
        if message.get("req_id") == req_id:
            acks.append(message)
        elif message.get("channel") == "book":
            snapshots.append(message)
    assert [a["result"]["symbol"] for a in acks] == [SYMBOL, "ETH/USD"]
    assert {s["data"][0]["symbol"] for s in snapshots} == {SYMBOL, "ETH/USD"}
    assert all(s["type"] == "snapshot" for s in snapshots)
