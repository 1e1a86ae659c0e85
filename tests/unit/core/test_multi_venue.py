"""One account on two venues: the core routes every request by the instrument's venue.

The venue double plays a spot venue (`spot-double`: BTC/USD, ETH/USD) and a futures venue
(`futures-double`: BTC/USD:USD) attached to the same account, as Kraken Spot and Kraken Futures
will be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.core.errors import (
    ErrorReason,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
)
from gateway.core.model import (
    Balance,
    CancelRequest,
    OrdStatus,
    Permission,
    Position,
    SessionContext,
    Subaccount,
    TransferRequest,
)
from gateway.core.ports import VenuePorts
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.venue_double import VenueDouble, default_instruments
from tests.unit.core.conftest import ACCOUNT, READ_ONLY, TRADER, limit

D = Decimal


def _double(venue: str, symbols: set[str]) -> VenueDouble:
    instruments = [i for i in default_instruments(venue) if i.symbol in symbols]
    return VenueDouble(venue=venue, instruments=instruments)


@pytest.fixture
async def two_venues(
    journal: SqliteJournal,
) -> AsyncIterator[tuple[TradingService, VenueDouble, VenueDouble]]:
    spot = _double("spot-double", {"BTC/USD", "ETH/USD"})
    futures = _double("futures-double", {"BTC/USD:USD"})
    futures.balances_list = [Balance(asset="USD", wallet="flex", total=D(5), available=D(5))]
    futures.positions_list = [Position(venue="futures-double", symbol="BTC/USD:USD", qty=D(2))]
    svc = TradingService(journal, resolve_delays=(0,), not_found_confirmations=2)
    await svc.start()
    for venue in (spot, futures):
        svc.add_instruments(venue.instrument_list)
        svc.attach(ACCOUNT, VenuePorts(order_entry=venue, account=venue, market_data=venue))
    yield svc, spot, futures
    await svc.close()


async def test_orders_go_to_the_venue_of_their_instrument(
    two_venues: tuple[TradingService, VenueDouble, VenueDouble],
) -> None:
    svc, spot, futures = two_venues
    on_spot = await svc.submit(TRADER, limit("s1", symbol="BTC/USD"))
    on_futures = await svc.submit(
        TRADER, limit("f1", symbol="BTC/USD:USD", price=D("100"), qty=D("0.5"))
    )
    assert (on_spot.venue, on_spot.status) == ("spot-double", OrdStatus.NEW)
    assert (on_futures.venue, on_futures.status) == ("futures-double", OrdStatus.NEW)
    assert list(spot.orders) == [on_spot.id_at_venue]
    assert list(futures.orders) == [on_futures.id_at_venue]
    # Events come back through each venue's own sink, to the right order.
    await futures.fill("f1", D("0.5"), D("100"))
    assert (await svc.get_order(TRADER, "f1")).status is OrdStatus.FILLED
    assert (await svc.get_order(TRADER, "s1")).status is OrdStatus.NEW
    await svc.cancel(TRADER, CancelRequest(client_order_id="s1"))
    assert spot.count("cancel") == 1 and futures.count("cancel") == 0
    # The kill switch reaches every venue of the account.
    await svc.submit(TRADER, limit("s2", symbol="ETH/USD", price=D("10")))
    await svc.submit(TRADER, limit("f2", symbol="BTC/USD:USD", price=D("100"), qty=D("0.5")))
    assert await svc.set_kill_switch(TRADER, True) == 2
    assert spot.count("cancel_all") == 1 and futures.count("cancel_all") == 1


async def test_account_reads_gather_every_venue_and_transfers_need_a_venue(
    two_venues: tuple[TradingService, VenueDouble, VenueDouble],
) -> None:
    svc, _spot, _futures = two_venues
    balances = (await svc.data.balances(READ_ONLY)).items
    assert sorted((b.wallet, b.total) for b in balances) == [("flex", D(5)), ("spot", D(10000))]
    flex = await svc.data.balances(READ_ONLY, wallet="flex")
    assert [b.total for b in flex.items] == [D(5)]
    positions = (await svc.data.positions(READ_ONLY, symbol="BTC/USD:USD")).items
    assert [(p.venue, p.qty) for p in positions] == [("futures-double", D(2))]
    subs = (await svc.data.subaccounts(READ_ONLY)).items
    assert sorted(s.venue for s in subs) == ["futures-double", "spot-double"]
    merged = svc.data.stream_balances(READ_ONLY)
    snapshot = await anext(merged)  # one snapshot of both venues
    assert sorted(b.wallet for b in snapshot) == ["flex", "spot"]
    await merged.aclose()

    svc.data.set_profiles(
        {
            "main": Subaccount(account_id="main", name="main", venue_account_id="AA11 MAIN"),
            "sub-1": Subaccount(account_id="sub-1", name="sub-1", venue_account_id="AA22 SUB1"),
        }
    )
    request = TransferRequest(asset="USD", amount=D(1), from_account="main", to_account="sub-1")
    with pytest.raises(PermissionDenied):  # TRADE is not TRANSFER
        await svc.data.transfer(TRADER, request)
    mover = SessionContext("sess-t", ACCOUNT, frozenset({Permission.TRANSFER}))
    with pytest.raises(InvalidArgument) as ambiguous:
        await svc.data.transfer(mover, request)
    assert ambiguous.value.reason is ErrorReason.INVALID_FIELD
    done = await svc.data.transfer(mover, replace(request, venue="futures-double"))
    assert done.amount == D(1)
    assert (done.from_account, done.to_account) == ("main", "sub-1")  # named by profile


async def test_market_data_goes_to_the_instruments_venue(
    two_venues: tuple[TradingService, VenueDouble, VenueDouble],
) -> None:
    svc, _spot, _futures = two_venues
    perp = svc.instrument("BTC/USD:USD")
    spot_btc = svc.instrument("BTC/USD")
    assert (await svc.data.ticker(READ_ONLY, perp)).venue == "futures-double"
    assert (await svc.data.ticker(READ_ONLY, spot_btc)).venue == "spot-double"
    book = svc.data.stream_book(READ_ONLY, perp, 10)
    assert (await anext(book)).venue == "futures-double"


async def test_a_venue_the_account_lacks_is_a_precondition_a_detached_one_an_outage(
    two_venues: tuple[TradingService, VenueDouble, VenueDouble],
) -> None:
    """A futures-only account (only `futures-double` attached) asking for a spot symbol is told
    its account has no such venue; a venue taken out of service (a lost fleet lease) is
    unavailable. Neither call reaches a venue."""
    svc, spot, futures = two_venues
    futures_only = SessionContext("sess-f", "acct-f", TRADER.permissions)
    svc.attach("acct-f", VenuePorts(order_entry=futures, account=futures, market_data=futures))
    with pytest.raises(FailedPrecondition) as err:
        await svc.submit(futures_only, limit("c1", symbol="BTC/USD"))
    assert err.value.reason is ErrorReason.VENUE_NOT_CONFIGURED
    assert err.value.metadata == {"venue": "spot-double", "account": "acct-f"}
    svc.detach_venue(ACCOUNT, "spot-double")
    with pytest.raises(Unavailable) as lost:
        await svc.submit(TRADER, limit("c2", symbol="BTC/USD"))
    assert lost.value.reason is ErrorReason.VENUE_UNAVAILABLE
    assert spot.count("submit") == 0 and futures.count("submit") == 0
