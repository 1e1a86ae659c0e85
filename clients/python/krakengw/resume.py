"""Resuming execution streams: remember the last sequence seen, reconnect with bounded
backoff after a failure, resume from that sequence and drop any overlap, so the caller sees
each report exactly once and in order.

The streams ask the gateway for coalesced messages (`max_batch`, default 512: a replay or a
burst arrives as batches of reports, far fewer messages) and hand the reports out one at a time;
the position advances per report handed out, so a stream closed or cut in the middle of a batch
resumes right after the last report the caller received. `max_batch=0` asks for one report per
message (what gateways before batching send in any case).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from krakengw.errors import KrakenGwError
from krakengw.models import ExecutionReport, Heartbeat
from krakengw.v1 import executions_pb2

__all__ = [
    "DEFAULT_MAX_BATCH",
    "AsyncExecutionStream",
    "ExecutionStream",
    "ReconnectPolicy",
    "SequenceCursor",
]

# Reports per stream message the client asks for (StreamExecutionsRequest.max_batch).
DEFAULT_MAX_BATCH = 512

# Codes after which the same request may succeed on a new connection.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff between `initial_delay` and `max_delay` seconds; the stream gives up
    after `max_attempts` consecutive reconnects that delivered nothing."""

    initial_delay: float = 0.05
    max_delay: float = 2.0
    max_attempts: int = 30

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.initial_delay * (2**attempt)))


class SequenceGapError(Exception):
    """Reports were missing between two sequences; the stream reconnects to fetch them."""


class SequenceCursor:
    """The stream position: accepts each report once, in sequence order.

    A drop-copy stream is ordered by `account_sequence`, a session's stream by `sequence`.
    """

    def __init__(self, from_sequence: int, *, drop_copy: bool = False) -> None:
        self.last = from_sequence
        self.drop_copy = drop_copy
        self.last_heartbeat: Heartbeat | None = None

    def reports(
        self, message: executions_pb2.StreamExecutionsResponse
    ) -> Sequence[executions_pb2.ExecutionReport]:
        """The raw reports a stream message carries, in order: one, a batch, or none (a
        heartbeat, recorded in `last_heartbeat`, or an event kind newer than this client).
        Pass each to `accept_report` when it is about to be handed out."""
        kind = message.WhichOneof("event")
        if kind == "execution_reports":
            return message.execution_reports.reports
        if kind == "execution_report":
            return (message.execution_report,)
        if kind == "heartbeat":
            self.last_heartbeat = Heartbeat.from_proto(message.heartbeat)
        return ()

    def accept(self, message: executions_pb2.StreamExecutionsResponse) -> ExecutionReport | None:
        """For a message of at most one report: the report to hand to the caller, or None
        (heartbeat, or a replayed duplicate). A batch goes through `reports`/`accept_report`.

        Raises SequenceGapError when a report is missing before this one.
        """
        raws = self.reports(message)
        if len(raws) > 1:
            raise ValueError("a batch of reports: use reports() and accept_report()")
        return self.accept_report(raws[0]) if raws else None

    def accept_report(self, raw: executions_pb2.ExecutionReport) -> ExecutionReport | None:
        """The report to hand to the caller, or None (a replayed duplicate); advances the
        position. Raises SequenceGapError when a report is missing before this one."""
        seq = raw.account_sequence if self.drop_copy else raw.sequence
        if seq <= self.last:
            return None
        if seq != self.last + 1:
            raise SequenceGapError(f"expected sequence {self.last + 1}, got {seq}")
        self.last = seq
        return ExecutionReport.from_proto(raw)


# Called with a non-retryable failure; returns True when it fixed the cause (e.g. logged on
# again after a gateway restart), so the stream retries instead of raising.
RecoverHook = Callable[[KrakenGwError], bool]
AsyncRecoverHook = Callable[[KrakenGwError], Awaitable[bool]]


class _StreamBase:
    def __init__(
        self,
        from_sequence: int,
        *,
        drop_copy: bool,
        max_batch: int,
        policy: ReconnectPolicy,
        to_error: Callable[[grpc.RpcError], KrakenGwError],
    ) -> None:
        if not 0 <= max_batch < 2**32:
            raise ValueError(f"max_batch must be >= 0, got {max_batch}")
        self._cursor = SequenceCursor(from_sequence, drop_copy=drop_copy)
        self._max_batch = max_batch
        self._policy = policy
        self._to_error = to_error
        self._closed = False
        self._call: Any = None
        self.reconnects = 0

    @property
    def last_sequence(self) -> int:
        """The sequence of the last report handed out (or the starting point)."""
        return self._cursor.last

    @property
    def last_heartbeat(self) -> Heartbeat | None:
        return self._cursor.last_heartbeat

    def _hand_out(
        self, message: executions_pb2.StreamExecutionsResponse
    ) -> Iterator[ExecutionReport]:
        """The reports of one message for the caller. Each is accepted only as it is handed
        out, so the position never runs ahead of what the caller received; none after close."""
        cursor = self._cursor
        for raw in cursor.reports(message):
            if self._closed:
                return
            report = cursor.accept_report(raw)
            if report is not None:
                yield report

    def _request(self) -> executions_pb2.StreamExecutionsRequest:
        return executions_pb2.StreamExecutionsRequest(
            from_sequence=self._cursor.last,
            drop_copy=self._cursor.drop_copy,
            max_batch=self._max_batch,
        )

    def _fatal(self, failure: KrakenGwError, failures: int, recovered: bool) -> bool:
        """Whether `failure` ends the stream instead of a reconnect."""
        if failures >= self._policy.max_attempts:
            return True
        return failure.code not in RETRYABLE_CODES and not recovered

    def _give_up(self, failures: int) -> KrakenGwError | None:
        if failures < self._policy.max_attempts:
            return None
        return KrakenGwError(
            grpc.StatusCode.UNAVAILABLE,
            f"execution stream lost after {failures} reconnect attempts "
            f"(last sequence {self._cursor.last})",
        )


class ExecutionStream(_StreamBase):
    """Blocking iterator of ExecutionReports that survives disconnects.

    `open_call(request)` starts a StreamExecutions call. `close()` (from any thread) ends the
    iteration.
    """

    def __init__(
        self,
        open_call: Callable[[executions_pb2.StreamExecutionsRequest], Any],
        from_sequence: int = 0,
        *,
        drop_copy: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        policy: ReconnectPolicy | None = None,
        to_error: Callable[[grpc.RpcError], KrakenGwError] = KrakenGwError.from_rpc_error,
        recover: RecoverHook | None = None,
    ) -> None:
        super().__init__(
            from_sequence,
            drop_copy=drop_copy,
            max_batch=max_batch,
            policy=policy or ReconnectPolicy(),
            to_error=to_error,
        )
        self._open_call = open_call
        self._recover = recover
        self._wakeup = threading.Event()
        self._reports = self._run()

    def __iter__(self) -> ExecutionStream:
        return self

    def __next__(self) -> ExecutionReport:
        return next(self._reports)

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self._call is not None:
            self._call.cancel()

    def __enter__(self) -> ExecutionStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> Iterator[ExecutionReport]:
        failures = 0
        while not self._closed:
            self._call = call = self._open_call(self._request())
            try:
                for message in call:
                    failures = 0
                    yield from self._hand_out(message)
                    if self._closed:
                        return
            except SequenceGapError:
                pass  # reconnecting from the last sequence fetches the missing reports
            except grpc.RpcError as error:
                if self._closed:
                    return
                failure = self._to_error(error)
                # Every failure goes to the hook (a fleet client moves on UNAVAILABLE); only
                # a non-retryable one ends the stream unless the hook recovered it.
                recovered = bool(self._recover and self._recover(failure))
                if self._fatal(failure, failures, recovered):
                    raise failure from None
            finally:
                call.cancel()
            if self._closed:
                return
            # The call ended (error, gap or server closed it): reconnect after a backoff.
            fatal = self._give_up(failures)
            if fatal is not None:
                raise fatal
            self._wakeup.wait(self._policy.delay(failures))
            failures += 1
            self.reconnects += 1


class AsyncExecutionStream(_StreamBase):
    """Async iterator of ExecutionReports that survives disconnects (see ExecutionStream)."""

    def __init__(
        self,
        open_call: Callable[[executions_pb2.StreamExecutionsRequest], Any],
        from_sequence: int = 0,
        *,
        drop_copy: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        policy: ReconnectPolicy | None = None,
        to_error: Callable[[grpc.RpcError], KrakenGwError] = KrakenGwError.from_rpc_error,
        recover: AsyncRecoverHook | None = None,
    ) -> None:
        super().__init__(
            from_sequence,
            drop_copy=drop_copy,
            max_batch=max_batch,
            policy=policy or ReconnectPolicy(),
            to_error=to_error,
        )
        self._open_call = open_call
        self._recover = recover
        self._reports = self._run()

    def __aiter__(self) -> AsyncExecutionStream:
        return self

    async def __anext__(self) -> ExecutionReport:
        return await self._reports.__anext__()

    def close(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()

    async def aclose(self) -> None:
        self.close()
        await self._reports.aclose()

    async def __aenter__(self) -> AsyncExecutionStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[ExecutionReport, None]:
        failures = 0
        while not self._closed:
            self._call = call = self._open_call(self._request())
            try:
                async for message in call:
                    failures = 0
                    for report in self._hand_out(message):
                        yield report
                    if self._closed:
                        return
            except SequenceGapError:
                pass  # reconnecting from the last sequence fetches the missing reports
            except asyncio.CancelledError:
                if self._closed:  # close() cancelled the call under us: end the iteration
                    return
                raise
            except grpc.RpcError as error:
                if self._closed:
                    return
                failure = self._to_error(error)
                recovered = bool(self._recover and await self._recover(failure))
                if self._fatal(failure, failures, recovered):
                    raise failure from None
            finally:
                call.cancel()
            if self._closed:
                return
            fatal = self._give_up(failures)
            if fatal is not None:
                raise fatal
            await asyncio.sleep(self._policy.delay(failures))
            failures += 1
            self.reconnects += 1
