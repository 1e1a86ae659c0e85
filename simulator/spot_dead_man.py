"""CancelAllOrdersAfter, Kraken's dead man's switch: a real timer per account.

Arming with `timeout > 0` (re)starts the account's timer; `0` disarms it. When it fires, every
open order of the account is cancelled and the switch stays off until the next non-zero call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from simulator.context import SimContext
from simulator.spot_rest_public import rfc3339_seconds

_TIMERS = "spot_dead_man.timers"


def _timers(ctx: SimContext) -> dict[str, asyncio.TimerHandle]:
    timers: dict[str, asyncio.TimerHandle] = ctx.extensions.setdefault(_TIMERS, {})
    return timers


def arm_dead_man_switch(ctx: SimContext, account_id: str, timeout: int) -> dict[str, Any]:
    now = ctx.now()
    timers = _timers(ctx)
    previous = timers.pop(account_id, None)
    if previous is not None:
        previous.cancel()
    if timeout == 0:
        return {"currentTime": rfc3339_seconds(now), "triggerTime": "0"}

    def fire() -> None:
        timers.pop(account_id, None)
        if ctx.engine is not None:
            ctx.engine.cancel_all(account_id)

    timers[account_id] = asyncio.get_running_loop().call_later(timeout, fire)
    return {"currentTime": rfc3339_seconds(now), "triggerTime": rfc3339_seconds(now + timeout)}


def disarm_all(ctx: SimContext) -> None:
    """Stop every timer (simulator shutdown)."""
    for handle in _timers(ctx).values():
        handle.cancel()
    _timers(ctx).clear()
