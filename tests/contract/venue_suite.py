"""One behavioural suite every venue adapter must pass, over the venue ports and the core.

Modelled on hummingbot's abstract connector tests: `VenueSuite` holds the cases, a subclass per
venue supplies the hooks (tests/contract/test_venue_*.py). Each case builds a fresh venue, a
SQLite journal in tmp_path and a `TradingService` the venue is attached to (through a
`CountingPort`, which counts what the core sent to the venue), and one trading session.

Cases: submit -> ack -> NEW; a definitive refusal -> REJECTED, sent once (a duplicate submit
sends nothing); a lost answer -> outcome unknown (PENDING_NEW), then a query settles it, never a
resend; cancel of an order the venue does not know -> VenueRejected(UNKNOWN_ORDER); cancel-all
-> one cancel per open order; fills de-duplicated by trade id across the live feed and a REST
catch-up (the same trade ids from both); recent fills oldest first.

Hooks a venue subclass implements:
- `open_venue(tmp_path, journal)` -> `OpenedVenue`: start whatever the venue needs (a simulator,
  a market) and return its order entry port, its instruments, how to close it all and what to
  await once the core attached the port (`ready`). The journal is the one the core uses
  (Kraken adapters keep nonces and id mappings there).
- `resting_request(cid)`: an order the venue accepts and leaves resting (no fill).
- `refused_request(cid)`: an order the venue refuses definitively (e.g. insufficient funds).
- `fill_request(cid)` and `make_fill(order)`: an order that the venue fills in full once
  `make_fill` ran (e.g. a maker takes it on a simulator; a double fills it; a paper venue's
  marketable order fills by itself and `make_fill` does nothing).
- `lose_next_submit_answer()`: the next submit is executed by the venue but its answer is lost
  (a simulator fault rule, a scripted double).

A case that genuinely cannot apply to a venue is named with its reason in the subclass's
`NOT_APPLICABLE` (e.g. `{"test_lost_answer_is_settled_by_query": "why"}`): the subclass then
does not carry it, and `test_not_applicable_cases_are_declared_with_a_reason` checks every
declaration names a real case and gives a reason. Keep such declarations rare.

Subclasses: the venue double, the paper venue, Kraken Spot and Kraken Futures on the local
simulator (tests/contract/test_venue_*.py); a new venue adds one such file.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gateway.core.errors import ErrorReason, GatewayError, VenueRejected
from gateway.core.events import AmendAck, OrderFilled, SubmitAck, VenueOrderState
from gateway.core.model import (
    AmendRequest,
    ExecType,
    ExecutionReport,
    Instrument,
    Order,
    OrderRequest,
    OrdStatus,
    Permission,
    SessionContext,
)
from gateway.core.orders import new_order
from gateway.core.ports import JournalPort, OrderEntryPort, ReportSubscription, VenueEventSink
from gateway.core.service import TradingService
from gateway.core.venue_ids import venue_order
from gateway.journal import SqliteJournal

__all__ = ["CountingPort", "OpenedVenue", "VenueSuite", "VenueUnderTest"]

WAIT_S = 15.0


async def _nothing() -> None:
    return None


@dataclass
class OpenedVenue:
    """`ready` is awaited once the core attached the port (a Kraken adapter starts its feeds
    when it gets the core's event sink)."""

    port: OrderEntryPort
    instruments: Sequence[Instrument]
    close: Callable[[], Awaitable[None]]
    ready: Callable[[], Awaitable[None]] = _nothing


class CountingPort:
    """An OrderEntryPort that counts each call the core makes and keeps the core's sink."""

    def __init__(self, inner: OrderEntryPort) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.sink: VenueEventSink | None = None

    @property
    def venue(self) -> str:
        return self.inner.venue

    def set_event_sink(self, sink: VenueEventSink) -> None:
        self.sink = sink
        self.inner.set_event_sink(sink)

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        self.calls["submit"] += 1
        return await self.inner.submit(request, instrument)

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        self.calls["submit_batch"] += 1
        return await self.inner.submit_batch(items)

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        self.calls["amend"] += 1
        return await self.inner.amend(order, amend, instrument)

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        self.calls["replace"] += 1
        return await self.inner.replace(order, new_request, instrument)

    async def cancel(self, order: Order) -> None:
        self.calls["cancel"] += 1
        await self.inner.cancel(order)

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        self.calls["cancel_batch"] += 1
        return await self.inner.cancel_batch(orders)

    async def cancel_all(self, symbol: str | None = None) -> int:
        self.calls["cancel_all"] += 1
        return await self.inner.cancel_all(symbol)

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        self.calls["query_order"] += 1
        return await self.inner.query_order(client_order_id, venue_order_id, instrument)

    async def open_orders(self) -> Sequence[VenueOrderState]:
        return await self.inner.open_orders()

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        return await self.inner.recent_fills(since)


class Reports:
    """Every report of one session as the journal publishes them; tests wait on conditions."""

    def __init__(self, sub: ReportSubscription) -> None:
        self.items: list[ExecutionReport] = []
        self._changed = asyncio.Condition()
        self._sub = sub
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        async for report in self._sub:
            async with self._changed:
                self.items.append(report)
                self._changed.notify_all()

    async def wait_for(self, condition: Callable[[list[ExecutionReport]], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self._changed:
            await self._changed.wait_for(lambda: condition(self.items))

    def of(self, client_order_id: str, exec_type: ExecType | None = None) -> list[ExecutionReport]:
        return [
            r
            for r in self.items
            if r.client_order_id == client_order_id
            and (exec_type is None or r.exec_type is exec_type)
        ]

    async def wait_report(self, client_order_id: str, exec_type: ExecType) -> ExecutionReport:
        await self.wait_for(lambda _items: bool(self.of(client_order_id, exec_type)))
        return self.of(client_order_id, exec_type)[0]

    def close(self) -> None:
        self._task.cancel()
        self._sub.close()


@dataclass
class VenueUnderTest:
    service: TradingService
    port: CountingPort
    ctx: SessionContext
    instruments: Sequence[Instrument]
    reports: Reports
    journal: JournalPort

    async def order(self, client_order_id: str) -> Order:
        return await self.service.get_order(self.ctx, client_order_id)

    def instrument_of(self, request: OrderRequest) -> Instrument:
        return self.service.instrument(request.symbol, request.venue)


class VenueSuite:
    """The cases; subclasses supply the hooks documented in the module docstring."""

    ACCOUNT: ClassVar[str] = "trader"
    NOT_APPLICABLE: ClassVar[Mapping[str, str]] = {}
    _CASES: ClassVar[frozenset[str]] = frozenset()
    _ids = itertools.count(1)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.NOT_APPLICABLE:
            if name in VenueSuite._CASES:
                setattr(cls, name, None)  # declared, with its reason: not carried

    # -- hooks ------------------------------------------------------------------------------
    async def open_venue(self, tmp_path: Path, journal: JournalPort) -> OpenedVenue:
        raise NotImplementedError

    def resting_request(self, client_order_id: str) -> OrderRequest:
        raise NotImplementedError

    def refused_request(self, client_order_id: str) -> OrderRequest:
        raise NotImplementedError

    def fill_request(self, client_order_id: str) -> OrderRequest:
        raise NotImplementedError

    async def make_fill(self, order: Order) -> None:
        raise NotImplementedError

    async def lose_next_submit_answer(self) -> None:
        raise NotImplementedError

    # -- the venue of one case --------------------------------------------------------------
    @pytest.fixture
    async def v(self, tmp_path: Path) -> AsyncIterator[VenueUnderTest]:
        journal = await SqliteJournal.open(tmp_path / "journal")
        opened: OpenedVenue | None = None
        service = TradingService(journal, resolve_delays=(0.05, 0.2, 0.5))
        try:
            await service.start()
            opened = await self.open_venue(tmp_path, journal)
            port = CountingPort(opened.port)
            service.add_instruments(opened.instruments)
            service.attach_venue(self.ACCOUNT, port)
            await opened.ready()
            ctx = SessionContext(
                f"{self.ACCOUNT}-session",
                self.ACCOUNT,
                frozenset({Permission.READ, Permission.TRADE}),
            )
            reports = Reports(journal.subscribe(ctx.session_id, 0))
            yield VenueUnderTest(service, port, ctx, opened.instruments, reports, journal)
            reports.close()
        finally:
            await service.close()
            if opened is not None:
                await opened.close()
            await journal.close()

    @staticmethod
    def cid(prefix: str) -> str:
        return f"{prefix}{next(VenueSuite._ids)}"

    # -- cases ------------------------------------------------------------------------------
    async def test_submit_is_acked_then_new(self, v: VenueUnderTest) -> None:
        request = self.resting_request(self.cid("new"))
        order = await v.service.submit(v.ctx, request)
        assert order.status is OrdStatus.NEW and order.venue_order_id
        await v.reports.wait_report(request.client_order_id, ExecType.NEW)
        kinds = [r.exec_type for r in v.reports.of(request.client_order_id)]
        assert kinds == [ExecType.PENDING_NEW, ExecType.NEW]
        state = await v.port.query_order(
            order.id_at_venue, order.venue_order_id, v.instrument_of(request)
        )
        assert state is not None and state.status is OrdStatus.NEW
        assert state.venue_order_id == order.venue_order_id
        assert v.port.calls["submit"] == 1

    async def test_definitive_refusal_is_rejected_and_sent_once(self, v: VenueUnderTest) -> None:
        request = self.refused_request(self.cid("ref"))
        order = await v.service.submit(v.ctx, request)
        assert order.status is OrdStatus.REJECTED and order.reject is not None
        again = await v.service.submit(v.ctx, request)  # the client retries the same id
        assert again.status is OrdStatus.REJECTED
        await v.reports.wait_report(request.client_order_id, ExecType.REJECTED)
        kinds = [r.exec_type for r in v.reports.of(request.client_order_id)]
        assert kinds == [ExecType.PENDING_NEW, ExecType.REJECTED]
        # Definitive: nothing resent, nothing left to resolve by query.
        assert v.port.calls["submit"] == 1 and v.port.calls["query_order"] == 0

    async def test_lost_answer_is_settled_by_query(self, v: VenueUnderTest) -> None:
        await self.lose_next_submit_answer()
        request = self.resting_request(self.cid("lost"))
        order = await v.service.submit(v.ctx, request)
        # The venue executed it but the answer never came: pending until settled.
        assert order.status in (OrdStatus.PENDING_NEW, OrdStatus.NEW)
        new = await v.reports.wait_report(request.client_order_id, ExecType.NEW)
        assert new.venue_order_id
        state = await v.port.query_order(
            order.id_at_venue, new.venue_order_id, v.instrument_of(request)
        )
        assert state is not None and state.status is OrdStatus.NEW
        open_ids = {s.venue_order_id for s in await v.port.open_orders()}
        assert open_ids == {new.venue_order_id}  # exactly one order at the venue
        assert v.port.calls["submit"] == 1  # never resent

    async def test_cancel_of_an_unknown_order_is_unknown_order(self, v: VenueUnderTest) -> None:
        request = self.resting_request(self.cid("ghost"))
        ghost = new_order(
            account=self.ACCOUNT,
            session_id=v.ctx.session_id,
            request=request,
            instrument=v.instrument_of(request),
            now=datetime.now(UTC),
        )
        with pytest.raises(VenueRejected) as refused:
            await v.port.cancel(venue_order(ghost))
        assert refused.value.reason is ErrorReason.UNKNOWN_ORDER

    async def test_cancel_all_cancels_each_open_order_once(self, v: VenueUnderTest) -> None:
        requests = [self.resting_request(self.cid("all")) for _ in range(3)]
        for request in requests:
            assert (await v.service.submit(v.ctx, request)).status is OrdStatus.NEW
        assert await v.port.cancel_all() == 3
        ids = [r.client_order_id for r in requests]
        await v.reports.wait_for(lambda _: all(v.reports.of(i, ExecType.CANCELED) for i in ids))
        for request in requests:
            assert (await v.order(request.client_order_id)).status is OrdStatus.CANCELED
        assert await v.port.open_orders() == []
        assert [len(v.reports.of(i, ExecType.CANCELED)) for i in ids] == [1, 1, 1]

    async def test_fills_are_deduplicated_across_feed_and_catch_up(self, v: VenueUnderTest) -> None:
        request = self.fill_request(self.cid("fill"))
        placed = await v.service.submit(v.ctx, request)
        await self.make_fill(placed)
        await v.reports.wait_report(request.client_order_id, ExecType.FILL)
        filled = await v.order(request.client_order_id)
        feed_trades = {f.trade_id for f in filled.fills}
        # The REST catch-up after a reconnect reports the same trades again, by the same ids.
        since = placed.created_at
        caught = [
            f for f in await v.port.recent_fills(since) if f.venue_order_id == filled.venue_order_id
        ]
        assert {f.trade_id for f in caught} == feed_trades
        assert v.port.sink is not None
        for fill in caught:
            await v.port.sink.on_venue_event(fill)
        # Reports publish in journal order: once a later order's NEW is out, so is any
        # (wrongly) repeated fill report.
        barrier = self.resting_request(self.cid("barrier"))
        await v.service.submit(v.ctx, barrier)
        await v.reports.wait_report(barrier.client_order_id, ExecType.NEW)
        again = await v.order(request.client_order_id)
        assert again.cum_qty == filled.cum_qty == filled.qty
        assert [f.trade_id for f in again.fills] == [f.trade_id for f in filled.fills]
        trade_reports = [r for r in v.reports.of(request.client_order_id) if r.trade_id]
        assert sorted(r.trade_id for r in trade_reports) == sorted(feed_trades)

    async def test_recent_fills_are_oldest_first(self, v: VenueUnderTest) -> None:
        venue_ids = []
        first_created = None
        for _ in range(2):
            request = self.fill_request(self.cid("old"))
            placed = await v.service.submit(v.ctx, request)
            first_created = first_created or placed.created_at
            await self.make_fill(placed)
            await v.reports.wait_report(request.client_order_id, ExecType.FILL)
            venue_ids.append((await v.order(request.client_order_id)).venue_order_id)
        recent = await v.port.recent_fills(first_created)
        fills = [f for f in recent if f.venue_order_id in venue_ids]
        assert [f.venue_order_id for f in fills] == sorted(
            (f.venue_order_id for f in fills), key=venue_ids.index
        )
        times = [f.venue_time for f in fills]
        assert None not in times and times == sorted(t for t in times if t is not None)
        assert {f.venue_order_id for f in fills} == set(venue_ids)

    async def test_not_applicable_cases_are_declared_with_a_reason(self) -> None:
        for name, reason in self.NOT_APPLICABLE.items():
            assert name in VenueSuite._CASES, f"{name} is not a case of the suite"
            assert reason.strip(), f"{name} is declared not applicable without a reason"


VenueSuite._CASES = frozenset(
    name
    for name in vars(VenueSuite)
    if name.startswith("test_") and name != "test_not_applicable_cases_are_declared_with_a_reason"
)
