"""Issue 9 (trust): an engaged kill switch survives a restart, with its reason, who engaged it
and when (journaled); GetLimits and Logon show them; releasing is journaled too."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from krakengw import KrakenGwError, OrdStatus
from tests.integration.api.conftest import RunningGateway, start_gateway


async def _stop(running: RunningGateway) -> None:
    for client in running.clients:
        await client.close()
    await running.app.stop()


async def test_an_engaged_kill_switch_stays_engaged_across_a_restart(tmp_path: Path) -> None:
    first = await start_gateway(tmp_path)
    try:
        desk = first.client("desk")
        await desk.logon()
        await desk.engage_kill_switch("runaway strategy")
    finally:
        await _stop(first)

    second = await start_gateway(tmp_path)  # same data_dir, same journal
    try:
        trader = second.client("a")
        info = await trader.logon()
        assert info.risk_limits.kill_switch_engaged
        limits = (await trader.get_limits()).risk_limits
        assert limits.kill_switch_engaged
        assert limits.kill_switch_reason == "runaway strategy"
        assert limits.kill_switch_engaged_by == "desk"
        assert limits.kill_switch_engaged_time is not None
        with pytest.raises(KrakenGwError) as err:
            await trader.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
        assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.reason == "KILL_SWITCH_ACTIVE"
        assert second.venue_calls() == 0
        await trader.release_kill_switch()
        order = await trader.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("40000"))
        assert order.ord_status is OrdStatus.NEW
    finally:
        await _stop(second)

    third = await start_gateway(tmp_path)
    try:
        trader = third.client("a")
        await trader.logon()
        limits = (await trader.get_limits()).risk_limits
        assert not limits.kill_switch_engaged and limits.kill_switch_reason == ""
    finally:
        await _stop(third)
