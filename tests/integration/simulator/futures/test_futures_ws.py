"""Futures WS v1 over a real socket: challenge auth, book seq, private feeds after REST orders."""

from __future__ import annotations

import json
import random
from decimal import Decimal

from simulator.accounts import DEMO_FUTURES_KEY
from simulator.app import SimulatorServer
from tests.fixtures import kraken_fixture

from .conftest import Client, FuturesRest

V3 = "/derivatives/api/v3/"


async def test_challenge_auth_and_bad_signature(client: Client) -> None:
    challenge, signed = await client.authenticate()
    assert len(challenge) == 36 and challenge.count("-") == 4
    await client.send(
        {
            "event": "subscribe",
            "feed": "open_orders",
            "api_key": DEMO_FUTURES_KEY,
            "original_challenge": challenge,
            "signed_challenge": "x" + signed[1:],
        }
    )
    assert await client.next() == {"event": "error", "message": "Invalid challenge"}
    ack = await client.subscribe_private("open_orders", challenge, signed)
    assert ack["original_challenge"] == challenge
    snapshot = await client.next()
    assert snapshot == {
        "feed": "open_orders_snapshot",
        "account": snapshot["account"],
        "orders": [],
    }
    await client.send({"event": "subscribe", "feed": "nope"})
    assert await client.next() == {"event": "error", "message": "Invalid feed"}
    await client.ws.send_str("{not json")
    assert await client.next() == {"event": "error", "message": "Json Error"}


async def test_book_snapshot_then_contiguous_deltas(client: Client, rest: FuturesRest) -> None:
    await client.send({"event": "subscribe", "feed": "book", "product_ids": ["PF_XBTUSD"]})
    assert await client.next() == {
        "event": "subscribed",
        "feed": "book",
        "product_ids": ["PF_XBTUSD"],
    }
    snapshot = await client.next()
    assert snapshot["feed"] == "book_snapshot" and snapshot["product_id"] == "PF_XBTUSD"
    assert snapshot["tickSize"] is None and len(snapshot["bids"]) == 10
    price = Decimal(snapshot["bids"][0]["price"]) - 3  # a fresh level below the best bid
    assert all(Decimal(b["price"]) != price for b in snapshot["bids"])
    sent = await rest.call(
        "POST",
        V3 + "sendorder",
        {
            "orderType": "lmt",
            "symbol": "PF_XBTUSD",
            "side": "buy",
            "size": "0.25",
            "limitPrice": str(price),
        },
    )
    order_id = json.loads(sent.text)["sendStatus"]["order_id"]
    added = await client.next()
    assert added == {
        "feed": "book",
        "product_id": "PF_XBTUSD",
        "side": "buy",
        "seq": snapshot["seq"] + 1,
        "price": price,
        "qty": Decimal("0.25"),
        "timestamp": added["timestamp"],
    }
    await rest.call("POST", V3 + "cancelorder", {"order_id": order_id})
    removed = await client.next()
    assert (removed["seq"], removed["price"], removed["qty"]) == (snapshot["seq"] + 2, price, 0)


async def test_fills_and_open_orders_after_a_rest_order(client: Client, rest: FuturesRest) -> None:
    challenge, signed = await client.authenticate()
    await client.subscribe_private("fills", challenge, signed)
    assert (await client.next())["feed"] == "fills_snapshot"
    await client.subscribe_private("open_orders", challenge, signed)
    assert (await client.next())["feed"] == "open_orders_snapshot"
    await client.subscribe_private("open_positions", challenge, signed)
    assert (await client.next())["positions"] == []
    sent = await rest.call(
        "POST",
        V3 + "sendorder",
        {
            "orderType": "mkt",
            "symbol": "PF_ETHUSD",
            "side": "sell",
            "size": "1.5",
            "cliOrdId": "ws-1",
        },
    )
    order_id = json.loads(sent.text)["sendStatus"]["order_id"]
    placed = await client.until(lambda m: m.get("feed") == "open_orders")
    assert placed["reason"] == "new_placed_order_by_user" and not placed["is_cancel"]
    assert placed["order"]["order_id"] == order_id and placed["order"]["direction"] == 1
    assert placed["order"]["cli_ord_id"] == "ws-1"
    fills = await client.until(lambda m: m.get("feed") == "fills")
    [fill] = fills["fills"]
    assert (fill["order_id"], fill["buy"], fill["qty"], fill["fill_type"]) == (
        order_id,
        False,
        Decimal("1.5"),
        "taker",
    )
    assert fill["cli_ord_id"] == "ws-1" and fill["fee_currency"] == "USD"
    done = await client.until(lambda m: m.get("feed") == "open_orders")
    assert done["is_cancel"] and done["reason"] == "full_fill"
    positions = await client.until(lambda m: m.get("feed") == "open_positions")
    [pos] = positions["positions"]
    assert (pos["instrument"], pos["balance"], pos["entry_price"]) == (
        "PF_ETHUSD",
        Decimal("-1.5"),
        fill["price"],
    )


async def test_ticker_trade_and_heartbeat(
    sim: SimulatorServer, client: Client, rest: FuturesRest
) -> None:
    await client.send({"event": "subscribe", "feed": "ticker", "product_ids": ["PI_XBTUSD"]})
    await client.until(lambda m: m.get("event") == "subscribed")
    ticker = await client.next()
    assert ticker["feed"] == "ticker" and ticker["product_id"] == "PI_XBTUSD"
    assert ticker["bid"] < ticker["ask"] and ticker["tag"] == "perpetual"
    await client.send({"event": "subscribe", "feed": "trade", "product_ids": ["PI_XBTUSD"]})
    await client.until(lambda m: m.get("event") == "subscribed")
    assert await client.next() == {
        "feed": "trade_snapshot",
        "product_id": "PI_XBTUSD",
        "trades": [],
    }
    await rest.call(
        "POST",
        V3 + "sendorder",
        {"orderType": "mkt", "symbol": "PI_XBTUSD", "side": "buy", "size": "10"},
    )
    trade = await client.until(lambda m: m.get("feed") == "trade")
    assert (trade["side"], trade["qty"], trade["type"]) == ("buy", 10, "fill")
    await client.send({"event": "subscribe", "feed": "heartbeat"})
    await client.until(lambda m: m.get("event") == "subscribed")
    sim.ctx.clock.advance(6)  # type: ignore[attr-defined]
    beat = await client.until(lambda m: m.get("feed") == "heartbeat")
    assert beat["time"] == int(sim.ctx.clock.now() * 1000)


async def test_balances_snapshot_then_update_after_a_fill(
    client: Client, rest: FuturesRest
) -> None:
    challenge, signed = await client.authenticate()
    await client.subscribe_private("balances", challenge, signed)
    snapshot = await client.next()
    assert snapshot["feed"] == "balances_snapshot" and snapshot["seq"] == 1
    inverse = snapshot["futures"]["F-XBT:USD"]
    assert inverse["balance"] == 10 and inverse["initial_margin"] == 0
    assert snapshot["flex_futures"]["currencies"]["USD"]["quantity"] == 1_000_000
    await rest.call(
        "POST",
        V3 + "sendorder",
        {"orderType": "mkt", "symbol": "PI_XBTUSD", "side": "buy", "size": "9000"},
    )
    update = await client.until(lambda m: m.get("feed") == "balances")
    assert update["seq"] == 2
    after = update["futures"]["F-XBT:USD"]
    assert after["initial_margin"] > 0 and after["balance"] < 10  # the taker fee was paid
    assert after["available"] < inverse["available"]


async def test_ticker_lite_and_unsubscribe(client: Client, rest: FuturesRest) -> None:
    await client.send({"event": "subscribe", "feed": "ticker_lite", "product_ids": ["PF_ETHUSD"]})
    await client.until(lambda m: m.get("event") == "subscribed")
    lite = await client.next()
    assert lite["feed"] == "ticker_lite" and lite["product_id"] == "PF_ETHUSD"
    assert set(lite) == {
        "feed",
        "product_id",
        "bid",
        "ask",
        "change",
        "premium",
        "volume",
        "tag",
        "pair",
        "dtm",
        "maturityTime",
        "volumeQuote",
    }
    await client.send({"event": "subscribe", "feed": "book", "product_ids": ["PF_ETHUSD"]})
    await client.until(lambda m: m.get("feed") == "book_snapshot")
    await client.send({"event": "unsubscribe", "feed": "book", "product_ids": ["PF_ETHUSD"]})
    assert await client.until(lambda m: m.get("event") is not None) == {
        "event": "unsubscribed",
        "feed": "book",
        "product_ids": ["PF_ETHUSD"],
    }
    await client.send({"event": "subscribe", "feed": "trade", "product_ids": ["PF_NOPE"]})
    assert await client.next() == {"event": "error", "message": "Invalid product id"}
    # After the unsubscribe a resting order's level change must not reach this client.
    await client.send({"event": "subscribe", "feed": "trade", "product_ids": ["PF_ETHUSD"]})
    await client.until(lambda m: m.get("feed") == "trade_snapshot")
    await rest.call(
        "POST",
        V3 + "sendorder",
        {"orderType": "mkt", "symbol": "PF_ETHUSD", "side": "sell", "size": "0.5"},
    )
    trade = await client.until(lambda m: m.get("feed") in ("trade", "book"))
    assert trade["feed"] == "trade"


async def test_malformed_requests_get_errors_and_keep_the_connection(client: Client) -> None:
    hostile = [
        "[]",
        "null",
        "42",
        '"text"',
        '{"event": 5}',
        '{"event": "subscribe", "feed": ["book"]}',
        '{"event": "subscribe", "feed": {"a": 1}}',
        '{"event": "subscribe", "feed": "book", "product_ids": "PF_XBTUSD"}',
        '{"event": "subscribe", "feed": "book", "product_ids": [1, 2]}',
        '{"event": "challenge", "api_key": ["x"]}',
        '{"event": "challenge", "api_key": "nope"}',
        '{"event": "subscribe", "feed": "fills", "api_key": 1, "original_challenge": null}',
        '{"event": "unsubscribe", "feed": "fills"}',
        '{"event": "ping"}',
    ]
    for text in hostile:
        await client.ws.send_str(text)
        reply = await client.next()
        assert reply["event"] == "error", (text, reply)
    await client.send({"event": "subscribe", "feed": "heartbeat"})
    assert await client.next() == {"event": "subscribed", "feed": "heartbeat"}


async def test_rejected_post_only_order_shows_as_an_open_orders_cancel(
    client: Client, rest: FuturesRest
) -> None:
    challenge, signed = await client.authenticate()
    await client.subscribe_private("open_orders", challenge, signed)
    await client.next()  # snapshot
    book = json.loads((await rest.http.get(V3 + "orderbook", params={"symbol": "PF_ETHUSD"})).text)
    ask = book["orderBook"]["asks"][0][0]
    params = {
        "orderType": "post",
        "symbol": "PF_ETHUSD",
        "side": "buy",
        "size": "0.1",
        "limitPrice": str(ask),
        "cliOrdId": "O-20250306-001",
    }
    sent = json.loads((await rest.call("POST", V3 + "sendorder", params)).text)
    assert sent["sendStatus"]["status"] == "postWouldExecute"
    message = await client.next()
    recorded = kraken_fixture("ws_futures_open_orders_cancel_post_only.json")
    assert set(message) == set(recorded)
    assert (message["reason"], message["cli_ord_id"], message["is_cancel"]) == (
        recorded["reason"],
        "O-20250306-001",
        True,
    )


async def test_requotes_never_leave_a_book_side_empty(sim: SimulatorServer, client: Client) -> None:
    """Index jumps wider than the maker's whole ladder, over the book feed: a client applying
    each delta (one message per level change) never sees a side of the book empty."""
    engine = sim.ctx.futures_engine
    assert engine is not None
    await client.send({"event": "subscribe", "feed": "book", "product_ids": ["PF_XBTUSD"]})
    snapshot = await client.until(lambda m: m.get("feed") == "book_snapshot")
    book = {
        side: {Decimal(lv["price"]): Decimal(lv["qty"]) for lv in snapshot[side + "s"]}
        for side in ("bid", "ask")
    }
    seq = snapshot["seq"]
    index = engine.index_price("PF_XBTUSD")
    rng = random.Random(3)
    deltas = 0
    for _ in range(40):
        # -5 %..+5 %: most jumps move the ladder (10 levels, 0.02 % apart) clean off itself.
        index = (index * (1 + Decimal(rng.randint(-50, 50)) / 1000)).quantize(Decimal("0.01"))
        engine.set_index("XBT", index)
        last_seq = engine.book_levels("PF_XBTUSD")[2]
        while seq < last_seq:
            delta = await client.until(lambda m: m.get("feed") == "book")
            assert delta["seq"] == seq + 1
            seq = delta["seq"]
            side = book["bid" if delta["side"] == "buy" else "ask"]
            if delta["qty"] == 0:
                side.pop(Decimal(delta["price"]), None)
            else:
                side[Decimal(delta["price"])] = Decimal(delta["qty"])
            assert book["bid"] and book["ask"], f"a side went empty at seq {seq}"
            deltas += 1
    assert deltas > 40 * 10  # most jumps replaced whole ladders
