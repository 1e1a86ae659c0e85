"""WS v2 envelope, status, ping/pong, heartbeat, instrument and subscription errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType

from simulator.app import SimulatorServer
from simulator.faults import SystemStatus
from simulator.spot.ws import SpotWsConfig, server_of
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot_ws.conftest import WsClient

Connect = Callable[..., Any]


def _envelope_keys(message: dict[str, Any]) -> set[str]:
    return set(message) - {"result", "error"}


async def test_status_on_connect_then_ping_pong(sim: SimulatorServer, http: Any) -> None:
    ws = await http.ws_connect(sim.spot_ws_public_url)
    client = WsClient(ws)
    status = await client.recv()
    assert status["channel"] == "status" and status["type"] == "update"
    (data,) = status["data"]
    assert data["api_version"] == "v2" and data["system"] == "online"
    assert isinstance(data["connection_id"], int)
    pong = await client.call("ping")
    fixture = kraken_fixture("ws_pong.json")
    assert set(pong) == set(fixture)
    assert pong["method"] == "pong" and pong["req_id"] == 1
    assert pong["time_in"].endswith("Z") and len(pong["time_in"]) == len(fixture["time_in"])


async def test_instrument_snapshot_carries_pair_precisions(connect: Connect) -> None:
    client: WsClient = await connect()
    ack = await client.call("subscribe", {"channel": "instrument"})
    assert ack["success"] is True and ack["result"]["channel"] == "instrument"
    snapshot = await client.channel("instrument", "snapshot")
    pairs = {p["symbol"]: p for p in snapshot["data"]["pairs"]}
    btc = pairs["BTC/USD"]
    assert (btc["base"], btc["quote"]) == ("BTC", "USD")
    assert (btc["price_precision"], btc["qty_precision"]) == (1, 8)
    assert "DOGE/USD" in pairs
    assert {a["id"] for a in snapshot["data"]["assets"]} >= {"BTC", "USD", "ETH", "DOGE"}


async def test_v1_symbol_is_not_supported(connect: Connect) -> None:
    client: WsClient = await connect()
    reply = await client.call("subscribe", {"channel": "ticker", "symbol": ["XBT/USD"]})
    assert reply["success"] is False
    assert reply["error"] == "Currency pair not supported XBT/USD"
    assert reply["symbol"] == "XBT/USD" and reply["method"] == "subscribe"
    assert {"time_in", "time_out", "req_id"} <= set(reply)


async def test_bad_requests_get_failures_not_disconnects(connect: Connect) -> None:
    client: WsClient = await connect()
    unknown_channel = await client.call("subscribe", {"channel": "nope", "symbol": ["BTC/USD"]})
    assert unknown_channel["success"] is False
    assert unknown_channel["error"].startswith("EGeneral:Invalid arguments")
    missing_symbol = await client.call("subscribe", {"channel": "book"})
    assert missing_symbol["success"] is False
    bad_depth = await client.call(
        "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 7}
    )
    assert bad_depth["success"] is False and bad_depth["symbol"] == "BTC/USD"
    unknown_method = await client.call("fly", {})
    assert unknown_method["success"] is False and unknown_method["method"] == "fly"
    not_subscribed = await client.call("unsubscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
    assert not_subscribed["error"] == "Subscription Not Found"
    await client.ws.send_str("{not json")
    garbage = await client.expect(lambda m: m.get("success") is False)
    assert garbage["error"].startswith("EGeneral:Invalid arguments")
    assert (await client.call("ping"))["method"] == "pong"


async def test_private_channels_and_trading_need_the_auth_endpoint_and_a_token(
    connect: Connect, token: str
) -> None:
    public: WsClient = await connect()
    refused = await public.call("subscribe", {"channel": "executions", "token": token})
    assert refused["success"] is False
    refused = await public.call("cancel_all", {"token": token})
    assert refused["success"] is False and refused["method"] == "cancel_all"
    private: WsClient = await connect(private=True)
    bad = await private.call("subscribe", {"channel": "executions", "token": "forged"})
    assert bad["success"] is False and bad["error"] == "ESession:Invalid session"
    missing = await private.call("subscribe", {"channel": "balances"})
    assert missing["success"] is False
    bad_trade = await private.call("cancel_all", {"token": "forged"})
    assert bad_trade["error"] == "ESession:Invalid session"


async def test_expired_token_is_refused(sim: SimulatorServer, connect: Connect) -> None:
    key = next(iter(sim.ctx.accounts.keys()))
    stale = sim.ctx.ws_tokens.issue(key, sim.ctx.now() - 901)
    private: WsClient = await connect(private=True)
    reply = await private.call("subscribe", {"channel": "balances", "token": stale})
    assert reply["error"] == "ESession:Invalid session"


async def test_heartbeat_only_after_a_subscription(sim: SimulatorServer, connect: Connect) -> None:
    server_of(sim.ctx).config = SpotWsConfig(heartbeat_s=0.02)
    client: WsClient = await connect()
    await client.call("ping")
    assert all(m.get("channel") != "heartbeat" for m in client.seen)
    await client.call("subscribe", {"channel": "instrument"})
    heartbeat = await client.recv()
    while heartbeat.get("channel") == "instrument":
        heartbeat = await client.recv()
    assert heartbeat == {"channel": "heartbeat"}


async def test_already_subscribed_and_unsubscribe(connect: Connect) -> None:
    client: WsClient = await connect()
    first = await client.call("subscribe", {"channel": "instrument", "snapshot": False})
    assert first["success"] is True
    again = await client.call("subscribe", {"channel": "instrument"})
    assert again["success"] is False and again["error"] == "Already subscribed"
    gone = await client.call("unsubscribe", {"channel": "instrument"})
    assert gone["success"] is True and gone["result"]["channel"] == "instrument"
    assert _envelope_keys(gone) == {"method", "success", "time_in", "time_out", "req_id"}


async def test_status_change_is_pushed_to_an_idle_connection(
    sim: SimulatorServer, connect: Connect
) -> None:
    server_of(sim.ctx).config = SpotWsConfig(heartbeat_s=0.02)
    client: WsClient = await connect()
    sim.ctx.faults.system_status = SystemStatus.POST_ONLY
    status = await client.channel("status")
    assert status["data"][0]["system"] == "post_only"


async def test_slow_consumer_is_disconnected_not_buffered(
    sim: SimulatorServer, connect: Connect
) -> None:
    server_of(sim.ctx).config = SpotWsConfig(queue_frames=2)
    client: WsClient = await connect()
    # One request that queues six frames at once overflows the two-frame queue.
    await client.send(
        "subscribe", {"channel": "book", "symbol": ["BTC/USD", "ETH/USD", "DOGE/USD"]}
    )
    while True:
        message = await client.ws.receive()
        if message.type is not WSMsgType.TEXT:
            break
    assert client.ws.close_code == WSCloseCode.TRY_AGAIN_LATER
