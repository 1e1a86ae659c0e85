"""Kraken's dead man's switch (Spot CancelAllOrdersAfter, Futures cancelallordersafter), armed per
key while its session is live; the venue call is injected (`SendTimeout`).

While armed, the switch is re-sent every `refresh_s` with `timeout_s`, so if this gateway dies
(or loses Kraken) for longer than `timeout_s`, Kraken cancels every order of the key itself.
Kraken recommends a 60 s timeout refreshed every 15-30 s (wire 3.4).

Three ways to stop: `disarm()` stops refreshing and sends timeout 0 (Kraken's timer is off,
orders stay); `lapse()` only stops refreshing, so Kraken's countdown runs out and it cancels the
key's orders unless `arm()` refreshes it in time. `KrakenDeadManGuard` maps a trading session's
life onto these: logon arms, a clean end disarms, a lost session lapses.

Every CancelAllOrdersAfter goes out under one lock, in order, so a disarm's 0 is never overtaken
by a refresh of the loop it stopped, and a disarm racing a new arm (the next session logged on
while the previous one was ending) leaves the new session's refresh as the last word.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60
DEFAULT_REFRESH_S = 20.0
# How long disarm() waits for a refresh already in flight before cancelling it.
STOP_WAIT_S = 10.0

SendTimeout = Callable[[int], Awaitable[None]]


def check_timing(timeout_s: int, refresh_s: float) -> None:
    """Kraken takes whole seconds below a day; a refresh must come before the countdown ends."""
    if not 0 < timeout_s < 86400:
        raise ValueError("timeout_s must be between 1 and 86399 seconds")
    if not 0 < refresh_s < timeout_s:
        raise ValueError("refresh_s must be positive and below timeout_s")


class KrakenDeadManSwitch:
    """Keeps `send(timeout_s)` fresh while armed; `send(0)` disarms at Kraken."""

    def __init__(
        self,
        send: SendTimeout,
        *,
        timeout_s: int = DEFAULT_TIMEOUT_S,
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        check_timing(timeout_s, refresh_s)
        self._send = send
        self.timeout_s = timeout_s
        self._refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()  # the running loop's own stop signal
        self._lock = asyncio.Lock()  # one CancelAllOrdersAfter in flight, in order
        self.refreshes = 0  # successful arms (tests, metrics)
        self.disarms = 0  # timeout 0 accepted by Kraken (tests, metrics)
        self.armed = asyncio.Event()  # set once Kraken accepted a refresh of the current loop
        # Monotonic time at which Kraken cancels the key's orders unless refreshed: counted
        # from when the last accepted refresh was sent (the earliest Kraken can have started
        # it). Kept after lapse(), whose countdown runs on; None once switched off.
        self._expires_at: float | None = None

    def expires_in(self) -> float | None:
        """Seconds left on Kraken's countdown (0 when it ran out), None when it is off."""
        if self._expires_at is None:
            return None
        return max(0.0, self._expires_at - time.monotonic())

    def configure(self, *, timeout_s: int, refresh_s: float) -> None:
        """Change the countdown and refresh period (takes effect at the next refresh)."""
        check_timing(timeout_s, refresh_s)
        self.timeout_s = timeout_s
        self._refresh_s = refresh_s

    @property
    def refresh_s(self) -> float:
        return self._refresh_s

    @property
    def is_armed(self) -> bool:
        """A refresh loop is running (Kraken's timer is kept fresh)."""
        return self._task is not None and not self._task.done()

    def arm(self) -> None:
        """Start refreshing (idempotent); the first refresh goes out at once."""
        if self.is_armed:
            return
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._keep_alive(self._stop))

    async def disarm(self) -> None:
        """Stop refreshing and switch Kraken's timer off (orders stay). A no-op when not
        refreshing: after `lapse()` Kraken's countdown is left to run out."""
        task = self._detach()
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if not done:
            task.cancel()
            await asyncio.wait({task})
        async with self._lock:
            if self.is_armed:
                return  # re-armed meanwhile (a new session): its refresh is the last word
            try:
                await self._send(0)
                self.disarms += 1
                self._expires_at = None
            except Exception as exc:
                log.warning("could not disarm Kraken's dead man's switch (%s)", type(exc).__name__)

    async def lapse(self) -> None:
        """Stop refreshing without telling Kraken: its countdown (at most `timeout_s`) runs
        out and Kraken cancels the key's orders, unless `arm()` refreshes it before then."""
        task = self._detach()
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})

    def _detach(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        self._stop.set()
        self.armed.clear()
        return task

    async def _keep_alive(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self._lock:
                    if stop.is_set():
                        return
                    sent_at = time.monotonic()
                    await self._send(self.timeout_s)
                    self._expires_at = sent_at + self.timeout_s
                self.refreshes += 1
                if not stop.is_set():
                    self.armed.set()
            except Exception as exc:
                # The previous arm still runs at Kraken; the next refresh retries.
                log.warning("dead man's switch refresh failed (%s)", type(exc).__name__)
            try:
                async with asyncio.timeout(self._refresh_s):
                    await stop.wait()
            except TimeoutError:
                pass


class KrakenDeadManGuard:
    """The switch of one key, tied to the life of the key's trading session (the gateway's
    `SessionGuard`): logon arms it, a clean end (Logout, gateway shutdown) disarms it, a lost
    session (heartbeat timeout) lets it lapse so Kraken cancels the key's orders when the
    countdown runs out, unless the next session logs on in time.

    After a restart of a gateway that died with a trading session live (`restarted`), the
    switch is re-armed at once, before anything else is asked of Kraken, so a restart shorter
    than the countdown cancels nothing; if no trading session logs on within one countdown, it
    lapses as for a lost session."""

    def __init__(self, switch: KrakenDeadManSwitch) -> None:
        self.switch = switch
        self._grace: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"KrakenDeadManGuard(timeout_s={self.switch.timeout_s})"

    def session_started(self) -> None:
        self._end_grace()
        self.switch.arm()
        log.info("dead man's switch armed", extra={"timeout_s": self.switch.timeout_s})

    def restarted(self) -> None:
        self.switch.arm()
        self._grace = asyncio.get_running_loop().create_task(self._lapse_unless_logon())
        log.warning(
            "restarted with a trading session live before: dead man's switch re-armed; it "
            "lapses unless a trading session logs on within its countdown",
            extra={"timeout_s": self.switch.timeout_s},
        )

    async def _lapse_unless_logon(self) -> None:
        await asyncio.sleep(self.switch.timeout_s)
        self._grace = None
        await self.switch.lapse()
        log.warning("no trading session logged on after the restart: dead man's switch lapsed")

    def _end_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    async def session_ended(self, clean: bool) -> None:
        self._end_grace()
        if clean:
            await self.switch.disarm()
            log.info("dead man's switch disarmed")
        else:
            await self.switch.lapse()
            log.warning(
                "session lost: dead man's switch no longer refreshed; Kraken cancels the key's "
                "orders when its countdown runs out unless a session logs on first",
                extra={"timeout_s": self.switch.timeout_s},
            )
