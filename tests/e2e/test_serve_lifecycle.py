"""`kraken-gateway serve` as a process: graceful SIGTERM (streams drained, journal closed,
exit 0, state kept) and no bearer token anywhere in its log output."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest

from krakengw import AsyncClient, KrakenGwError, OrdStatus
from tests.e2e.conftest import GatewayProcess

TIMEOUT = 60


async def test_sigterm_drains_and_keeps_state_and_logs_no_token(
    gateway_process: GatewayProcess,
) -> None:
    await gateway_process.start("--log-level", "DEBUG")
    wrong_token = "wrong-token-0123456789-abcdef"
    async with AsyncClient(gateway_process.target, gateway_process.token) as client:
        await client.logon()
        order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=40000)
        with pytest.raises(KrakenGwError):
            await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price="40000.05")
        async with AsyncClient(gateway_process.target, wrong_token) as intruder:
            with pytest.raises(KrakenGwError) as err:
                await intruder.logon()
            assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
        stream = client.stream_executions(0)
        first = await asyncio.wait_for(stream.__anext__(), TIMEOUT)
        assert first.sequence == 1
        # SIGTERM with a stream open: the server drains it and exits cleanly.
        assert await gateway_process.terminate() == 0
        await stream.aclose()
    log = gateway_process.log_text()
    assert "journal closed" in log
    assert gateway_process.token not in log
    assert wrong_token not in log

    await gateway_process.start()
    async with AsyncClient(gateway_process.target, gateway_process.token) as client:
        info = await client.logon()
        assert info.last_sequence == 2
        kept = await client.get_order(order.client_order_id)
        assert kept.ord_status is OrdStatus.NEW
    assert await gateway_process.terminate() == 0
    assert gateway_process.token not in gateway_process.log_text()


async def test_refuses_key_file_readable_by_others(gateway_process: GatewayProcess) -> None:
    (gateway_process.workdir / "trader.token").chmod(0o644)
    with pytest.raises(AssertionError, match="no ready line"):
        await gateway_process.start()
    assert gateway_process.proc is not None
    assert await gateway_process.proc.wait() == 2
    log = gateway_process.log_text()
    assert "group or others" in log
    assert gateway_process.token not in log
