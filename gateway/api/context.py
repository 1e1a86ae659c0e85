"""The authenticated caller of the current RPC, set by the interceptor for the servicer's task."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from gateway.config import SessionConfig
from gateway.sessions.errors import UnauthenticatedError

__all__ = ["Caller", "caller", "caller_logon_id", "set_caller"]


@dataclass(frozen=True)
class Caller:
    session: SessionConfig
    # The `krakengw-logon-id` metadata of the call, if any.
    logon_id: str | None


_caller: ContextVar[Caller | None] = ContextVar("krakengw_caller", default=None)


def set_caller(session: SessionConfig | None, logon_id: str | None = None) -> None:
    _caller.set(None if session is None else Caller(session, logon_id))


def _current() -> Caller:
    current = _caller.get()
    if current is None:
        raise UnauthenticatedError("missing or unknown bearer token")
    return current


def caller() -> SessionConfig:
    """The session named by this RPC's bearer token (the interceptor has checked it)."""
    return _current().session


def caller_logon_id() -> str | None:
    """The logon id this RPC presented (None when it sent none)."""
    return _current().logon_id
