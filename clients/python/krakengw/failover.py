"""Several gateway addresses (a fleet): which one a client uses now, and moving on.

A fleet gateway that does not serve a session's account answers UNAVAILABLE with the reason
SESSION_MOVED, naming the serving instance's address in the ErrorInfo metadata ("address") when
it knows it; a gateway that is down or shutting down answers UNAVAILABLE too. The client then
moves: to the named address, else to the next address of its list (in order, round and round),
logs on again and repeats the call; an execution stream resumes from its last sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc

from krakengw.errors import KrakenGwError

__all__ = ["MOVE_REASONS", "SwitchingChannel", "is_move"]

# UNAVAILABLE with one of these reasons means "another gateway may serve this call" ("": the
# connection failed, no gateway answered).
MOVE_REASONS = frozenset({"SESSION_MOVED", "GATEWAY_SHUTTING_DOWN", ""})


def is_move(failure: KrakenGwError) -> bool:
    return failure.code is grpc.StatusCode.UNAVAILABLE and failure.reason in MOVE_REASONS


class SwitchingChannel:
    """A stand-in for a grpc.aio channel: stubs built on it send each call to the channel of
    the current address; `switch` moves to another. Old channels stay open until `close`, so a
    call still running on one is not cut by another call's move."""

    def __init__(self, targets: Sequence[str], connect: Callable[[str], Any]) -> None:
        if not targets:
            raise ValueError("at least one gateway address is needed")
        self.targets = list(targets)
        self._connect = connect
        self.current = self.targets[0]
        self._channels: dict[str, Any] = {self.current: connect(self.current)}
        self.generation = 0  # bumped by every switch

    @property
    def channel(self) -> Any:
        return self._channels[self.current]

    def switch(self, failure: KrakenGwError, seen: int) -> None:
        """Move on after `failure` of a call made at generation `seen`; nothing when another
        call moved already since."""
        if seen != self.generation:
            return
        named = failure.metadata.get("address", "") if failure.reason == "SESSION_MOVED" else ""
        if named and named != self.current:
            target = named
        else:
            at = self.targets.index(self.current) if self.current in self.targets else -1
            target = self.targets[(at + 1) % len(self.targets)]
        if target not in self._channels:
            self._channels[target] = self._connect(target)
        self.current = target
        self.generation += 1

    def _multicallable(self, kind: str, method: str, args: tuple[Any, ...], kw: Any) -> Any:
        made: dict[int, Any] = {}

        def call(*call_args: Any, **call_kw: Any) -> Any:
            channel = self.channel
            multi = made.get(id(channel))
            if multi is None:
                multi = made[id(channel)] = getattr(channel, kind)(method, *args, **kw)
            return multi(*call_args, **call_kw)

        return call

    def unary_unary(self, method: str, *args: Any, **kw: Any) -> Any:
        return self._multicallable("unary_unary", method, args, kw)

    def unary_stream(self, method: str, *args: Any, **kw: Any) -> Any:
        return self._multicallable("unary_stream", method, args, kw)

    def stream_unary(self, method: str, *args: Any, **kw: Any) -> Any:
        return self._multicallable("stream_unary", method, args, kw)

    def stream_stream(self, method: str, *args: Any, **kw: Any) -> Any:
        return self._multicallable("stream_stream", method, args, kw)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
