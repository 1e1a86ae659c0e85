"""The authenticated caller of the current RPC, set by the interceptor for the servicer's task."""

from __future__ import annotations

from contextvars import ContextVar

from gateway.config import SessionConfig
from gateway.sessions.errors import UnauthenticatedError

__all__ = ["caller", "set_caller"]

_caller: ContextVar[SessionConfig | None] = ContextVar("krakengw_caller", default=None)


def set_caller(session: SessionConfig | None) -> None:
    _caller.set(session)


def caller() -> SessionConfig:
    """The session named by this RPC's bearer token (the interceptor has checked it)."""
    session = _caller.get()
    if session is None:
        raise UnauthenticatedError("missing or unknown bearer token")
    return session
