"""Issue 9 (trust): TransferFunds through the gRPC gateway to Kraken (the simulator). Profiles
map to Kraken account ids (other names go to Kraken as given); a client_transfer_id makes a
transfer idempotent (journaled: a repeat answers the first result and sends nothing, also after
a restart); ListSubaccounts lists the configured profiles with their Kraken ids."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.app import GatewayApp
from gateway.config import load_config
from gateway.venues.factory import GatewayVenues
from krakengw import AsyncClient, KrakenGwError
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import MAKER, TRADER, key_of
from tests.integration.venues.kraken.spot.test_account import SUB_ID, sim  # noqa: F401

MASTER_ID = "AA0000000000"
CONFIG = f"""
[server]
listen = "127.0.0.1:0"
data_dir = "data"

[kraken.spot]
rest_url = "@REST@"
ws_public_url = "@WS_PUBLIC@"
ws_private_url = "@WS_PRIVATE@"
tier = "pro"

[accounts.trader]
permissions = ["read", "trade", "transfer"]
venue_account_id = "{MASTER_ID}"
spot = {{ key_env = "SPOT_KEY", secret_env = "SPOT_SECRET" }}

[accounts.strategy-a]
permissions = ["read"]
subaccount = "strategy-a"
venue_account_id = "{SUB_ID}"
spot = {{ key_env = "SUB_KEY", secret_env = "SUB_SECRET" }}

[sessions.s1]
account = "trader"
token_env = "TOKEN_S1"
"""


async def _start(sim: SimulatorServer, tmp_path: Path, token: str) -> GatewayApp:  # noqa: F811
    path = tmp_path / "gateway.toml"
    path.write_text(
        CONFIG.replace("@REST@", sim.base_url)
        .replace("@WS_PUBLIC@", sim.spot_ws_public_url)
        .replace("@WS_PRIVATE@", sim.spot_ws_private_url)
    )
    key, secret = key_of(TRADER)
    sub_key, sub_secret = key_of(MAKER)
    env = {
        "SPOT_KEY": key,
        "SPOT_SECRET": secret,
        "SUB_KEY": sub_key,
        "SUB_SECRET": sub_secret,
        "TOKEN_S1": token,
    }
    config = load_config(path, environ=env)
    venues = GatewayVenues(config.kraken)
    app = await GatewayApp.build(config, venues=venues, journal_factory=venues.open_journal)
    await app.start()
    return app


async def _usd(client: AsyncClient) -> Decimal:
    balances = {b.asset: b for b in await client.list_balances()}
    return balances["USD"].total


async def test_transfers_are_idempotent_across_restarts_and_name_profiles(
    sim: SimulatorServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    token = f"tok-{secrets.token_urlsafe(24)}"
    app = await _start(sim, tmp_path, token)
    try:
        async with AsyncClient(f"127.0.0.1:{app.port}", token) as client:
            await client.logon()
            subs = {s.account_id: s for s in await client.list_subaccounts()}
            assert subs["trader"].venue_account_id == MASTER_ID
            assert subs["strategy-a"].venue_account_id == SUB_ID
            assert subs["strategy-a"].name == "strategy-a"
            before = await _usd(client)
            first = await client.transfer_funds(
                "USD", Decimal("250"), "trader", "strategy-a", client_transfer_id="t-1"
            )
            assert first.transfer_id
            assert (first.from_account, first.to_account) == ("trader", "strategy-a")
            assert await _usd(client) == before - 250
            again = await client.transfer_funds(
                "USD", Decimal("250"), "trader", "strategy-a", client_transfer_id="t-1"
            )
            assert again.transfer_id == first.transfer_id
            assert await _usd(client) == before - 250  # nothing sent the second time
            with pytest.raises(KrakenGwError) as err:
                await client.transfer_funds(
                    "USD", Decimal("1"), "trader", "strategy-a", client_transfer_id="t-1"
                )
            assert err.value.code is grpc.StatusCode.ALREADY_EXISTS
            with pytest.raises(KrakenGwError) as err:  # not a profile: Kraken refuses the name
                await client.transfer_funds("USD", Decimal("1"), "trader", "nobody")
            assert err.value.reason == "VENUE_INVALID_ARGUMENT"
            assert await _usd(client) == before - 250
    finally:
        await app.stop()

    app = await _start(sim, tmp_path, token)  # same journal: the transfer is remembered
    try:
        async with AsyncClient(f"127.0.0.1:{app.port}", token) as client:
            await client.logon()
            repeat = await client.transfer_funds(
                "USD", Decimal("250"), "trader", "strategy-a", client_transfer_id="t-1"
            )
            assert repeat.transfer_id == first.transfer_id
            assert await _usd(client) == before - 250
    finally:
        await app.stop()
