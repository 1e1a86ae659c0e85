"""GetLimits over gRPC shows the Kraken rate governor's headroom: the real gateway trading the
simulator through the Kraken Spot venue, read with the Python client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from krakengw import AsyncClient, KrakenGwError, RateBudget
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.test_grpc_gateway import Running, start_gateway


@pytest.fixture
async def gateway(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(sim, tmp_path)
    try:
        yield running
    finally:
        await running.app.stop()


def by_key(budgets: tuple[RateBudget, ...]) -> dict[tuple[str, str], RateBudget]:
    return {(b.name, b.symbol): b for b in budgets}


async def test_get_limits_shows_rest_and_per_pair_trading_budgets(gateway: Running) -> None:
    async with AsyncClient(gateway.target, gateway.token) as client:
        session = await client.logon()
        assert ("spot_rest", "") in by_key(session.rate_budgets)
        before = by_key((await client.get_limits()).rate_budgets)
        assert not [key for key in before if key[0] == "spot_trading"]  # no pair traded yet

        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None
        far = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.1"))
        for i in range(4):  # +1 per add, +8 per cancel of an order younger than 5 s
            await client.submit_order(
                "BTC/USD", "buy", Decimal("0.1"), price=far, client_order_id=f"rb-{i}"
            )
            await client.cancel_order(f"rb-{i}")

        limits = await client.get_limits()

    budgets = by_key(limits.rate_budgets)
    btc = budgets[("spot_trading", "BTC/USD")]
    assert btc.venue == "kraken"
    assert btc.limit == Decimal(179)  # pro threshold 180 (from the executions ack) - margin
    assert btc.decay_per_second == Decimal("3.75")
    assert btc.used is not None and btc.used > 0
    assert btc.headroom == btc.limit - btc.used
    assert btc.updated_time is not None
    rest = budgets[("spot_rest", "")]
    assert rest.limit == Decimal(19) and rest.decay_per_second == Decimal(1)
    assert rest.used is not None and rest.headroom == rest.limit - rest.used
    assert ("spot_trading", "ETH/USD") not in budgets  # only pairs traded
    assert limits.retry_after is None  # nothing refuses
    assert limits.risk_limits.max_open_orders == 0  # risk limits still there (unlimited)


async def test_get_limits_names_the_retry_delay_while_the_governor_refuses(
    gateway: Running,
) -> None:
    # Kraken's executions channel reports a counter far above the model on ETH/USD (another
    # client of the account trading it): the governor now refuses ETH/USD orders for minutes.
    gateway.venue._governor.observe_ratecounter(Decimal(1000), "ETH/USD")
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        limits = await client.get_limits()
        with pytest.raises(KrakenGwError) as refused:
            await client.submit_order(
                "ETH/USD", "buy", Decimal("0.1"), price=Decimal("100"), client_order_id="rb-x"
            )

    assert limits.retry_after is not None and limits.retry_after.total_seconds() > 0
    eth = by_key(limits.rate_budgets)[("spot_trading", "ETH/USD")]
    assert eth.used is not None and eth.limit is not None and eth.used > eth.limit
    assert eth.headroom == 0
    assert refused.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.reason == "RATE_LIMITED"
    assert refused.value.retry_after is not None and refused.value.retry_after.total_seconds() > 0
