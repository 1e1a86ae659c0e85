"""The OrderEntry stream: acks matched by correlation id, in any order; errors per request."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import grpc
import pytest

from krakengw import AsyncClient, Client, KrakenGwError, OrdStatus
from tests.unit.client.fake_gateway import TOKEN, FakeGateway


def test_sync_acks_match_their_requests_even_out_of_order(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    with Client(target, TOKEN) as client, client.order_entry() as entry:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The fake acks the first of the pair after the second.
            orders = list(
                pool.map(
                    lambda cid: entry.submit_order(
                        "BTC/USD", "buy", Decimal("2.5"), client_order_id=cid
                    ),
                    ["pair-a", "pair-b"],
                )
            )
        assert [o.client_order_id for o in orders] == ["pair-a", "pair-b"]
        assert orders[0].order_qty == Decimal("2.5")
        assert orders[0].ord_status is OrdStatus.NEW
        assert entry.cancel_all_orders() == 3
        with pytest.raises(KrakenGwError) as caught:
            entry.cancel_order("nope")
        assert caught.value.code is grpc.StatusCode.NOT_FOUND
        assert caught.value.reason == "ORDER_NOT_FOUND"
    assert set(gw.authorizations) == {f"Bearer {TOKEN}"}


async def test_async_acks_match_their_requests_even_out_of_order(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, _ = fake_gateway
    async with AsyncClient(target, TOKEN) as client, client.order_entry() as entry:
        orders = await asyncio.gather(
            *(
                entry.submit_order("BTC/USD", "sell", 2, client_order_id=c)
                for c in ("pair-c", "pair-d")
            )
        )
        assert [o.client_order_id for o in orders] == ["pair-c", "pair-d"]
        with pytest.raises(KrakenGwError) as caught:
            await entry.cancel_order("nope")
        assert caught.value.reason == "ORDER_NOT_FOUND"


def test_requests_fail_once_the_stream_is_gone(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, _ = fake_gateway
    with Client(target, TOKEN) as client:
        entry = client.order_entry()
        entry.close()
        with pytest.raises(KrakenGwError):
            entry.submit_order("BTC/USD", "buy", 1)


def test_sync_cancel_fails_a_waiting_request(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, _ = fake_gateway
    with Client(target, TOKEN) as client, ThreadPoolExecutor(max_workers=1) as pool:
        entry = client.order_entry()
        # A lone "pair" submit is never acked by the fake.
        waiting = pool.submit(entry.submit_order, "BTC/USD", "buy", 1, client_order_id="pair-z")
        entry.cancel()
        with pytest.raises(KrakenGwError) as caught:
            waiting.result(timeout=30)
        assert caught.value.code is grpc.StatusCode.CANCELLED


async def test_async_cancel_fails_a_waiting_request(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, _ = fake_gateway
    async with AsyncClient(target, TOKEN) as client:
        entry = client.order_entry()
        waiting = asyncio.create_task(
            entry.submit_order("BTC/USD", "buy", 1, client_order_id="pair-y")
        )
        await entry.cancel()
        with pytest.raises(KrakenGwError) as caught:
            await waiting
        assert caught.value.code is grpc.StatusCode.CANCELLED
