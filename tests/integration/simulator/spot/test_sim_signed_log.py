"""The simulator's log of requests made with a key: signed REST requests with the lease their
`KrakenGW-Lease` header names, WS trading requests with the lease of the request that got their
token, each with the client's address (and, when a harness says so, who owns it)."""

from __future__ import annotations

import aiohttp

from simulator.accounts import DEMO_SPOT_KEY
from simulator.app import SimulatorServer
from simulator.wire.json_codec import decode, encode

from .conftest import SpotClient

LEASE = "gw-1 pid 4242 token 7"


async def test_rest_and_ws_requests_are_logged_with_their_lease_and_peer(
    sim: SimulatorServer, client: SpotClient, http: aiohttp.ClientSession
) -> None:
    sim.ctx.spot_auth.peer_owner = lambda peer: f"owner of {peer}"
    client.headers = {"KrakenGW-Lease": LEASE}
    token = (await client.private("GetWebSocketsToken"))["result"]["token"]
    client.headers = {}
    assert (await client.private("Balance"))["error"] == []

    async with http.ws_connect(sim.spot_ws_private_url) as ws:
        assert decode((await ws.receive()).data)["channel"] == "status"
        request = {"method": "cancel_order", "req_id": 1, "params": {"token": token}}
        request["params"]["order_id"] = ["OABCDE-FGHIJ-KLMNOP"]
        await ws.send_str(encode(request))
        while (ack := decode((await ws.receive(timeout=5)).data)).get("req_id") != 1:
            pass  # heartbeats
        assert ack["method"] == "cancel_order"

    log = list(sim.ctx.spot_auth.signed_log[DEMO_SPOT_KEY])
    assert [(r.sender, r.via) for r in log] == [
        (LEASE, "rest GetWebSocketsToken"),
        ("", "rest Balance"),
        (LEASE, "ws cancel_order"),
    ]
    assert all(r.peer.startswith("127.0.0.1:") for r in log)
    assert all(r.owner == f"owner of {r.peer}" for r in log)
