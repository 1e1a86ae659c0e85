"""Random interleavings of client calls and venue events keep the books straight: no internal
error, cum/leaves/avg consistent with the unique fills, a gap-free stream that agrees with the
orders, and the venue reached once per accepted order."""

from __future__ import annotations

import tempfile
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.core.errors import GatewayError, Internal
from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    ExecType,
    ExecutionReport,
    OrdStatus,
)
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.venue_double import Outcome, VenueDouble
from tests.unit.core.conftest import ACCOUNT, TRADER, limit

D = Decimal
IDS = ["o1", "o2", "o3"]

action = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(IDS), st.sampled_from(list(Outcome))),
    st.tuples(st.just("fill"), st.sampled_from(IDS), st.integers(1, 6)),  # trade id
    st.tuples(st.just("cancel"), st.sampled_from(IDS), st.sampled_from(list(Outcome))),
    st.tuples(st.just("amend"), st.sampled_from(IDS), st.sampled_from(list(Outcome))),
    st.tuples(st.just("expire"), st.sampled_from(IDS), st.just(0)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, max_size=25))
async def test_random_interleavings_keep_orders_consistent(
    actions: list[tuple[str, str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        journal = await SqliteJournal.open(directory)
        venue = VenueDouble()
        service = TradingService(journal, resolve_delays=(0,), not_found_confirmations=1)
        service.add_instruments(venue.instrument_list)
        service.attach_venue(ACCOUNT, venue)
        try:
            await _play(service, venue, actions)
            await service.close()  # stops resolvers mid-way: pending orders may stay pending
            await journal.flush()
            await _check(service, journal, venue)
        finally:
            await service.close()
            await journal.close()


async def _play(
    service: TradingService, venue: VenueDouble, actions: list[tuple[str, str, object]]
) -> None:
    for kind, cid, arg in actions:
        try:
            if kind == "submit":
                assert isinstance(arg, Outcome)
                venue.script("submit", arg)
                await service.submit(TRADER, limit(cid, qty=D(2)))
            elif kind == "cancel":
                assert isinstance(arg, Outcome)
                venue.script("cancel", arg)
                await service.cancel(TRADER, CancelRequest(client_order_id=cid))
            elif kind == "amend":
                assert isinstance(arg, Outcome)
                venue.script("amend", arg)
                await service.amend(TRADER, AmendRequest(client_order_id=cid, qty=D(3)))
            elif kind == "fill" and _working(venue, cid):
                await venue.fill(cid, D("0.5"), D("100"), trade_id=f"{cid}-{arg}")
            elif kind == "expire" and _working(venue, cid):
                await venue.expire(cid)
        except Internal:
            raise
        except GatewayError:
            pass
        venue._scripts.clear()  # unused outcomes must not leak into later calls


def _working(venue: VenueDouble, cid: str) -> bool:
    mine = venue.orders.get(cid)
    return mine is not None and mine.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)


async def _check(service: TradingService, journal: SqliteJournal, venue: VenueDouble) -> None:
    last = await service.last_sequence(TRADER)
    reports: list[ExecutionReport] = await journal.reports(TRADER.session_id, 0, 10_000)
    assert [r.sequence for r in reports] == list(range(1, last + 1))
    assert len({r.exec_id for r in reports}) == len(reports)
    for order in await service.list_open_orders(TRADER) + [
        o for o in (await service.list_orders(TRADER, page_size=1000)).items if o.is_terminal
    ]:
        trades = {f.trade_id for f in order.fills}
        assert len(trades) == len(order.fills)
        cum = sum((f.qty for f in order.fills), D(0))
        assert order.cum_qty == cum
        if cum:
            notional = sum((f.qty * f.price for f in order.fills), D(0))
            assert order.avg_px == notional / cum
        if order.is_open:
            assert order.leaves_qty == max(order.qty - cum, D(0))
        mine = [r for r in reports if r.client_order_id == order.client_order_id]
        assert mine[-1].ord_status is order.status
        assert mine[-1].cum_qty == order.cum_qty
        fills = [r for r in mine if r.exec_type in (ExecType.FILL, ExecType.PARTIAL_FILL)]
        assert sorted(r.trade_id or "" for r in fills) == sorted(trades)
    submitted = [cid for name, cid in venue.calls if name == "submit"]
    assert len(submitted) == len(set(submitted))  # never resent
