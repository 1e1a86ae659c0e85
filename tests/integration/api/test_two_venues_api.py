"""One account on two venues through the real server: the paper venue (`kraken`: BTC/USD) and
the venue double as a futures venue (`double`: BTC/USD:USD) behind one session. Orders, balances
and tickers each reach the venue of their instrument."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.model import Balance
from gateway.core.ports import AccountVenues, VenuePorts
from gateway.core.venue_ids import scoped_client_order_id
from gateway.venues.paper import PaperMarket, PaperVenue
from krakengw import AsyncClient, OrdStatus
from tests.integration.api.conftest import make_tokens, write_config
from tests.support.venue_double import VenueDouble, default_instruments

D = Decimal


async def test_one_session_trades_and_reads_two_venues(tmp_path: Path) -> None:
    tokens = make_tokens()
    config = load_config(
        write_config(tmp_path), environ={f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    )
    market = PaperMarket()
    doubles: dict[str, VenueDouble] = {}

    async def two_venues(account: AccountConfig) -> AccountVenues:
        paper = PaperVenue(market, account.name)
        perp = [i for i in default_instruments("double") if i.symbol == "BTC/USD:USD"]
        double = doubles[account.name] = VenueDouble(venue="double", instruments=perp)
        double.balances_list = [Balance(asset="USD", wallet="flex", total=D(7), available=D(7))]
        return AccountVenues.of(
            VenuePorts(order_entry=paper, account=paper, instruments=market, market_data=market),
            VenuePorts(order_entry=double, account=double, instruments=double, market_data=double),
            closers=[paper.close],
        )

    app = await GatewayApp.build(config, venues=two_venues)
    port = await app.start("127.0.0.1:0")
    try:
        async with AsyncClient(f"127.0.0.1:{port}", tokens["b"]) as client:
            await client.logon()
            spot = await client.submit_order(
                "BTC/USD", "buy", "0.01", order_type="limit", price="100", venue="kraken"
            )
            perp = await client.submit_order(
                "BTC/USD:USD", "buy", "0.5", order_type="limit", price="100", venue="double"
            )
            assert spot.ord_status is OrdStatus.NEW and perp.ord_status is OrdStatus.NEW
            sent = scoped_client_order_id("acct-b", "b", perp.client_order_id)
            assert list(doubles["acct-b"].orders) == [sent]
            wallets = {(b.wallet, b.asset) for b in await client.list_balances()}
            assert ("flex", "USD") in wallets and ("spot", "BTC") in wallets
            assert (await client.get_ticker("BTC/USD:USD", venue="double")).last == D(100)
            assert (await client.get_ticker("BTC/USD", venue="kraken")).last == D(50000)
    finally:
        await app.stop()
