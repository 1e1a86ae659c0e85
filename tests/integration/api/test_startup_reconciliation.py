"""Start-up never dies on a venue's answer: the port opens at once, health says NOT_SERVING and
new orders are refused UNAVAILABLE [RECONCILING] while the venue keeps refusing the
reconciliation (a rate limit here), which is retried; once it succeeds the gateway serves."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.core.ports import AccountVenues, VenuePorts
from gateway.venues.paper import PaperMarket, PaperVenue
from krakengw import AsyncClient, KrakenGwError
from tests.integration.api.conftest import CONFIG, make_tokens, write_config

WAIT_S = 30.0


class RateLimitedAtStart(PaperVenue):
    """A paper venue whose open-orders listing answers like Kraken over its rate limit until
    `recover` is set."""

    def __init__(self, market: PaperMarket, account: str) -> None:
        super().__init__(market, account)
        self.recover = asyncio.Event()
        self.refusals = 0

    async def open_orders(self) -> Any:
        if not self.recover.is_set():
            self.refusals += 1
            raise ResourceExhausted(
                "EAPI:Rate limit exceeded", ErrorReason.VENUE_RATE_LIMITED, retry_after=0.05
            )
        return await super().open_orders()


async def _health(target: str) -> int:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=""))
        return int(answer.status)


async def test_venue_refusals_at_start_are_retried_while_the_port_serves(tmp_path: Path) -> None:
    tokens = make_tokens()
    env = {f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    config = load_config(write_config(tmp_path, CONFIG), environ=env)
    market = PaperMarket()
    venues: dict[str, RateLimitedAtStart] = {}

    async def build(account: AccountConfig) -> AccountVenues:
        venue = venues[account.name] = RateLimitedAtStart(market, account.name)
        return AccountVenues.of(
            VenuePorts(order_entry=venue, account=venue, instruments=market, market_data=market),
            closers=[venue.close],
        )

    app = await GatewayApp.build(config, venues=build)
    try:
        port = await app.start(wait_serving=False)
        target = f"127.0.0.1:{port}"
        assert await _health(target) == health_pb2.HealthCheckResponse.NOT_SERVING
        async with AsyncClient(target, tokens["a"]) as client:
            await client.logon()  # sessions, reads and streams work meanwhile
            with pytest.raises(KrakenGwError) as refused:
                await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=40000)
            assert refused.value.code is grpc.StatusCode.UNAVAILABLE
            assert refused.value.reason == "RECONCILING"
            async with asyncio.timeout(WAIT_S):
                while sum(v.refusals for v in venues.values()) < 3:  # retried, still up
                    await asyncio.sleep(0.02)
            for venue in venues.values():
                venue.recover.set()
            async with asyncio.timeout(WAIT_S):
                await app.serving.wait()
            assert await _health(target) == health_pb2.HealthCheckResponse.SERVING
            order = await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=40000)
            assert order.client_order_id
            await client.logout()
    finally:
        await app.stop()
