"""TransferFunds on Kraken Futures through the gRPC gateway against the simulator: a master
account (futures key only) moves USD between its flex wallet and a subaccount's, both ways; an
account Kraken does not know of is refused with TRANSFER_REJECTED and nothing moves."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from krakengw import AsyncClient, KrakenGwError
from simulator.accounts import parse_accounts
from simulator.app import SimulatorServer
from simulator.futures.venue import futures_venue
from tests.integration.venues.kraken.futures.conftest import WAIT_S, futures_gateway, futures_key
from tests.secret_scan import register_secret

MASTER, SUB = "ftmaster", "ftsub"
MASTER_ID, SUB_ID = "FT0000000001", "FT0000000002"
START = Decimal(1000)
register_secret(futures_key(MASTER)[1])
register_secret(futures_key(SUB)[1])

ACCOUNTS = """
[accounts.ftmaster]
permissions = ["read", "trade", "transfer"]
futures = { key_env = "KEY", secret_env = "SECRET" }

[sessions.ftmaster]
account = "ftmaster"
token_env = "TOKEN"
"""


def _account(name: str, account_id: str, master: str | None) -> dict[str, Any]:
    key, secret = futures_key(name)
    entry: dict[str, Any] = {
        "id": account_id,
        "name": name,
        "tier": "pro",
        "futures_balances": {"USD": str(START)},
        "keys": [{"key": key, "secret": secret, "permissions": ["all"], "venue": "futures"}],
    }
    if master is not None:
        entry["master"] = master
    return entry


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    accounts = parse_accounts(
        {"accounts": [_account(MASTER, MASTER_ID, None), _account(SUB, SUB_ID, MASTER_ID)]}
    )
    async with SimulatorServer(host="127.0.0.1", port=0, seed=5, accounts=accounts) as server:
        yield server


@pytest.fixture
async def client(sim: SimulatorServer, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    token = f"tok-{secrets.token_urlsafe(24)}"
    key, secret = futures_key(MASTER)
    env = {"KEY": key, "SECRET": secret, "TOKEN": token}
    async with (
        futures_gateway(sim, tmp_path, ACCOUNTS, env) as target,
        AsyncClient(target, token, timeout=WAIT_S) as gw,
    ):
        await gw.logon()
        yield gw


def _flex_usd(sim: SimulatorServer, account_id: str) -> Decimal:
    found = futures_venue(sim.ctx).engine.account(account_id).wallet_balance("flex", "USD")
    assert found is not None
    return found


async def test_master_and_subaccount_flex_wallets_both_ways(
    sim: SimulatorServer, client: AsyncClient
) -> None:
    done = await client.transfer_funds(
        "USD", Decimal("250.5"), MASTER, SUB, client_transfer_id="t-1"
    )
    assert done.status.name == "COMPLETED" and done.amount == Decimal("250.5")
    assert _flex_usd(sim, MASTER_ID) == START - Decimal("250.5")
    assert _flex_usd(sim, SUB_ID) == START + Decimal("250.5")
    await client.transfer_funds("USD", Decimal("0.5"), SUB, MASTER, client_transfer_id="t-2")
    assert _flex_usd(sim, MASTER_ID) == START - Decimal(250)
    assert _flex_usd(sim, SUB_ID) == START + Decimal(250)


async def test_unknown_account_is_refused_and_nothing_moves(
    sim: SimulatorServer, client: AsyncClient
) -> None:
    with pytest.raises(KrakenGwError) as err:
        await client.transfer_funds("USD", Decimal(1), MASTER, "nobody", client_transfer_id="t-3")
    assert err.value.reason == "TRANSFER_REJECTED"
    assert _flex_usd(sim, MASTER_ID) == START
