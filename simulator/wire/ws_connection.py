"""One WS v2 client connection: a bounded send queue drained by its own writer task.

Producers (the engine's event fan-out, request handlers) never await a socket: they put text
frames on the queue. A client that lets its queue fill up is disconnected instead of stalling
the engine, as a real venue drops a slow consumer. The fault plan is consulted per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

from simulator.faults import FaultAction, FaultPlan

log = logging.getLogger(__name__)

DEFAULT_QUEUE_FRAMES = 10_000


@dataclass(eq=False)
class Subscription:
    """One channel subscription of one connection (per symbol for the public channels)."""

    channel: str
    symbol: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0  # private channels number their messages 1, 2, ...
    token: str | None = None

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


class WsConnection:
    """Send side and subscription table of one client connection."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        connection_id: int,
        faults: FaultPlan,
        *,
        queue_frames: int = DEFAULT_QUEUE_FRAMES,
        on_close: Callable[[WsConnection], None] | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.ws = ws
        self.connection_id = connection_id
        self.faults = faults
        self.subscriptions: dict[tuple[str, ...], Subscription] = {}
        self.account_id: str | None = None  # set by the first valid token on the auth endpoint
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_frames)
        self._on_close = on_close
        self._on_idle = on_idle  # called when the connection was quiet for a heartbeat period
        self._closing = False
        self._delayed: set[asyncio.TimerHandle] = set()
        self.heartbeats = False  # on once the client has a subscription
        self.level3 = False  # connected to the L3 endpoint
        self.peer = ""  # the client's address, "host:port"
        self.close_code: int = WSCloseCode.OK

    @property
    def closing(self) -> bool:
        return self._closing

    def deliver(
        self, target: str, frame: str, *, bad_frame: Callable[[], str] | None = None
    ) -> None:
        """Queue `frame`, applying the fault plan's rule for `target` (e.g. `ws:book`)."""
        if self._closing:
            return
        rule = self.faults.ws_action(target)
        if rule is None:
            self._put(frame)
        elif rule.action is FaultAction.DROP:
            return
        elif rule.action is FaultAction.DUPLICATE:
            self._put(frame)
            self._put(frame)
        elif rule.action is FaultAction.DISCONNECT:
            self.close(WSCloseCode.GOING_AWAY)
        elif rule.action is FaultAction.DELAY:
            # Later messages overtake this one: the client sees them reordered.
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle

            def later() -> None:
                self._delayed.discard(handle)
                self._put(frame)

            handle = loop.call_later(rule.delay_s, later)
            self._delayed.add(handle)
        elif rule.action is FaultAction.BAD_CHECKSUM:
            self._put(bad_frame() if bad_frame is not None else frame)
        else:  # an HTTP-only action cannot match a ws: target; deliver unchanged
            self._put(frame)

    def send_now(self, frame: str) -> None:
        """Queue a frame that no fault rule applies to (status, heartbeat)."""
        if not self._closing:
            self._put(frame)

    def _put(self, frame: str) -> None:
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("spot ws: connection %s too slow, disconnecting", self.connection_id)
            self.close(WSCloseCode.TRY_AGAIN_LATER)

    def close(self, code: int = WSCloseCode.OK) -> None:
        """Stop accepting frames and close the socket from the writer task."""
        if self._closing:
            return
        self._closing = True
        self.close_code = code
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        # Make room for the sentinel so the writer wakes up even when the queue is full.
        while self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        if self._on_close is not None:
            self._on_close(self)

    async def run_writer(self, heartbeat_s: float, heartbeat: str) -> None:
        """Drain the queue onto the socket until closed, then close the socket.

        When nothing was queued for `heartbeat_s` and the client has subscribed to something,
        a heartbeat goes out (Kraken: ~1/s when no other channel updates).
        """
        try:
            while True:
                try:
                    frame = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        frame = await asyncio.wait_for(self._queue.get(), heartbeat_s)
                    except TimeoutError:
                        if self._on_idle is not None:
                            self._on_idle()
                        if self.heartbeats:
                            await self.ws.send_str(heartbeat)
                        continue
                if frame is None:
                    break
                await self.ws.send_str(frame)
        except (ConnectionError, RuntimeError):
            pass  # the peer went away; the reader side ends too
        finally:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=self.close_code)
