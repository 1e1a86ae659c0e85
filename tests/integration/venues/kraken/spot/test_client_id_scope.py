"""Client order ids belong to sessions: two sessions of one account use the same id for two
orders, through the real gateway (gRPC, SQLite journal) and the simulator's Kraken Spot.

Each reaches Kraken as its own order (a session-scoped cl_ord_id), each session sees only its
own, a session's duplicate stays idempotent, and after a gateway restart the fills of both map
back to the session that placed each order."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.core.model import Side
from gateway.core.venue_ids import scoped_client_order_id
from gateway.venues.factory import GatewayVenues
from krakengw import AsyncClient, ExecType, KrakenGwError, OrdStatus
from krakengw.models import ExecutionReport
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    MAKER,
    TRADER,
    RestMaker,
    accounts,
    key_of,
)

PX = Decimal("50000")
SESSIONS = ("s1", "s2", "audit")
CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken.spot]
rest_url = "@REST@"
ws_public_url = "@WS_PUBLIC@"
ws_private_url = "@WS_PRIVATE@"
tier = "pro"

[accounts.trader]
permissions = ["read", "trade", "drop_copy"]
spot = { key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
permissions = ["read", "trade"]

[sessions.s2]
account = "trader"
token_env = "TOKEN_S2"
permissions = ["read", "trade"]

[sessions.audit]
account = "trader"
token_env = "TOKEN_AUDIT"
permissions = ["read", "drop_copy"]
"""


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=12, accounts=accounts([TRADER, MAKER]), market_maker=False
    ) as server:
        yield server


async def start_gateway(sim: SimulatorServer, tmp_path: Path, tokens: dict[str, str]) -> GatewayApp:
    key, secret = key_of(TRADER)
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
    )
    environ = {"SPOT_KEY": key, "SPOT_SECRET": secret}
    environ.update({f"TOKEN_{s.upper()}": t for s, t in tokens.items()})
    config = load_config(path, environ=environ)
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    await app.start()
    return app


def target(app: GatewayApp) -> str:
    return f"127.0.0.1:{app.port}"


async def reports_until_fill(client: AsyncClient, client_order_id: str) -> list[ExecutionReport]:
    """The session's stream from the start until `client_order_id` is filled."""
    seen: list[ExecutionReport] = []
    async with asyncio.timeout(20):  # fail, never hang
        async for report in client.stream_executions(0):
            seen.append(report)
            if report.client_order_id == client_order_id and report.exec_type is ExecType.FILL:
                return seen
    raise AssertionError("the stream ended")


async def test_two_sessions_one_client_order_id_two_orders_each_mapped_back(
    sim: SimulatorServer, tmp_path: Path, rest_maker: RestMaker
) -> None:
    tokens = {s: f"tok-{secrets.token_urlsafe(24)}" for s in SESSIONS}
    app = await start_gateway(sim, tmp_path, tokens)
    try:
        # The trading sessions share the account's key lease: one after the other.
        async with AsyncClient(target(app), tokens["s1"]) as s1:
            await s1.logon()
            first = await s1.submit_order("BTC/USD", "buy", "0.1", price=PX, client_order_id="same")
            again = await s1.submit_order("BTC/USD", "buy", "0.1", price=PX, client_order_id="same")
            assert first.ord_status is OrdStatus.NEW and again == first  # idempotent
        async with AsyncClient(target(app), tokens["s2"]) as s2:
            await s2.logon()
            # Today's refusal (ALREADY_EXISTS) would tell s2 that another session used "same".
            second = await s2.submit_order(
                "BTC/USD", "buy", "0.2", price=PX - 10, client_order_id="same"
            )
            assert second.ord_status is OrdStatus.NEW
            assert second.venue_order_id != first.venue_order_id
            with pytest.raises(KrakenGwError) as refused:  # its own duplicate, changed
                await s2.submit_order(
                    "BTC/USD", "buy", "0.3", price=PX - 10, client_order_id="same"
                )
            assert refused.value.reason == "DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST"
            assert (await s2.get_order("same")).venue_order_id == second.venue_order_id
            assert [o.venue_order_id for o in await s2.list_open_orders()] == [
                second.venue_order_id
            ]
        # Two distinct orders at Kraken, each under its session's own cl_ord_id.
        at_kraken = await app.service.venue_ports(TRADER, "kraken").order_entry.open_orders()
        assert {(s.venue_order_id, s.client_order_id) for s in at_kraken} == {
            (first.venue_order_id, scoped_client_order_id(TRADER, "s1", "same")),
            (second.venue_order_id, scoped_client_order_id(TRADER, "s2", "same")),
        }
        async with AsyncClient(target(app), tokens["audit"]) as audit:
            await audit.logon()
            with pytest.raises(KrakenGwError) as ambiguous:  # sees both: must say which
                await audit.get_order("same")
            assert ambiguous.value.code.name == "INVALID_ARGUMENT"
            by_venue_id = await audit.get_order(venue_order_id=second.venue_order_id)
            assert by_venue_id.session_id == "s2" and by_venue_id.order_qty == Decimal("0.2")
    finally:
        await app.stop()

    # While the gateway is down, s1's order fills; after the restart, s2's does (live feed).
    await rest_maker.take(Side.SELL, "0.1", PX)
    app = await start_gateway(sim, tmp_path, tokens)
    try:
        async with AsyncClient(target(app), tokens["s1"]) as s1:
            await s1.logon()
            seen = await reports_until_fill(s1, "same")
            assert {r.venue_order_id for r in seen} - {""} == {first.venue_order_id}
            assert seen[-1].last_qty == Decimal("0.1") and seen[-1].last_px == PX
            assert (await s1.get_order("same")).ord_status is OrdStatus.FILLED
        async with AsyncClient(target(app), tokens["s2"]) as s2:
            await s2.logon()
            assert (await s2.get_order("same")).ord_status is OrdStatus.NEW
            await rest_maker.take(Side.SELL, "0.2", PX - 10)
            seen = await reports_until_fill(s2, "same")
            assert {r.venue_order_id for r in seen} - {""} == {second.venue_order_id}
            assert seen[-1].last_qty == Decimal("0.2") and seen[-1].last_px == PX - 10
            assert seen[-1].session_id == "s2"
    finally:
        await app.stop()
