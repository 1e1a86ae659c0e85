"""The Spot trading policy (simulator/spot/trading_policy.py), pinned for REST and WS v2 alike.

Every test runs twice, once per front end, against a live simulator: permission, system status,
deadline, open-order limit, the trading counter's charges (on receipt, by order age) and the
all-or-nothing charge of a multi-order cancel.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import pytest

from simulator.accounts import KrakenAccounts, parse_accounts
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from simulator.engine.model import OrderParams, OrderType, Side
from simulator.faults import SystemStatus
from tests.integration.simulator.spot.conftest import SpotClient
from tests.integration.simulator.spot_ws.conftest import WsClient

ACCOUNT = "AA00POLICY00001"
PAIR = "XXBTZUSD"
START = 1_700_000_000
# intermediate tier (wire 5.2): threshold 125, 80 open orders per pair
THRESHOLD = 125
MAX_OPEN = 80

# (result, error): exactly one of them is set
Outcome = tuple[dict[str, Any] | None, str | None]


def _secret(name: str) -> str:
    return base64.b64encode(hashlib.sha512(name.encode()).digest()).decode()


KEYS = {
    "full": ["all"],
    # `websocket` lets the WS v2 variant use its token at all
    "trade": ["modify_orders", "query_open", "websocket"],  # may add, may not cancel
    "cancel": ["cancel_orders", "query_open", "websocket"],  # may cancel, may not add
}


def _accounts() -> KrakenAccounts:
    return parse_accounts(
        {
            "accounts": [
                {
                    "id": ACCOUNT,
                    "name": "policy",
                    "tier": "intermediate",
                    "balances": {"ZUSD": "1000000", "XXBT": "100"},
                    "keys": [
                        {"key": f"policy-{name}", "secret": _secret(name), "permissions": perms}
                        for name, perms in KEYS.items()
                    ],
                }
            ]
        }
    )


def _rfc3339(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Front(Protocol):
    """One front end's spelling of the trading requests the policy covers."""

    async def add(
        self, *, validate: bool = False, post_only: bool = False, deadline: str | None = None
    ) -> Outcome: ...
    async def amend(self, txid: str, price: str, *, deadline: str | None = None) -> Outcome: ...
    async def cancel(self, txid: str, *, deadline: str | None = None) -> Outcome: ...
    async def cancel_userref(self, userref: int) -> Outcome: ...
    async def cancel_all(self) -> Outcome: ...
    async def cancel_after(self, timeout: int) -> Outcome: ...


ORDER = {"volume": "0.01", "price": "1000"}  # far below any market: it rests


class RestFront:
    def __init__(self, client: SpotClient) -> None:
        self.client = client

    async def _call(self, method: str, **params: Any) -> Outcome:
        reply = await self.client.private(method, **params)
        if reply["error"]:
            return None, str(reply["error"][0])
        return reply["result"], None

    async def add(
        self, *, validate: bool = False, post_only: bool = False, deadline: str | None = None
    ) -> Outcome:
        params: dict[str, Any] = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", **ORDER}
        if validate:
            params["validate"] = "true"
        if post_only:
            params["oflags"] = "post"
        if deadline:
            params["deadline"] = deadline
        result, error = await self._call("AddOrder", **params)
        if result and "txid" in result:
            result = {"txid": result["txid"][0]}
        return result, error

    async def amend(self, txid: str, price: str, *, deadline: str | None = None) -> Outcome:
        extra = {"deadline": deadline} if deadline else {}
        return await self._call("AmendOrder", txid=txid, limit_price=price, **extra)

    async def cancel(self, txid: str, *, deadline: str | None = None) -> Outcome:
        extra = {"deadline": deadline} if deadline else {}
        return await self._call("CancelOrder", txid=txid, **extra)

    async def cancel_userref(self, userref: int) -> Outcome:
        return await self._call("CancelOrder", txid=str(userref))

    async def cancel_all(self) -> Outcome:
        return await self._call("CancelAll")

    async def cancel_after(self, timeout: int) -> Outcome:
        return await self._call("CancelAllOrdersAfter", timeout=str(timeout))


class WsFront:
    def __init__(self, client: WsClient, token: str) -> None:
        self.client = client
        self.token = token

    async def _call(self, method: str, params: dict[str, Any]) -> Outcome:
        reply = await self.client.call(method, {**params, "token": self.token})
        if not reply["success"]:
            return None, str(reply["error"])
        return reply.get("result", {}), None

    async def add(
        self, *, validate: bool = False, post_only: bool = False, deadline: str | None = None
    ) -> Outcome:
        params: dict[str, Any] = {
            "symbol": "BTC/USD",
            "side": "buy",
            "order_type": "limit",
            "order_qty": ORDER["volume"],
            "limit_price": ORDER["price"],
        }
        if validate:
            params["validate"] = True
        if post_only:
            params["post_only"] = True
        if deadline:
            params["deadline"] = deadline
        result, error = await self._call("add_order", params)
        if result and "order_id" in result:
            result = {"txid": result["order_id"]}
        return result, error

    async def amend(self, txid: str, price: str, *, deadline: str | None = None) -> Outcome:
        extra = {"deadline": deadline} if deadline else {}
        return await self._call("amend_order", {"order_id": txid, "limit_price": price, **extra})

    async def cancel(self, txid: str, *, deadline: str | None = None) -> Outcome:
        extra = {"deadline": deadline} if deadline else {}
        return await self._call("cancel_order", {"order_id": [txid], **extra})

    async def cancel_userref(self, userref: int) -> Outcome:
        return await self._call("cancel_order", {"order_userref": [userref]})

    async def cancel_all(self) -> Outcome:
        return await self._call("cancel_all", {})

    async def cancel_after(self, timeout: int) -> Outcome:
        return await self._call("cancel_all_orders_after", {"timeout": timeout})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[SimulatorServer]:
    # No market maker: the books hold only this test's orders, nothing moves unless told.
    async with SimulatorServer(
        port=0, seed=5, clock=clock, accounts=_accounts(), market_maker=False
    ) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


FrontFactory = Callable[[str], Awaitable[Front]]


@pytest.fixture(params=["rest", "ws"])
async def front_for(
    request: pytest.FixtureRequest, sim: SimulatorServer, http: aiohttp.ClientSession
) -> FrontFactory:
    """`await front_for("full")`: the front end under test, signing with that key."""

    async def make(key_name: str) -> Front:
        api_key = f"policy-{key_name}"
        if request.param == "rest":
            return RestFront(SpotClient(http, sim.base_url, api_key, _secret(key_name)))
        key = sim.ctx.accounts.key(api_key)
        assert key is not None
        client = WsClient(await http.ws_connect(sim.spot_ws_private_url))
        assert (await client.recv())["channel"] == "status"
        return WsFront(client, sim.ctx.ws_tokens.issue(key, sim.ctx.now()))

    return make


def counter(sim: SimulatorServer) -> float:
    return sim.ctx.limits.trading_counter(ACCOUNT, PAIR, sim.ctx.now())


def is_open(sim: SimulatorServer, txid: str) -> bool:
    order = sim.ctx.spot().get_order(txid)
    return order is not None and order.is_open


def rest_directly(sim: SimulatorServer, count: int, userref: int | None = None) -> list[str]:
    """Resting orders placed on the engine itself: no front end, no policy, no charge."""
    params = OrderParams(
        PAIR, Side.BUY, OrderType.LIMIT, ORDER["volume"], ORDER["price"], userref=userref
    )
    return [sim.ctx.spot().add_order(ACCOUNT, params).txid or "" for _ in range(count)]


async def test_permission_is_checked_first_and_costs_nothing(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    cancel_only, trade_only = await front_for("cancel"), await front_for("trade")
    assert await cancel_only.add() == (None, "EGeneral:Permission denied")
    assert counter(sim) == 0  # refused before the on-receipt charge
    result, error = await trade_only.add()
    assert error is None and result is not None
    assert await trade_only.cancel(result["txid"]) == (None, "EGeneral:Permission denied")
    assert await trade_only.cancel_all() == (None, "EGeneral:Permission denied")
    assert await trade_only.cancel_after(60) == (None, "EGeneral:Permission denied")
    assert is_open(sim, result["txid"])
    assert (await cancel_only.cancel(result["txid"]))[1] is None
    assert not is_open(sim, result["txid"])


async def test_status_cancel_only_refuses_orders_and_amends_not_cancels(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    front = await front_for("full")
    (txid,) = rest_directly(sim, 1)
    sim.ctx.faults.system_status = SystemStatus.CANCEL_ONLY
    assert await front.add() == (None, "EService:Market in cancel_only mode")
    assert await front.add(post_only=True) == (None, "EService:Market in cancel_only mode")
    assert await front.amend(txid, "1001") == (None, "EService:Market in cancel_only mode")
    assert (await front.cancel_after(60))[1] is None
    assert (await front.cancel(txid))[1] is None
    assert not is_open(sim, txid)


async def test_status_post_only_admits_post_only_orders_only(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    front = await front_for("full")
    sim.ctx.faults.system_status = SystemStatus.POST_ONLY
    assert await front.add() == (None, "EService:Market in post_only mode")
    result, error = await front.add(post_only=True)
    assert error is None and result is not None and is_open(sim, result["txid"])


async def test_status_maintenance_refuses_everything_including_the_dead_man_switch(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    front = await front_for("full")
    (txid,) = rest_directly(sim, 1)
    sim.ctx.faults.system_status = SystemStatus.MAINTENANCE
    unavailable = (None, "EService:Unavailable")
    assert await front.add() == unavailable
    assert await front.amend(txid, "1001") == unavailable
    assert await front.cancel(txid) == unavailable
    assert await front.cancel_all() == unavailable
    assert await front.cancel_after(60) == unavailable
    assert is_open(sim, txid)


async def test_deadline_refuses_late_orders_and_amends_after_the_receipt_charge(
    sim: SimulatorServer, front_for: FrontFactory, clock: ManualClock
) -> None:
    front = await front_for("full")
    (txid,) = rest_directly(sim, 1)
    past, future = _rfc3339(START - 1), _rfc3339(START + 30)
    assert await front.add(deadline=past) == (None, "EService:Deadline elapsed")
    assert counter(sim) == 1  # the fixed +1 applies on receipt (wire 5.2)
    assert await front.add(validate=True, deadline=past) == (None, "EService:Deadline elapsed")
    assert (await front.add(deadline=future))[1] is None
    assert await front.amend(txid, "1001", deadline=past) == (None, "EService:Deadline elapsed")
    assert (await front.amend(txid, "1001", deadline=future))[1] is None
    # Cancels take no deadline (Kraken documents none): one in the past does not stop them.
    assert (await front.cancel(txid, deadline=past))[1] is None


async def test_open_order_limit_counts_resting_orders_not_validate_requests(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    front = await front_for("full")
    rest_directly(sim, MAX_OPEN)
    assert await front.add() == (None, "EOrder:Orders limit exceeded")
    result, error = await front.add(validate=True)
    assert error is None and result is not None and "txid" not in result
    assert sim.ctx.spot().open_order_count(ACCOUNT, PAIR) == MAX_OPEN


async def test_rate_charges_follow_kraken_worked_example_by_order_age(
    sim: SimulatorServer, front_for: FrontFactory, clock: ManualClock
) -> None:
    """Docs (wire 5.2): add +1; amend after 7 s +1 fixed +2 (<10 s); cancel 36 s after the
    amend +4 (<45 s): the age restarts at the amend. A validate add is charged too."""
    front = await front_for("full")

    async def charged(request: Awaitable[Outcome]) -> float:
        before = counter(sim)
        _, error = await request
        assert error is None
        return counter(sim) - before

    assert await charged(front.add(validate=True)) == 1
    before = counter(sim)
    result, error = await front.add()
    assert error is None and result is not None
    assert counter(sim) - before == 1
    txid = result["txid"]
    clock.advance(7)
    assert await charged(front.amend(txid, "1001")) == pytest.approx(3)
    clock.advance(36)
    assert await charged(front.cancel(txid)) == pytest.approx(4)


async def test_a_multi_order_cancel_is_charged_in_full_before_any_order_goes(
    sim: SimulatorServer, front_for: FrontFactory
) -> None:
    front = await front_for("full")
    both = rest_directly(sim, 2, userref=7)
    # Two fresh orders cost +8 each (<5 s); one fits under the threshold, both do not.
    tier = sim.ctx.accounts.tier_of(ACCOUNT)
    sim.ctx.limits.spend_trading(ACCOUNT, PAIR, tier, THRESHOLD - 12, sim.ctx.now())
    assert await front.cancel_userref(7) == (None, "EOrder:Rate limit exceeded")
    assert all(is_open(sim, txid) for txid in both)
    assert (await front.cancel(both[0]))[1] is None
    assert not is_open(sim, both[0]) and is_open(sim, both[1])
