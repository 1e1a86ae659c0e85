"""Issue 9 (trust): order flags end to end, Python client -> gRPC gateway -> Kraken Spot adapter
-> simulator over sockets."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from krakengw import AsyncClient, ExecType, ExecutionReport, KrakenGwError, OrdStatus
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


TERMINAL = frozenset({ExecType.FILL, ExecType.CANCELED, ExecType.EXPIRED, ExecType.REJECTED})


async def _final(client: AsyncClient, cid: str) -> ExecutionReport:
    """The order's last report once it is terminal (waits on the stream, no sleeps)."""
    stream = client.stream_executions(0)
    try:
        async with asyncio.timeout(WAIT_S):
            async for report in stream:
                if report.client_order_id == cid and report.ord_status in (
                    OrdStatus.FILLED,
                    OrdStatus.CANCELED,
                    OrdStatus.EXPIRED,
                    OrdStatus.REJECTED,
                ):
                    return report
    finally:
        await stream.aclose()
    raise AssertionError("stream ended")


def _consistent(report: ExecutionReport, qty: Decimal) -> None:
    assert report.cum_qty + report.leaves_qty == qty or report.leaves_qty == 0
    assert report.leaves_qty == 0  # terminal: nothing left working


async def test_time_in_force_and_flags_end_to_end(gateway: Running) -> None:  # noqa: F811
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None and ticker.ask is not None
        far = (ticker.bid * Decimal("0.5")).quantize(Decimal("0.1"))
        through = (ticker.ask * Decimal("1.05")).quantize(Decimal("0.1"))
        q = Decimal("0.01")

        # IOC that cannot fill: CANCELED, nothing filled.
        await client.submit_order(
            "BTC/USD", "buy", q, price=far, time_in_force="IOC", client_order_id="ioc-miss"
        )
        miss = await _final(client, "ioc-miss")
        assert miss.ord_status is OrdStatus.CANCELED and miss.cum_qty == 0
        _consistent(miss, q)

        # IOC through the ask: FILLED.
        await client.submit_order(
            "BTC/USD", "buy", q, price=through, time_in_force="IOC", client_order_id="ioc-hit"
        )
        hit = await _final(client, "ioc-hit")
        assert hit.ord_status is OrdStatus.FILLED and hit.cum_qty == q
        _consistent(hit, q)

        # FOK larger than the book can give at a near price: nothing fills.
        with contextlib.suppress(KrakenGwError):  # a refusal may come back as the answer
            await client.submit_order(
                "BTC/USD",
                "buy",
                Decimal("5000"),
                price=ticker.ask,
                time_in_force="FOK",
                client_order_id="fok-miss",
            )
        fok = await _final(client, "fok-miss")
        assert fok.ord_status in (OrdStatus.CANCELED, OrdStatus.REJECTED) and fok.cum_qty == 0

        # Post-only through the ask: refused, never takes.
        with contextlib.suppress(KrakenGwError):
            await client.submit_order(
                "BTC/USD", "buy", q, price=through, post_only=True, client_order_id="post-take"
            )
        post = await _final(client, "post-take")
        assert post.ord_status in (OrdStatus.REJECTED, OrdStatus.CANCELED) and post.cum_qty == 0

        # GTD: rests, then expires at its expire time.
        expire = datetime.now(UTC) + timedelta(seconds=6)  # Kraken: at least 5 s ahead
        gtd = await client.submit_order(
            "BTC/USD",
            "buy",
            q,
            price=far,
            time_in_force="GTD",
            expire_time=expire,
            client_order_id="gtd-1",
        )
        assert gtd.ord_status is OrdStatus.NEW, gtd.reject
        expired = await _final(client, "gtd-1")
        assert expired.ord_status in (OrdStatus.EXPIRED, OrdStatus.CANCELED)
        _consistent(expired, q)


async def test_self_trade_prevention_cancel_newest(gateway: Running) -> None:  # noqa: F811
    async with AsyncClient(gateway.target, gateway.token) as client:
        await client.logon()
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None and ticker.ask is not None
        # A resting sell of ours inside the spread, then a buy of ours that would hit it.
        mid = ((ticker.bid + ticker.ask) / 2).quantize(Decimal("0.1"))
        resting = await client.submit_order(
            "BTC/USD", "sell", Decimal("0.01"), price=mid, client_order_id="stp-rest"
        )
        assert resting.ord_status is OrdStatus.NEW
        with contextlib.suppress(KrakenGwError):
            await client.submit_order(
                "BTC/USD",
                "buy",
                Decimal("0.01"),
                price=mid,
                self_trade_prevention="CANCEL_NEWEST",
                client_order_id="stp-new",
            )
        newest = await _final(client, "stp-new")
        assert newest.ord_status in (OrdStatus.CANCELED, OrdStatus.REJECTED)
        assert newest.cum_qty == 0
        kept = await client.get_order("stp-rest")
        assert kept.ord_status is OrdStatus.NEW and kept.cum_qty == 0
        await client.cancel_order("stp-rest")
