"""KrakenDeadManSwitch and KrakenDeadManGuard against a fake CancelAllOrdersAfter sender."""

from __future__ import annotations

import asyncio

import pytest

from gateway.venues.kraken.common.dead_man import KrakenDeadManGuard, KrakenDeadManSwitch

WAIT_S = 5.0


class FakeKraken:
    """Records every timeout sent; `hold` parks sends with a non-zero timeout until released."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.started = asyncio.Event()  # a send with a non-zero timeout began
        self.hold = False
        self.release = asyncio.Event()
        self._changed = asyncio.Condition()

    async def send(self, timeout_s: int) -> None:
        if timeout_s and self.hold:
            self.started.set()
            await self.release.wait()
        async with self._changed:
            self.sent.append(timeout_s)
            self._changed.notify_all()

    async def wait_sent(self, count: int) -> None:
        async with asyncio.timeout(WAIT_S), self._changed:
            await self._changed.wait_for(lambda: len(self.sent) >= count)


def switch_for(kraken: FakeKraken, refresh_s: float = 30.0) -> KrakenDeadManSwitch:
    return KrakenDeadManSwitch(kraken.send, timeout_s=60, refresh_s=refresh_s)


async def test_arm_refreshes_until_disarm_sends_zero() -> None:
    kraken = FakeKraken()
    switch = switch_for(kraken, refresh_s=0.01)
    switch.arm()
    switch.arm()  # idempotent: one loop
    await kraken.wait_sent(3)
    await switch.disarm()
    assert not switch.is_armed and not switch.armed.is_set()
    assert kraken.sent[-1] == 0 and set(kraken.sent[:-1]) == {60}
    assert switch.disarms == 1 and switch.refreshes == len(kraken.sent) - 1


async def test_lapse_stops_refreshing_without_sending_zero() -> None:
    kraken = FakeKraken()
    switch = switch_for(kraken)
    switch.arm()
    async with asyncio.timeout(WAIT_S):
        await switch.armed.wait()
    await switch.lapse()
    assert not switch.is_armed and kraken.sent == [60]
    await switch.disarm()  # after a lapse Kraken's countdown is left alone
    assert kraken.sent == [60] and switch.disarms == 0


async def test_disarm_without_arm_sends_nothing() -> None:
    kraken = FakeKraken()
    switch = switch_for(kraken)
    await switch.disarm()
    await switch.lapse()
    assert kraken.sent == []


async def test_disarm_waits_for_the_refresh_in_flight_so_zero_is_last() -> None:
    kraken = FakeKraken()
    kraken.hold = True
    switch = switch_for(kraken)
    switch.arm()
    async with asyncio.timeout(WAIT_S):
        await kraken.started.wait()
    disarming = asyncio.create_task(switch.disarm())
    kraken.release.set()
    await disarming
    assert kraken.sent == [60, 0]


async def test_rearm_during_disarm_keeps_the_new_refresh_last() -> None:
    kraken = FakeKraken()
    kraken.hold = True
    switch = switch_for(kraken)
    switch.arm()
    async with asyncio.timeout(WAIT_S):
        await kraken.started.wait()
    old_loop_stop = switch._stop
    disarming = asyncio.create_task(switch.disarm())  # the old session's clean end
    async with asyncio.timeout(WAIT_S):
        await old_loop_stop.wait()  # disarm has detached the old loop, waits for its send
    switch.arm()  # the next session logs on while the old one is still ending
    kraken.release.set()
    await disarming
    await kraken.wait_sent(2)
    assert switch.is_armed and kraken.sent[-1] == 60
    await switch.disarm()
    assert kraken.sent[-1] == 0


async def test_failed_refresh_is_retried_and_disarm_survives_a_failing_send() -> None:
    calls: list[int] = []
    retried = asyncio.Event()

    async def flaky(timeout_s: int) -> None:
        calls.append(timeout_s)
        if len(calls) >= 2:
            retried.set()
        raise ConnectionError("kraken unreachable")

    switch = KrakenDeadManSwitch(flaky, timeout_s=60, refresh_s=0.01)
    switch.arm()
    async with asyncio.timeout(WAIT_S):
        await retried.wait()
    assert not switch.armed.is_set()
    await switch.disarm()  # logged, not raised
    assert calls[-1] == 0 and switch.disarms == 0


async def test_guard_maps_session_ends() -> None:
    kraken = FakeKraken()
    guard = KrakenDeadManGuard(switch_for(kraken))
    guard.session_started()
    await kraken.wait_sent(1)
    await guard.session_ended(clean=False)  # lost session: no timeout 0
    assert kraken.sent == [60] and not guard.switch.is_armed
    guard.session_started()  # the next session re-arms
    await kraken.wait_sent(2)
    await guard.session_ended(clean=True)
    assert kraken.sent == [60, 60, 0]
    assert "secret" not in repr(guard)


@pytest.mark.parametrize(("timeout_s", "refresh_s"), [(0, 0.5), (86400, 20.0), (10, 10.0), (10, 0)])
def test_timing_is_checked(timeout_s: int, refresh_s: float) -> None:
    with pytest.raises(ValueError):
        KrakenDeadManSwitch(FakeKraken().send, timeout_s=timeout_s, refresh_s=refresh_s)
    switch = KrakenDeadManSwitch(FakeKraken().send)
    with pytest.raises(ValueError):
        switch.configure(timeout_s=timeout_s, refresh_s=refresh_s)


async def test_restart_rearms_at_once_and_lapses_without_a_logon() -> None:
    kraken = FakeKraken()
    switch = KrakenDeadManSwitch(kraken.send, timeout_s=1, refresh_s=0.5)
    guard = KrakenDeadManGuard(switch)
    guard.restarted()  # a trading session was live when the gateway died
    await kraken.wait_sent(1)
    assert kraken.sent[0] == 1  # re-armed first: Kraken's countdown starts over
    async with asyncio.timeout(WAIT_S):
        while switch.is_armed:  # nobody logs on within one countdown: it lapses
            await asyncio.sleep(0.05)
    assert 0 not in kraken.sent  # lapsed, never switched off: Kraken's safety acts


async def test_restart_then_logon_keeps_it_armed() -> None:
    kraken = FakeKraken()
    switch = KrakenDeadManSwitch(kraken.send, timeout_s=1, refresh_s=0.2)
    guard = KrakenDeadManGuard(switch)
    guard.restarted()
    guard.session_started()  # the client came back in time
    await kraken.wait_sent(8)  # well past one countdown: still refreshed
    assert switch.is_armed and set(kraken.sent) == {1}
    await guard.session_ended(clean=True)
    assert kraken.sent[-1] == 0
