"""Auth and rate limits over HTTP: Kraken's exact error strings at the documented thresholds."""

from __future__ import annotations

from simulator.engine.clock import ManualClock
from tests.integration.simulator.spot.conftest import SpotClient


async def test_signed_call_returns_token(client: SpotClient) -> None:
    reply = await client.private("GetWebSocketsToken")
    assert reply["error"] == []
    assert reply["result"]["expires"] == 900
    assert len(reply["result"]["token"]) > 20


async def test_json_body_is_accepted(client: SpotClient) -> None:
    raw = await client.raw_private("GetWebSocketsToken", {}, as_json=True)
    assert raw.startswith(b'{"error":[],"result":{"token":')


async def test_wrong_signature_is_refused(client: SpotClient) -> None:
    bad = "A" * 86 + "=="
    raw = await client.raw_private("GetWebSocketsToken", {}, sign=bad)
    assert raw == b'{"error":["EAPI:Invalid signature"]}'


async def test_unknown_key_is_refused(client: SpotClient) -> None:
    client.key = "no-such-key"
    raw = await client.raw_private("GetWebSocketsToken", {})
    assert raw == b'{"error":["EAPI:Invalid key"]}'


async def test_reused_nonce_is_refused(client: SpotClient) -> None:
    first = await client.raw_private("GetWebSocketsToken", {}, nonce=5000)
    assert first.startswith(b'{"error":[]')
    again = await client.raw_private("GetWebSocketsToken", {}, nonce=5000)
    assert again == b'{"error":["EAPI:Invalid nonce"]}'
    lower = await client.raw_private("GetWebSocketsToken", {}, nonce=4999)
    assert lower == b'{"error":["EAPI:Invalid nonce"]}'


async def test_rest_counter_refuses_the_21st_call_of_a_burst(
    client: SpotClient, clock: ManualClock
) -> None:
    # Demo account: intermediate tier, max 20, decay 0.5/s; the clock is frozen.
    for _ in range(20):
        assert (await client.private("GetWebSocketsToken"))["error"] == []
    assert (await client.private("GetWebSocketsToken"))["error"] == ["EAPI:Rate limit exceeded"]
    clock.advance(60)  # decays back to zero
    assert (await client.private("GetWebSocketsToken"))["error"] == []


async def test_lockout_after_repeated_auth_failures(client: SpotClient, clock: ManualClock) -> None:
    bad = "A" * 86 + "=="
    for _ in range(10):
        raw = await client.raw_private("GetWebSocketsToken", {}, sign=bad)
        assert raw == b'{"error":["EAPI:Invalid signature"]}'
    # Locked: even a correct request is refused until the lockout ends.
    assert (await client.private("GetWebSocketsToken"))["error"] == ["EGeneral:Temporary lockout"]
    clock.advance(901)
    assert (await client.private("GetWebSocketsToken"))["error"] == []


async def test_get_on_private_method_is_invalid_arguments(client: SpotClient) -> None:
    async with client.session.get(client.base_url + "/0/private/GetWebSocketsToken") as r:
        assert await r.read() == b'{"error":["EGeneral:Invalid arguments"]}'


async def test_unknown_method(client: SpotClient) -> None:
    reply = await client.public("NoSuchThing")
    assert reply == {"error": ["EGeneral:Unknown method"]}
