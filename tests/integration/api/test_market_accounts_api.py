"""Instruments, market data and account data through the real server, streams that end with
their session, the heartbeat timeout with cancel-on-disconnect, and the metrics registry."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.model import Balance
from gateway.core.ports import AccountVenues, VenuePorts
from gateway.venues.paper import PaperMarket, PaperVenue
from krakengw import AsyncClient, ExecType, KrakenGwError, ProductType
from krakengw.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from tests.integration.api.conftest import (
    CONFIG,
    RunningGateway,
    counting_factory,
    make_tokens,
    start_gateway,
    write_config,
)

TIMEOUT = 10


async def test_instruments_ticker_and_book(gateway: RunningGateway) -> None:
    client = gateway.client("b")
    await client.logon()
    instruments = await client.list_instruments(product_type=ProductType.SPOT)
    btc = next(i for i in instruments if i.symbol == "BTC/USD")
    assert btc.tick_size == Decimal("0.1")
    assert await client.list_instruments(product_type=ProductType.PERPETUAL) == []
    ticker = await client.get_ticker("BTC/USD")
    assert ticker.last == Decimal("50000")
    book = client.stream_book("BTC/USD", depth=5)
    first = await asyncio.wait_for(anext(book), TIMEOUT)
    await book.aclose()  # type: ignore[attr-defined]
    assert first.snapshot and len(first.bids) == 5 and first.bids[0].price < first.asks[0].price


async def test_balances_need_read_and_stream_a_snapshot(gateway: RunningGateway) -> None:
    client = gateway.client("ro")
    await client.logon()
    balances = {b.asset: b.total for b in await client.list_balances()}
    assert balances["BTC"] == Decimal(10)
    stream = client.stream_balances()
    snapshot, items = await asyncio.wait_for(anext(stream), TIMEOUT)
    await stream.aclose()  # type: ignore[attr-defined]
    assert snapshot and {b.asset for b in items} == set(balances)
    with pytest.raises(KrakenGwError) as err:
        await client.transfer_funds("USD", Decimal(1), "acct-ro", "acct-a")
    assert err.value.code is grpc.StatusCode.PERMISSION_DENIED


async def test_market_stream_ends_when_the_session_logs_out(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
        call = stub.StreamBook(
            market_data_pb2.StreamBookRequest(instrument=common_pb2.InstrumentId(symbol="BTC/USD")),
            metadata=gateway.metadata("a"),
        )
        assert (await asyncio.wait_for(call.read(), TIMEOUT)).snapshot
        await client.logout()
        assert await asyncio.wait_for(call.read(), TIMEOUT) is grpc.aio.EOF
        assert await call.code() is grpc.StatusCode.OK


SHORT_TIMEOUT = CONFIG.replace("heartbeat_timeout_s = 30", "heartbeat_timeout_s = 0.3")


@pytest.fixture
async def short_timeout_gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    running = await start_gateway(tmp_path, SHORT_TIMEOUT)
    try:
        yield running
    finally:
        for client in running.clients:
            await client.close()
        await running.app.stop()


async def test_silent_session_times_out_and_cancels_on_disconnect(
    short_timeout_gateway: RunningGateway,
) -> None:
    gw = short_timeout_gateway
    trader, audit = gw.client("a"), gw.client("audit")
    await audit.logon()  # its client heartbeats on its own: it stays live
    watch = audit.stream_executions(0, drop_copy=True)  # it watches the account by drop copy
    await trader.logon(
        cancel_on_disconnect=True, heartbeat_interval=timedelta(seconds=0.1), heartbeats=False
    )
    order = await trader.submit_order("BTC/USD", "buy", Decimal("0.1"), price=40000)

    async def canceled() -> None:
        async for report in watch:
            if report.exec_type is ExecType.CANCELED:
                assert report.client_order_id == order.client_order_id
                return

    # The trader now goes silent: no call, no stream. Its session times out, which cancels.
    await asyncio.wait_for(canceled(), TIMEOUT)
    await watch.aclose()
    with pytest.raises(KrakenGwError) as err:
        await trader.heartbeat()
    assert err.value.reason == "SESSION_NOT_FOUND"
    await gw.client("a2").logon()  # the lease was released


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - a local http URL
        body: bytes = reply.read()
    return body.decode()


async def test_metrics_count_rpcs_and_hold_no_secret(tmp_path: Path) -> None:
    tokens = make_tokens()
    env = {f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    body = CONFIG.replace("[server]", '[server]\nmetrics_listen = "127.0.0.1:0"')
    config = load_config(write_config(tmp_path, body), environ=env)
    app = await GatewayApp.build(config, venues=counting_factory({}))
    port = await app.start("127.0.0.1:0")
    scrape = f"http://127.0.0.1:{app.metrics_port}/metrics"
    try:
        async with AsyncClient(f"127.0.0.1:{port}", tokens["a"]) as client:
            await client.logon()
            with pytest.raises(KrakenGwError):
                await client.logon()
            # The metrics endpoint runs on the gateway's loop: scrape from another thread,
            # inside `async with` (leaving it logs out).
            text = await asyncio.to_thread(_scrape, scrape)
    finally:
        await app.stop()
    assert "krakengw_sessions_active 1.0" in text
    assert 'method="/krakengw.v1.SessionService/Logon"' in text
    assert 'code="ALREADY_EXISTS"' in text
    for token in tokens.values():
        assert token not in text


class _BrokenAccount(PaperVenue):
    async def balances(self) -> Sequence[Balance]:
        raise RuntimeError("backend exploded with secret=SUPERSECRET-123")


async def test_unexpected_error_is_internal_without_its_text(tmp_path: Path) -> None:
    tokens = make_tokens()
    env = {f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    config = load_config(write_config(tmp_path), environ=env)
    market = PaperMarket()

    async def broken(account: AccountConfig) -> AccountVenues:
        venue = _BrokenAccount(market, account.name)
        return AccountVenues.of(VenuePorts(order_entry=venue, account=venue, instruments=market))

    app = await GatewayApp.build(config, venues=broken)
    port = await app.start("127.0.0.1:0")
    try:
        async with AsyncClient(f"127.0.0.1:{port}", tokens["ro"]) as client:
            await client.logon()
            with pytest.raises(KrakenGwError) as err:
                await client.list_balances()
            # The server keeps serving after the failure.
            assert await client.list_open_orders() == []
    finally:
        await app.stop()
    assert err.value.code is grpc.StatusCode.INTERNAL
    assert err.value.reason == "INTERNAL"
    assert "SUPERSECRET" not in str(err.value) and "exploded" not in str(err.value)
    assert err.value.metadata["ref"] in err.value.message
