"""Kraken's dead man's switch (CancelAllOrdersAfter), armed per key and refreshed on a timer.

While armed, the switch is re-sent every `refresh_s` with `timeout_s`, so if this gateway dies
(or loses Kraken) for longer than `timeout_s`, Kraken cancels every order of the key itself.
Kraken recommends a 60 s timeout refreshed every 15-30 s (wire 3.4). Disarming sends timeout 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60
DEFAULT_REFRESH_S = 20.0

SendTimeout = Callable[[int], Awaitable[None]]


class KrakenDeadManSwitch:
    """Keeps `send(timeout_s)` fresh while armed; `send(0)` disarms at Kraken."""

    def __init__(
        self,
        send: SendTimeout,
        *,
        timeout_s: int = DEFAULT_TIMEOUT_S,
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        if not 0 < refresh_s < timeout_s:
            raise ValueError("refresh_s must be positive and below timeout_s")
        self._send = send
        self.timeout_s = timeout_s
        self._refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.refreshes = 0  # successful arms (tests, metrics)
        self.armed = asyncio.Event()

    @property
    def is_armed(self) -> bool:
        return self._task is not None and not self._task.done()

    def arm(self) -> None:
        if not self.is_armed:
            self._stop.clear()
            self._task = asyncio.get_running_loop().create_task(self._keep_alive())

    async def disarm(self) -> None:
        """Stop refreshing and switch Kraken's timer off (orders stay)."""
        if self._task is None:
            return
        self._stop.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self.armed.clear()
        try:
            await self._send(0)
        except Exception as exc:
            log.warning("could not disarm Kraken's dead man's switch (%s)", type(exc).__name__)

    async def _keep_alive(self) -> None:
        while not self._stop.is_set():
            try:
                await self._send(self.timeout_s)
                self.refreshes += 1
                self.armed.set()
            except Exception as exc:
                # The previous arm still runs at Kraken; the next refresh retries.
                log.warning("dead man's switch refresh failed (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._refresh_s):
                    await self._stop.wait()
