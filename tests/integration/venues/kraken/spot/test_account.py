"""Account data, instruments, transfers, the dead man's switch and log hygiene."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.model import (
    CancelRequest,
    InstrumentStatus,
    OrderRequest,
    OrderType,
    OrdStatus,
    Side,
    TransferRequest,
    TransferStatus,
)
from simulator.accounts import parse_accounts
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    MAKER,
    TRADER,
    SpotHarness,
    key_of,
    start_harness,
)

SUB_ID = "AA00SUB0000001"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    raw = {
        "accounts": [
            {
                "id": "AA0000000000",
                "name": TRADER,
                "tier": "pro",
                "balances": {"ZUSD": "100000", "XXBT": "10"},
                "keys": [dict(zip(("key", "secret"), key_of(TRADER), strict=True))],
            },
            {
                "id": SUB_ID,
                "name": "strategy-a",
                "master": "AA0000000000",
                "balances": {"ZUSD": "10"},
                "keys": [dict(zip(("key", "secret"), key_of(MAKER), strict=True))],
            },
        ]
    }
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=4, accounts=parse_accounts(raw)
    ) as server:
        yield server


async def test_instruments_use_unified_symbols_and_rules(harness: SpotHarness) -> None:
    instruments = {i.symbol: i for i in await harness.venue.instruments()}
    btc = instruments["BTC/USD"]
    assert btc.venue_symbol == "XXBTZUSD"
    assert (btc.base, btc.quote) == ("BTC", "USD")
    assert btc.tick_size > 0 and btc.lot_size > 0 and btc.min_qty > 0
    assert btc.status is InstrumentStatus.ONLINE
    assert "DOGE/USD" in instruments
    assert not any(s.startswith(("XBT", "XDG")) for s in instruments)


async def test_balances_stream_and_trade_balance(harness: SpotHarness) -> None:
    balances = {b.asset: b for b in await harness.venue.balances()}
    assert balances["USD"].total == Decimal("100000")
    assert balances["BTC"].total == Decimal("10")
    stream = harness.venue.stream_balances()
    first = await anext(stream)
    assert {b.asset for b in first} >= {"USD", "BTC"}
    order = OrderRequest(
        client_order_id="m1",
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
    )
    await harness.service.submit(harness.ctx, order)
    async with asyncio.timeout(15):
        while True:
            update = await anext(stream)
            btc = [b for b in update if b.asset == "BTC"]
            if btc:
                break
    assert btc[0].total == Decimal("10.01")
    await stream.aclose()
    trade_balance = await harness.venue.trade_balance()
    assert trade_balance.equivalent_balance > 0
    assert list(await harness.venue.positions()) == []


async def test_transfer_to_subaccount(harness: SpotHarness) -> None:
    transfer = await harness.venue.transfer(
        TransferRequest(
            asset="USD", amount=Decimal("250"), from_account="AA0000000000", to_account=SUB_ID
        )
    )
    assert transfer.transfer_id
    assert transfer.status in (TransferStatus.COMPLETED, TransferStatus.PENDING)
    balances = {b.asset: b for b in await harness.venue.balances()}
    assert balances["USD"].total == Decimal("99750")


async def test_dead_man_switch_cancels_when_not_refreshed(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    h = await start_harness(sim, tmp_path / "gw")
    try:
        switch = h.venue.dead_man
        switch.timeout_s = 1  # Kraken's minimum granularity; the test arms it once
        bid, _ = await h.prices()
        request = h.limit(Side.BUY, "0.1", (bid * Decimal("0.8")).quantize(Decimal("0.1")))
        await h.service.submit(h.ctx, request)
        await h.venue._send_dead_man(1)  # armed, then never refreshed: as if the gateway died
        done = await h.done(request.client_order_id)
        assert done.ord_status is OrdStatus.CANCELED
    finally:
        await h.close()


async def test_dead_man_switch_refreshes_while_armed(harness: SpotHarness) -> None:
    switch = harness.venue.dead_man
    switch.arm()
    async with asyncio.timeout(10):
        await switch.armed.wait()
    assert switch.refreshes >= 1
    await switch.disarm()
    assert not switch.is_armed
    bid, _ = await harness.prices()
    request = harness.limit(Side.BUY, "0.1", (bid * Decimal("0.8")).quantize(Decimal("0.1")))
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.NEW
    await harness.service.cancel(
        harness.ctx, CancelRequest(client_order_id=request.client_order_id)
    )


async def test_no_secret_or_token_in_logs(
    sim: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = await start_harness(sim, tmp_path / "gw")
    try:
        bid, _ = await h.prices()
        request = h.limit(Side.BUY, "0.1", (bid * Decimal("0.8")).quantize(Decimal("0.1")))
        await h.service.submit(h.ctx, request)
        await h.venue.balances()
        await h.venue.ws.reconnect()  # a reconnect fetches and logs around a fresh token
        await h.service.cancel(h.ctx, CancelRequest(client_order_id=request.client_order_id))
        token = h.venue.ws._token
        assert token
        text = caplog.text + "".join(repr(r.args) for r in caplog.records)
        api_key, secret = key_of(TRADER)
        for needle in (api_key, secret, token):
            leaks = [
                r.name + ":" + r.getMessage()[:300]
                for r in caplog.records
                if needle in r.getMessage() + repr(r.args)
            ]
            assert needle not in text, leaks
        assert api_key not in repr(h.venue) and api_key not in repr(h.bundle.rest)
        assert caplog.records  # something was logged at all
    finally:
        await h.close()
