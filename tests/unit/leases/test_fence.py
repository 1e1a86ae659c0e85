"""AccountFence and the fenced order entry port (pure unit: a recording venue double)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.core.leases import KeyLease, LeaseLost
from gateway.leases.fence import AccountFence, FencedGuard, FencedOrderEntry


class _Venue:
    venue = "kraken"

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def cancel_all(self, symbol: str | None = None) -> int:
        self.calls.append("cancel_all")
        return 0

    async def open_orders(self) -> list[Any]:
        self.calls.append("open_orders")
        return []


class _Guard:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def session_started(self) -> None:
        self.calls.append("started")

    async def session_ended(self, clean: bool) -> None:
        self.calls.append(clean)


def _fence(valid_for: float) -> AccountFence:
    lease = KeyLease("abc", "gw", 1, time.monotonic() + valid_for)
    return AccountFence("x", [lease])


async def test_sends_pass_while_the_lease_holds_and_stop_after() -> None:
    venue = _Venue()
    live = FencedOrderEntry(venue, _fence(60))  # type: ignore[arg-type]
    assert await live.cancel_all() == 0
    expired = FencedOrderEntry(venue, _fence(-1))  # type: ignore[arg-type]
    with pytest.raises(LeaseLost, match="nothing is sent"):
        await expired.cancel_all()
    with pytest.raises(LeaseLost):
        await expired.open_orders()  # signed reads too
    assert venue.calls == ["cancel_all"]


async def test_a_lost_fence_refuses_even_within_the_ttl() -> None:
    fence = _fence(60)
    fence.lost = True
    with pytest.raises(LeaseLost):
        fence.check()


def test_signed_requests_name_the_leases_they_are_sent_under() -> None:
    fence = AccountFence("x", [KeyLease("a", "gw-1", 3), KeyLease("b", "gw-1", 7)])
    assert fence.request_headers() == {"KrakenGW-Lease": "gw-1 token 3, gw-1 token 7"}


async def test_guards_neither_arm_nor_disarm_without_the_lease() -> None:
    inner = _Guard()
    FencedGuard(inner, _fence(60)).session_started()
    await FencedGuard(inner, _fence(60)).session_ended(clean=True)
    expired = FencedGuard(inner, _fence(-1))
    expired.session_started()
    await expired.session_ended(clean=True)  # ends without sending a disarm
    assert inner.calls == ["started", True, False]
