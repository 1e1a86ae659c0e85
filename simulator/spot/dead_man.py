"""CancelAllOrdersAfter, Kraken's dead man's switch, with a real timer.

The engine keeps the deadline (on the injected clock) and cancels in `tick()`; this module arms
it and schedules a tick for the deadline, so the switch fires on time even when the simulator is
otherwise idle (the background driver in app.py also ticks periodically).
"""

from __future__ import annotations

import asyncio
from typing import Any

from simulator.context import SimContext
from simulator.spot.rest_public import rfc3339_seconds

_TIMERS = "spot_dead_man.timers"


def _timers(ctx: SimContext) -> dict[str, asyncio.TimerHandle]:
    timers: dict[str, asyncio.TimerHandle] = ctx.extensions.setdefault(_TIMERS, {})
    return timers


def arm_dead_man_switch(ctx: SimContext, account_id: str, timeout: int) -> dict[str, Any]:
    result = ctx.spot().cancel_all_after(account_id, timeout)
    timers = _timers(ctx)
    previous = timers.pop(account_id, None)
    if previous is not None:
        previous.cancel()
    current = rfc3339_seconds(float(result.current_time))
    if result.trigger_time is None:
        return {"currentTime": current, "triggerTime": "0"}
    timers[account_id] = asyncio.get_running_loop().call_later(timeout, ctx.tick)
    return {"currentTime": current, "triggerTime": rfc3339_seconds(float(result.trigger_time))}


def disarm_all(ctx: SimContext) -> None:
    """Stop every timer (simulator shutdown)."""
    for handle in _timers(ctx).values():
        handle.cancel()
    _timers(ctx).clear()
