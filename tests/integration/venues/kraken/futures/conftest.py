"""The Kraken Futures adapter against the in-process simulator on 127.0.0.1:0, through the core.

Accounts (simulator side): `ftrader` and `fmaker`, each with a futures key and a spot key
(`fmaker`'s futures key is also driven over plain REST). Secrets are derived from the names:
test-only values, registered with the suite-wide log scan.

`FuturesHarness` = simulator + SQLite journal in tmp_path + TradingService + the venue built by
`build_kraken_futures_venue`, attached to the core; `Reports` (shared with the Spot tests)
records the session's execution reports and lets a test wait for one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
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
from gateway.venues.factory import GatewayVenues
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.futures.factory import (
    KrakenFuturesVenueBundle,
    build_kraken_futures_venue,
)
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from simulator.accounts import KrakenAccounts, parse_accounts
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import Reports
from tests.secret_scan import register_secret

TRADER = "ftrader"
MAKER = "fmaker"
SESSION = "fs1"
WAIT_S = 15.0
SYMBOL = "BTC/USD:USD"


def futures_key(name: str) -> tuple[str, str]:
    secret = base64.b64encode(hashlib.sha512(f"test-only-futures-{name}".encode()).digest())
    return f"test-futures-key-{name}", secret.decode()


def spot_key(name: str) -> tuple[str, str]:
    secret = base64.b64encode(hashlib.sha512(f"test-only-spot-{name}".encode()).digest())
    return f"test-spot-key-{name}", secret.decode()


for _name in (TRADER, MAKER):
    # The suite-wide log scan (tests/conftest.py) then fails the run if one ever shows up.
    register_secret(futures_key(_name)[1])
    register_secret(spot_key(_name)[1])


def futures_accounts(names: list[str]) -> KrakenAccounts:
    raw: dict[str, Any] = {"accounts": []}
    for i, name in enumerate(names):
        key, secret = futures_key(name)
        skey, ssecret = spot_key(name)
        raw["accounts"].append(
            {
                "id": f"FF{i:012d}",
                "name": name,
                "tier": "pro",
                "balances": {"ZUSD": "1000000", "XXBT": "100"},
                "futures_balances": {"USD": "10000000", "XBT": "100"},
                "keys": [
                    {"key": key, "secret": secret, "permissions": ["all"], "venue": "futures"},
                    {"key": skey, "secret": ssecret, "permissions": ["all"], "venue": "spot"},
                ],
            }
        )
    return parse_accounts(raw)


def credentials(name: str) -> KrakenCredentials:
    return KrakenCredentials(*futures_key(name))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=7, accounts=futures_accounts([TRADER, MAKER])
    ) as server:
        yield server


CTX = SessionContext(
    session_id=SESSION,
    account=TRADER,
    permissions=frozenset({Permission.READ, Permission.TRADE}),
)


@dataclass
class FuturesHarness:
    sim: SimulatorServer
    journal: SqliteJournal
    service: TradingService
    bundle: KrakenFuturesVenueBundle
    reports: Reports
    ctx: SessionContext = CTX
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def venue(self) -> Any:
        return self.bundle.venue

    def next_id(self, prefix: str = "f") -> str:
        return f"{prefix}{next(self.ids)}"

    async def prices(self, symbol: str = SYMBOL) -> tuple[Decimal, Decimal]:
        ticker = await self.bundle.market_data.ticker(symbol)
        assert ticker.bid is not None and ticker.ask is not None
        return ticker.bid, ticker.ask

    def order(
        self, order_type: OrderType, side: Side, qty: str, symbol: str = SYMBOL, **kw: Any
    ) -> OrderRequest:
        return OrderRequest(
            client_order_id=kw.pop("client_order_id", None) or self.next_id(),
            symbol=symbol,
            side=side,
            order_type=order_type,
            qty=Decimal(qty),
            **kw,
        )

    async def done(self, client_order_id: str) -> ExecutionReport:
        closing = {ExecType.FILL, ExecType.CANCELED, ExecType.EXPIRED, ExecType.REJECTED}
        found = await self.reports.wait(
            lambda r: r.client_order_id == client_order_id and r.exec_type in closing
        )
        return found[0]

    async def close(self) -> None:
        self.reports.close()
        await self.service.close()
        await self.bundle.close()
        await self.journal.close()


async def start_harness(sim: SimulatorServer, data_dir: Path, **venue_kw: Any) -> FuturesHarness:
    journal = await SqliteJournal.open(data_dir)
    service = TradingService(journal, resolve_delays=(0.05, 0.2, 0.5))
    await service.start()
    bundle = await build_kraken_futures_venue(
        account=TRADER,
        credentials=credentials(TRADER),
        journal=journal,
        rest_url=sim.base_url,
        ws_url=sim.futures_ws_url,
        **venue_kw,
    )
    service.add_instruments(await bundle.venue.instruments())
    service.attach_venue(TRADER, bundle.venue)
    await bundle.venue.wait_ready()
    await service.reconcile(TRADER)
    return FuturesHarness(sim, journal, service, bundle, Reports(journal, SESSION))


@pytest.fixture
async def harness(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[FuturesHarness]:
    h = await start_harness(sim, tmp_path / "gw")
    try:
        yield h
    finally:
        await h.close()


@pytest.fixture
async def maker_rest(sim: SimulatorServer) -> AsyncIterator[KrakenFuturesRestClient]:
    """The `fmaker` futures key over plain REST."""
    rest = KrakenFuturesRestClient(
        sim.base_url,
        credentials(MAKER),
        KrakenNonceSource("fmaker", InMemoryNonceStore()),
        KrakenFuturesRateGovernor(),
    )
    try:
        yield rest
    finally:
        await rest.close()


# A gateway config trading Kraken Futures on the simulator; tests append their accounts.
FUTURES_GATEWAY_HEAD = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken]
dead_man_switch = false

[kraken.futures]
rest_url = "@REST@"
ws_url = "@WS_FUTURES@"
"""


@contextlib.asynccontextmanager
async def futures_gateway(
    sim: SimulatorServer, tmp_path: Path, accounts_toml: str, env: Mapping[str, str]
) -> AsyncIterator[str]:
    """The real gateway (gRPC, sessions, SQLite journal) on the simulator's Futures with the
    given accounts and sessions; yields its gRPC address."""
    head = FUTURES_GATEWAY_HEAD.replace("@REST@", sim.base_url)
    path = tmp_path / "gateway.toml"
    path.write_text(head.replace("@WS_FUTURES@", sim.futures_ws_url) + accounts_toml)
    config = load_config(path, environ=dict(env))
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    port = await app.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await app.stop()
