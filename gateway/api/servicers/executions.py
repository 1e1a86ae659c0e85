"""ExecutionService: the sequenced execution stream (replay, then live, with heartbeats)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from google.protobuf import timestamp_pb2
from grpc import aio

from gateway.api import convert
from gateway.api.deps import ApiDeps
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.paging import page_size
from gateway.core.ports import ReportSubscription
from krakengw.v1 import executions_pb2, executions_pb2_grpc

__all__ = ["MAX_BATCH", "ExecutionServicer"]

# The most reports one coalesced stream message carries, whatever the client asks
# (StreamExecutionsRequest.max_batch): ~0.3 MB of typical reports, far below gRPC's 4 MB.
MAX_BATCH = 1000


class ExecutionServicer(executions_pb2_grpc.ExecutionServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    async def StreamExecutions(
        self, request: executions_pb2.StreamExecutionsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[executions_pb2.StreamExecutionsResponse]:
        active = self._d.active()
        ctx = active.context(drop_copy=request.drop_copy)
        newest = await self._d.service.last_sequence(ctx)
        if request.from_sequence > newest:
            # Resuming past the journal's end means a wiped journal or the wrong gateway:
            # waiting silently would hide that.
            raise InvalidArgument(
                f"from_sequence {request.from_sequence} is beyond the last sequence {newest}",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "from_sequence", "last_sequence": str(newest)},
            )
        sub = self._d.service.stream_executions(ctx, request.from_sequence)
        sessions = self._d.sessions
        sessions.stream_opened(active)
        # The stream ends as soon as the session ends (Logout, timeout) or the server stops.
        closer = asyncio.create_task(_close_on(sub, active.ended, self._d.stopping))
        last = request.from_sequence
        heartbeat_after = active.heartbeat_interval_s
        max_batch = min(request.max_batch, MAX_BATCH)
        try:
            if max_batch > 1:
                # Coalesced: every report goes in a batch (a lone one in a batch of one), as
                # many as are ready at each wake-up, so clients handle a single event kind.
                while True:
                    try:
                        reports = await sub.next_batch(max_batch, heartbeat_after)
                    except StopAsyncIteration:
                        return
                    if not reports:
                        yield _heartbeat(last)
                        continue
                    tail = reports[-1]
                    last = tail.account_sequence if request.drop_copy else tail.sequence
                    yield convert.execution_batch_response(reports)
            while True:
                try:
                    report = await sub.next(heartbeat_after=heartbeat_after)
                except StopAsyncIteration:
                    return  # closed: session ended, server stopping or journal closed
                if report is None:
                    yield _heartbeat(last)
                    continue
                last = report.account_sequence if request.drop_copy else report.sequence
                yield convert.execution_response(report)
        finally:
            closer.cancel()
            sub.close()
            sessions.stream_closed(active)

    async def ListFills(
        self, request: executions_pb2.ListFillsRequest, context: aio.ServicerContext
    ) -> executions_pb2.ListFillsResponse:
        active = self._d.active()
        only = convert.instrument_filter(request.instrument, request.HasField("instrument"))
        client_id = request.client_order_id
        if client_id:
            convert.client_order_id(client_id)
        start = convert.time_in(request.start_time, request.HasField("start_time"), "start_time")
        end = convert.time_in(request.end_time, request.HasField("end_time"), "end_time")
        got = await self._d.service.list_fills(
            active.context(),
            symbol=only.symbol,
            page_size=page_size(request.page_size),
            page_token=request.page_token,
        )
        # Filters the core does not take apply within the page.
        fills = [
            f
            for f in got.items
            if only.venue_matches(f.venue)
            and (not client_id or f.client_order_id == client_id)
            and (start is None or (f.venue_time is not None and f.venue_time >= start))
            and (end is None or (f.venue_time is not None and f.venue_time < end))
        ]
        return executions_pb2.ListFillsResponse(
            fills=[convert.fill(f) for f in fills], next_page_token=got.next_page_token
        )


def _heartbeat(last_sequence: int) -> executions_pb2.StreamExecutionsResponse:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    return executions_pb2.StreamExecutionsResponse(
        heartbeat=executions_pb2.Heartbeat(time=now, last_sequence=last_sequence)
    )


async def _close_on(sub: ReportSubscription, *events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        sub.close()
    finally:
        for w in waits:
            w.cancel()
