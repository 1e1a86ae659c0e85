"""Request styles of well-known Kraken clients (wire 1.2, 2.4, 11), reproduced byte for byte.

krakenex: form body, nonce last; python-kraken-sdk: `True`/`False` form booleans, JSON batches
with `application/json; charset=utf-8`, 10 ns nonces; api-go: JSON with a numeric nonce;
kraken-cli: nanosecond nonces. Each body is signed exactly as sent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from simulator.spot.auth import spot_signature


async def _post(
    http: aiohttp.ClientSession,
    sim: SimulatorServer,
    method: str,
    body: str,
    nonce: str,
    content_type: str,
) -> dict[str, Any]:
    path = f"/0/private/{method}"
    headers = {
        "API-Key": DEMO_SPOT_KEY,
        "API-Sign": spot_signature(DEMO_SPOT_SECRET, path, nonce, body.encode()),
        "Content-Type": content_type,
        "User-Agent": "style-test",
    }
    async with http.post(sim.base_url + path, data=body.encode(), headers=headers) as r:
        return json.loads(await r.read())  # type: ignore[no-any-return]


FORM = "application/x-www-form-urlencoded"


async def test_krakenex_form_nonce_last(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    nonce = "1700000000123"
    body = urlencode({"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                      "price": "10000", "nonce": nonce})  # fmt: skip
    reply = await _post(http, sim, "AddOrder", body, nonce, FORM)
    assert reply["error"] == [] and len(reply["result"]["txid"]) == 1


async def test_python_kraken_sdk_styles(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    nonce = 170000000012345678  # time * 1e8
    body = urlencode({"nonce": nonce, "trades": False, "validate": False, "ordertype": "limit",
                      "type": "sell", "volume": "0.01", "pair": "XBTUSD", "price": "900000",
                      "reduce_only": False})  # fmt: skip
    assert "validate=False" in body
    reply = await _post(http, sim, "AddOrder", body, str(nonce), FORM)
    assert reply["error"] == []
    batch = json.dumps({"nonce": str(nonce + 1), "pair": "BTC/USD", "validate": False, "orders": [
        {"ordertype": "limit", "type": "buy", "volume": "0.01", "price": "10000",
         "close": {"ordertype": "limit", "price": "20000"}},
        {"ordertype": "limit", "type": "buy", "volume": "0.01", "price": "10001"},
    ]})  # fmt: skip
    reply = await _post(
        http, sim, "AddOrderBatch", batch, str(nonce + 1), "application/json; charset=utf-8"
    )
    assert reply["error"] == []
    assert reply["result"]["orders"][0]["descr"]["close"].startswith("close position @ limit")
    assert all(isinstance(o["txid"], str) for o in reply["result"]["orders"])


async def test_api_go_json_numeric_nonce(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    nonce = 1700000000001
    body = json.dumps({"nonce": nonce, "trades": True})
    reply = await _post(http, sim, "OpenOrders", body, str(nonce), "application/json")
    assert reply == {"error": [], "result": {"open": {}}}


async def test_kraken_cli_nanosecond_nonce_then_millis_refused(
    sim: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    big = "1700000000000000000"
    reply = await _post(http, sim, "Balance", f"nonce={big}", big, FORM)
    assert reply["error"] == []
    # wire 12: once a key saw a nanosecond nonce, millisecond nonces are below it forever.
    small = "1700000000001"
    assert await _post(http, sim, "Balance", f"nonce={small}", small, FORM) == {
        "error": ["EAPI:Invalid nonce"]
    }


async def test_form_nested_close_keys(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    nonce = "1700000000222"
    body = urlencode({"nonce": nonce, "pair": "XBTUSD", "type": "buy", "ordertype": "limit",
                      "volume": "0.01", "price": "10000", "close[ordertype]": "stop-loss",
                      "close[price]": "9000"})  # fmt: skip
    reply = await _post(http, sim, "AddOrder", body, nonce, FORM)
    assert reply["result"]["descr"]["close"] == "close position @ stop loss 9000"
