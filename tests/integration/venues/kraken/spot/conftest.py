"""The Kraken Spot adapter against the in-process simulator on 127.0.0.1:0, through the core.

Accounts (simulator side, tier pro): `trader` (the gateway's key) and `maker` (a second key
used by the tests to rest liquidity the trader's orders cross, or to take the trader's resting
orders). Secrets are derived from the names: test-only values.

`SpotHarness` = simulator URLs + SQLite journal in tmp_path + TradingService + the venue built by
`build_kraken_spot_venue`, attached to the core; `Reports` records the session's execution
reports (from the journal subscription) and lets a test wait for one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.core.model import (
    ExecType,
    ExecutionReport,
    OrderRequest,
    OrderType,
    Permission,
    SessionContext,
    Side,
)
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.spot.factory import KrakenSpotVenueBundle, build_kraken_spot_venue
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient
from simulator.accounts import KrakenAccounts
from simulator.app import SimulatorServer
from simulator.named_accounts import named_accounts, named_key

TRADER = "trader"
MAKER = "maker"
SESSION = "s1"
WAIT_S = 15.0


def key_of(name: str) -> tuple[str, str]:
    """(api key, base64 secret) of a test account, derived from its name."""
    return named_key(name)


def accounts(names: list[str]) -> KrakenAccounts:
    return named_accounts(names)


def credentials(name: str) -> KrakenCredentials:
    return KrakenCredentials(*key_of(name))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=11, accounts=accounts([TRADER, MAKER])
    ) as server:
        yield server


@pytest.fixture
async def quiet_sim() -> AsyncIterator[SimulatorServer]:
    """Trader and maker accounts and no market maker: the test sets every price itself."""
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=5, accounts=accounts([TRADER, MAKER]), market_maker=False
    ) as server:
        yield server


async def set_faults(sim: SimulatorServer, plan: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sim.base_url}/_sim/faults", content=json.dumps(plan))
        assert response.status_code == 200, response.text


class Reports:
    """Every report of one session, as the journal publishes them."""

    def __init__(self, journal: SqliteJournal, session_id: str) -> None:
        self.items: list[ExecutionReport] = []
        self._changed = asyncio.Condition()
        self._sub = journal.subscribe(session_id, 0)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        async for report in self._sub:
            async with self._changed:
                self.items.append(report)
                self._changed.notify_all()

    async def wait(
        self, pred: Callable[[ExecutionReport], bool], *, count: int = 1, timeout: float = WAIT_S
    ) -> list[ExecutionReport]:
        """The first `count` reports matching `pred` (waits until there are that many)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len([r for r in self.items if pred(r)]) >= count)
            return [r for r in self.items if pred(r)][:count]

    def of(self, client_order_id: str) -> list[ExecutionReport]:
        return [r for r in self.items if r.client_order_id == client_order_id]

    def close(self) -> None:
        self._task.cancel()
        self._sub.close()


@dataclass
class SpotHarness:
    sim: SimulatorServer
    journal: SqliteJournal
    service: TradingService
    bundle: KrakenSpotVenueBundle
    reports: Reports
    ctx: SessionContext
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def venue(self) -> Any:
        return self.bundle.venue

    def next_id(self, prefix: str = "c") -> str:
        return f"{prefix}{next(self.ids)}"

    async def prices(self, symbol: str = "BTC/USD") -> tuple[Decimal, Decimal]:
        ticker = await self.bundle.market_data.ticker(symbol)
        assert ticker.bid is not None and ticker.ask is not None
        return ticker.bid, ticker.ask

    def limit(
        self, side: Side, qty: str, price: Decimal, symbol: str = "BTC/USD", **kw: Any
    ) -> OrderRequest:
        return OrderRequest(
            client_order_id=kw.pop("client_order_id", None) or self.next_id(),
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT,
            qty=Decimal(qty),
            price=price,
            **kw,
        )

    async def done(self, client_order_id: str) -> ExecutionReport:
        """The report that closed the order (FILL, CANCELED, EXPIRED, REJECTED, REPLACED)."""
        closing = {
            ExecType.FILL,
            ExecType.CANCELED,
            ExecType.EXPIRED,
            ExecType.REJECTED,
            ExecType.REPLACED,
        }
        found = await self.reports.wait(
            lambda r: (
                r.client_order_id == client_order_id
                and r.exec_type in closing
                and r.leaves_qty == 0
            )
        )
        return found[0]

    async def close(self) -> None:
        self.reports.close()
        await self.service.close()
        await self.bundle.close()
        await self.journal.close()


CTX = SessionContext(
    session_id=SESSION,
    account=TRADER,
    permissions=frozenset({Permission.READ, Permission.TRADE, Permission.TRANSFER}),
)


async def start_harness(
    sim: SimulatorServer, data_dir: Path, *, name: str = TRADER, **venue_kw: Any
) -> SpotHarness:
    journal = await SqliteJournal.open(data_dir)
    service = TradingService(journal, resolve_delays=(0.05, 0.2, 0.5))
    await service.start()
    bundle = await build_kraken_spot_venue(
        account=name,
        credentials=credentials(name),
        journal=journal,
        rest_url=sim.base_url,
        ws_public_url=sim.spot_ws_public_url,
        ws_private_url=sim.spot_ws_private_url,
        tier=KrakenTier.PRO,
        **venue_kw,
    )
    service.add_instruments(await bundle.venue.instruments())
    service.attach_venue(name, bundle.venue)
    await bundle.venue.wait_ready()
    await service.reconcile(name)
    ctx = SessionContext(session_id=CTX.session_id, account=name, permissions=CTX.permissions)
    return SpotHarness(sim, journal, service, bundle, Reports(journal, ctx.session_id), ctx)


@pytest.fixture
async def harness(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[SpotHarness]:
    h = await start_harness(sim, tmp_path / "gw")
    try:
        yield h
    finally:
        await h.close()


class RestMaker:
    """The `maker` key over plain REST (no WebSocket, so WS fault rules never touch it)."""

    def __init__(self, sim: SimulatorServer) -> None:
        self.rest = KrakenSpotRestClient(
            sim.base_url,
            credentials(MAKER),
            KrakenNonceSource("maker", InMemoryNonceStore()),
            KrakenRateGovernor(KrakenTier.PRO),
        )

    async def take(self, side: Side, qty: str, price: Decimal, symbol: str = "XBTUSD") -> str:
        """An IOC limit that trades against resting orders; returns its txid."""
        result = await self.rest.write(
            "AddOrder",
            {
                "pair": symbol,
                "type": side.value.lower(),
                "ordertype": "limit",
                "price": str(price),
                "volume": qty,
                "timeinforce": "IOC",
            },
        )
        return str(result["txid"][0])

    async def close(self) -> None:
        await self.rest.close()


@pytest.fixture
async def rest_maker(sim: SimulatorServer) -> AsyncIterator[RestMaker]:
    maker = RestMaker(sim)
    try:
        yield maker
    finally:
        await maker.close()


@pytest.fixture
async def maker(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[SpotHarness]:
    """A second gateway-side trader on the `maker` key (its own journal)."""
    h = await start_harness(sim, tmp_path / "maker", name=MAKER)
    try:
        yield h
    finally:
        await h.close()
