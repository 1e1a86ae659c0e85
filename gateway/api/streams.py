"""Server-stream plumbing shared by the servicers: end a stream when its session ends or the
server stops, and count it as session activity while it is open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

from gateway.api.deps import ApiDeps
from gateway.sessions.registry import ActiveSession

__all__ = ["until_session_ends"]

T = TypeVar("T")


async def until_session_ends(
    source: AsyncIterator[T], active: ActiveSession, deps: ApiDeps
) -> AsyncIterator[T]:
    """Items of `source` until it ends, the session ends or the server stops."""
    deps.sessions.stream_opened(active)
    ended = asyncio.ensure_future(_first(active.ended, deps.stopping))
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            pending = asyncio.ensure_future(anext(source))
            await asyncio.wait({pending, ended}, return_when=asyncio.FIRST_COMPLETED)
            if not pending.done():
                return
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield item
    finally:
        ended.cancel()
        if pending is not None:
            pending.cancel()
        deps.sessions.stream_closed(active)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
