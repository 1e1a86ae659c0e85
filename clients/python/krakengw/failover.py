"""Several gateway addresses (a fleet): which one a client uses now, and moving on.

A fleet gateway that does not serve a session's account answers UNAVAILABLE with the reason
SESSION_MOVED, naming the serving instance's address in the ErrorInfo metadata ("address") when
it knows it; a gateway that is down or shutting down answers UNAVAILABLE too. The client then
moves: to the named address, else to the next address of its list (in order, round and round),
logs on again and repeats the call (the same after an INTERNAL status without an ErrorInfo
reason: gRPC's own, as the gateway gives every INTERNAL of its own the reason INTERNAL); an
execution stream resumes from its last sequence; an OrderEntry stream is opened again there
and sends the requests still waiting for their ack again (a submit keeps its client order
id, so it is never placed twice). A gateway that lost the account while the session was logged
on there answers NOT_LOGGED_ON; logging on there again then answers SESSION_MOVED, and the
client moves.

`Failover` holds these decisions for the blocking and the asyncio clients alike; they only
differ in how they wait and call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc

from krakengw.errors import KrakenGwError
from krakengw.resume import ReconnectPolicy
from krakengw.stubs import LOGON_ID_MISMATCH, SESSION_LOST_REASONS

__all__ = ["MOVE_REASONS", "Failover", "SwitchingChannel", "is_move", "is_superseded"]

# UNAVAILABLE with one of these reasons means "another gateway may serve this call" ("": the
# connection failed, no gateway answered; KEY_LEASED: this gateway lost the account's key lease
# to another, and sent nothing for the call).
MOVE_REASONS = frozenset({"SESSION_MOVED", "GATEWAY_SHUTTING_DOWN", "KEY_LEASED", ""})


def is_move(failure: KrakenGwError) -> bool:
    if failure.code is grpc.StatusCode.INTERNAL and not failure.reason:
        # gRPC's own failure of the connection (e.g. "Internal error from Core" when a gateway
        # frozen past its lease resumes): the gateway tags every INTERNAL of its own.
        return True
    return failure.code is grpc.StatusCode.UNAVAILABLE and failure.reason in MOVE_REASONS


def is_superseded(failure: KrakenGwError, used: str | None, current: str | None) -> bool:
    """Whether a call that carried logon id `used` was refused only because this client has
    logged on again since (its id is now `current`): repeated with `current`, it may pass."""
    return failure.reason == LOGON_ID_MISMATCH and current is not None and used != current


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

    @property
    def channels(self) -> list[Any]:
        """Every channel opened so far (to close them)."""
        return list(self._channels.values())

    async def close(self) -> None:
        """Close every channel (grpc.aio ones; blocking ones: close each of `channels`)."""
        for channel in self._channels.values():
            await channel.close()


class Failover:
    """What a fleet client does after a failed call: move, log on again, repeat or give up."""

    def __init__(self, channel: SwitchingChannel, policy: ReconnectPolicy | None) -> None:
        self.channel = channel
        self.policy = policy or ReconnectPolicy()

    def retry_delay(
        self,
        failure: KrakenGwError,
        seen: int,
        attempt: int,
        *,
        logged_on: bool,
        is_logon: bool = False,
        superseded: bool = False,
    ) -> float | None:
        """The pause before repeating a call made at channel generation `seen` that failed
        with `failure` (moving first when it says the session is elsewhere), or None: give up.
        A call of a logged-on client that the gateway says is not logged on (it lost the
        account, or restarted) is repeated after logging on again; see `relogon_failed`. A
        call that carried a logon id the client has replaced since (`superseded`, see
        `is_superseded`) is repeated with the current one."""
        if attempt >= self.policy.max_attempts:
            return None
        lost = logged_on and not is_logon and failure.reason in SESSION_LOST_REASONS
        if superseded and not is_logon:
            return 0.0
        if is_move(failure):
            self.channel.switch(failure, seen)
        elif not lost:
            return None
        return self.policy.delay(attempt)

    def follows(self, failure: KrakenGwError, *, logged_on: bool, superseded: bool = False) -> bool:
        """Whether a failure (of a stream, or of one request on it) says the session is to
        be found elsewhere or logged on again, or that the stream carried a logon id the
        client has replaced since (`superseded`): then the stream is opened again."""
        return (
            superseded or is_move(failure) or (logged_on and failure.reason in SESSION_LOST_REASONS)
        )

    def relogon_failed(self, failure: KrakenGwError, seen: int) -> bool:
        """A logon after a move or a lost session failed: move on if it says where (or that
        the gateway is gone). Whether the session may yet be found elsewhere."""
        if is_move(failure):
            self.channel.switch(failure, seen)
            return True
        return False
