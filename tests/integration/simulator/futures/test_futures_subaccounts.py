"""Futures subaccounts: listing, master <-> sub transfers, and what a subaccount key may not do."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from simulator.accounts import (
    KEY_PERMISSIONS,
    KrakenAccount,
    KrakenAccounts,
    KrakenApiKey,
    KrakenTier,
)
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock

from .conftest import FuturesRest

V3 = "/derivatives/api/v3/"
MASTER_SECRET = base64.b64encode(b"m" * 64).decode()
SUB_SECRET = base64.b64encode(b"s" * 64).decode()


def accounts() -> KrakenAccounts:
    master = KrakenAccount(
        "AAMASTER", "master", KrakenTier.PRO, futures_balances={"USD": Decimal(1000)}
    )
    sub = KrakenAccount("AASUB1", "strategy-a", KrakenTier.PRO, master_id="AAMASTER")
    keys = [
        KrakenApiKey("fut-master", MASTER_SECRET, "AAMASTER", KEY_PERMISSIONS, venue="futures"),
        KrakenApiKey("fut-sub", SUB_SECRET, "AASUB1", KEY_PERMISSIONS, venue="futures"),
    ]
    return KrakenAccounts([master, sub], keys)


@pytest.fixture
async def clients() -> AsyncIterator[tuple[FuturesRest, FuturesRest]]:
    server = SimulatorServer(port=0, seed=5, clock=ManualClock(), accounts=accounts())
    async with server as sim, httpx.AsyncClient(base_url=sim.base_url) as http:
        yield (
            FuturesRest(http, "fut-master", MASTER_SECRET),
            FuturesRest(http, "fut-sub", SUB_SECRET),
        )


async def body(
    rest: FuturesRest, method: str, path: str, params: dict[str, str] | None = None
) -> Any:
    return json.loads((await rest.call(method, V3 + path, params)).text, parse_float=Decimal)


async def test_transfer_to_subaccount_and_listing(clients: tuple[FuturesRest, FuturesRest]) -> None:
    master, sub = clients
    moved = await body(
        master,
        "POST",
        "transfer/subaccount",
        {
            "fromUser": "AAMASTER",
            "toUser": "strategy-a",
            "fromAccount": "flex",
            "toAccount": "flex",
            "unit": "USD",
            "amount": "250",
        },
    )
    assert moved["result"] == "success"
    listing = await body(master, "GET", "subaccounts")
    assert listing["masterAccountUid"] == "AAMASTER"
    [row] = listing["subaccounts"]
    assert row["accountUid"] == "AASUB1"
    assert row["flexAccount"]["currencies"] == [
        {"currency": "USD", "quantity": 250, "value": 250, "collateral": 250, "available": 250}
    ]
    sub_wallets = (await body(sub, "GET", "accounts"))["accounts"]
    assert sub_wallets["flex"]["currencies"]["USD"]["quantity"] == 250
    master_wallets = (await body(master, "GET", "accounts"))["accounts"]
    assert master_wallets["flex"]["currencies"]["USD"]["quantity"] == 750


async def test_subaccount_key_cannot_move_family_funds(
    clients: tuple[FuturesRest, FuturesRest],
) -> None:
    master, sub = clients
    refused = await body(
        sub,
        "POST",
        "transfer/subaccount",
        {
            "fromUser": "AAMASTER",
            "toUser": "AASUB1",
            "fromAccount": "flex",
            "toAccount": "flex",
            "unit": "USD",
            "amount": "1",
        },
    )
    assert refused["error"] == "invalidAccount"
    assert (await body(sub, "GET", "subaccounts"))["error"] == "invalidAccount"
    stranger = await body(
        master,
        "POST",
        "transfer/subaccount",
        {
            "fromUser": "AAMASTER",
            "toUser": "SOMEONE",
            "fromAccount": "flex",
            "toAccount": "flex",
            "unit": "USD",
            "amount": "1",
        },
    )
    assert stranger["error"] == "invalidAccount"
    overdraw = await body(
        master,
        "POST",
        "transfer/subaccount",
        {
            "fromUser": "AAMASTER",
            "toUser": "AASUB1",
            "fromAccount": "flex",
            "toAccount": "flex",
            "unit": "USD",
            "amount": "5000",
        },
    )
    assert overdraw["error"] == "insufficientFunds"


async def test_orders_status_by_id_and_client_id(clients: tuple[FuturesRest, FuturesRest]) -> None:
    master, _ = clients
    sent = await body(
        master,
        "POST",
        "sendorder",
        {
            "orderType": "post",
            "symbol": "PF_ETHUSD",
            "side": "buy",
            "size": "0.1",
            "limitPrice": "3000",
            "cliOrdId": "st-1",
        },
    )
    order_id = sent["sendStatus"]["order_id"]
    by_id = await body(master, "GET", "orders/status", {"orderIds": order_id})
    by_cli = await body(master, "GET", "orders/status", {"cliOrdIds": "st-1"})
    assert by_id["orders"] == by_cli["orders"]
    [row] = by_id["orders"]
    assert row["status"] == "ENTERED_BOOK" and row["order"]["orderId"] == order_id
