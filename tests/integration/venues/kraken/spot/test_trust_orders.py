"""Issue 9 (trust): order flags end to end, Python client -> gRPC gateway -> Kraken Spot adapter
-> simulator over sockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from krakengw import AsyncClient, ExecType, ExecutionReport, OrdStatus
from krakengw.v1 import common_pb2
from tests.integration.venues.kraken.spot.test_grpc_gateway import Running, gateway  # noqa: F401

WAIT_S = 15


async def _reports_until_done(
    client: AsyncClient, client_order_id: str, terminal: frozenset[ExecType]
) -> list[ExecutionReport]:
    got: list[ExecutionReport] = []
    stream = client.stream_executions(0)
    try:
        async with asyncio.timeout(WAIT_S):
            async for report in stream:
                if report.client_order_id == client_order_id:
                    got.append(report)
                    if report.exec_type in terminal and report.leaves_qty == 0:
                        return got
    finally:
        await stream.aclose()
    return got


@pytest.mark.parametrize(("fee_currency", "asset"), [("base", "BTC"), ("quote", "USD")])
async def test_fee_currency_picks_the_asset_kraken_charges(
    gateway: Running,  # noqa: F811
    fee_currency: str,
    asset: str,
) -> None:
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        cid = f"fee-{fee_currency}"
        order = await client.submit_order(
            "BTC/USD",
            "buy",
            Decimal("0.01"),
            order_type="MARKET",
            client_order_id=cid,
            fee_currency=fee_currency,
        )
        assert order.venue_order_id
        reports = await _reports_until_done(client, cid, frozenset({ExecType.FILL}))
        fills = [r for r in reports if r.exec_type in (ExecType.FILL, ExecType.PARTIAL_FILL)]
        assert fills and all(r.fee is not None and r.fee.asset == asset for r in fills)
        kept = await client.get_order(cid)  # the order keeps what it asked for
        wanted = common_pb2.FeeCurrency.Value(f"FEE_CURRENCY_{fee_currency.upper()}")
        assert kept.raw.spec.fee_currency == wanted


async def test_cash_quantity_market_buy_ends_filled_with_consistent_quantities(
    gateway: Running,  # noqa: F811
) -> None:
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        cid = "viqc-1"
        await client.submit_order(
            "BTC/USD",
            "buy",
            order_type="MARKET",
            cash_order_qty=Decimal("500"),
            client_order_id=cid,
        )
        reports = await _reports_until_done(
            client, cid, frozenset({ExecType.FILL, ExecType.CANCELED})
        )
        final = await client.get_order(cid)
        assert final.ord_status is OrdStatus.FILLED, [(r.exec_type, r.ord_status) for r in reports]
        fills = [r for r in reports if r.last_qty]
        spent = sum((r.last_qty * r.last_px for r in fills if r.last_px), Decimal(0))
        assert final.cum_qty == sum((r.last_qty for r in fills), Decimal(0)) > 0
        assert final.leaves_qty == 0
        assert spent <= Decimal("500")
        assert reports[-1].ord_status is OrdStatus.FILLED and reports[-1].leaves_qty == 0
