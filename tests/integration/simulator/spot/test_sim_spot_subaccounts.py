"""Accounts file, subaccounts, transfers and key permissions over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from simulator.accounts import load_accounts
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from tests.integration.simulator.spot.conftest import SpotClient


def _secret(name: str) -> str:
    return base64.b64encode(name.encode().ljust(64, b"#")).decode()


ACCOUNTS = f"""
[[accounts]]
id = "AAMASTER000001"
name = "boss"
tier = "starter"
balances = {{ ZUSD = "10000", XXBT = "1" }}

  [[accounts.keys]]
  key = "master-key"
  secret = "{_secret("master")}"

[[accounts]]
id = "AASUBACCT00001"
name = "strategy-a"
master = "AAMASTER000001"
balances = {{ ZUSD = "100" }}

  [[accounts.keys]]
  key = "sub-key"
  secret = "{_secret("sub")}"

  [[accounts.keys]]
  key = "sub-readonly"
  secret = "{_secret("readonly")}"
  permissions = ["query_funds", "query_open"]
"""


@pytest.fixture
async def family(tmp_path: Path) -> AsyncIterator[SimulatorServer]:
    path = tmp_path / "accounts.toml"
    path.write_text(ACCOUNTS)
    clock = ManualClock(1_700_000_000)
    async with SimulatorServer(port=0, accounts=load_accounts(path), clock=clock) as sim:
        yield sim


def _client(sim: SimulatorServer, http: aiohttp.ClientSession, key: str, name: str) -> SpotClient:
    return SpotClient(http, sim.base_url, key, _secret(name))


async def test_transfer_master_to_sub_and_back(
    family: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    master = _client(family, http, "master-key", "master")
    sub = _client(family, http, "sub-key", "sub")
    reply = await master.private(
        "AccountTransfer",
        asset="USD",
        amount="250",
        **{"from": "AAMASTER000001", "to": "strategy-a"},
    )
    assert reply["error"] == [] and reply["result"]["status"] == "complete"
    assert reply["result"]["transfer_id"].startswith("T")
    assert (await sub.private("Balance"))["result"]["ZUSD"] == "350.0000"
    assert (await master.private("Balance"))["result"]["ZUSD"] == "9750.0000"
    back = await master.private(
        "AccountTransfer", asset="ZUSD", amount="50", **{"from": "AASUBACCT00001", "to": "boss"}
    )
    assert back["error"] == []
    assert (await sub.private("Balance"))["result"]["ZUSD"] == "300.0000"
    too_much = await master.private(
        "AccountTransfer", asset="ZUSD", amount="1000", **{"from": "strategy-a", "to": "boss"}
    )
    assert too_much == {"error": ["EFunding:Insufficient funds"]}


async def test_sub_cannot_transfer_create_or_withdraw(
    family: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    sub = _client(family, http, "sub-key", "sub")
    denied = {"error": ["EGeneral:Permission denied"]}
    assert (
        await sub.private(
            "AccountTransfer", asset="ZUSD", amount="1", **{"from": "strategy-a", "to": "boss"}
        )
        == denied
    )
    assert await sub.private("CreateSubaccount", username="x", email="x@example.com") == denied
    assert await sub.private("Withdraw", asset="ZUSD", key="bank", amount="1") == denied


async def test_create_subaccount_from_master(
    family: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    master = _client(family, http, "master-key", "master")
    reply = await master.private("CreateSubaccount", username="strategy-b", email="b@example.com")
    assert reply == {"error": [], "result": True}
    funded = await master.private(
        "AccountTransfer", asset="XBT", amount="0.5", **{"from": "boss", "to": "strategy-b"}
    )
    assert funded["error"] == []
    again = await master.private("CreateSubaccount", username="strategy-b", email="b@example.com")
    assert again == {"error": ["EGeneral:Invalid arguments:username"]}


async def test_key_permissions(family: SimulatorServer, http: aiohttp.ClientSession) -> None:
    readonly = _client(family, http, "sub-readonly", "readonly")
    assert (await readonly.private("Balance"))["error"] == []
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": "10"}
    assert await readonly.private("AddOrder", **order) == {"error": ["EGeneral:Permission denied"]}
    assert await readonly.private("GetWebSocketsToken") == {"error": ["EGeneral:Permission denied"]}


async def test_sub_inherits_master_tier_but_keeps_its_own_counter(
    family: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    sub = _client(family, http, "sub-key", "sub")
    master = _client(family, http, "master-key", "master")
    for _ in range(15):  # starter: max 15
        assert (await sub.private("Balance"))["error"] == []
    assert await sub.private("Balance") == {"error": ["EAPI:Rate limit exceeded"]}
    assert (await master.private("Balance"))["error"] == []
