"""Session refusals, as members of the core GatewayError tree."""

from __future__ import annotations

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    FailedPrecondition,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "KeyLeasedError",
    "LogonIdMismatchError",
    "NotLoggedOnError",
    "SessionAlreadyActiveError",
    "SessionMovedError",
    "UnauthenticatedError",
]


class SessionAlreadyActiveError(AlreadyExists):
    default_reason = ErrorReason.SESSION_ALREADY_ACTIVE


class KeyLeasedError(AlreadyExists):
    default_reason = ErrorReason.KEY_LEASED


class SessionMovedError(Unavailable):
    """A fleet gateway does not serve the session's account (another instance does, or none
    yet): metadata "instance" and "address" name the holder when the lease table knows it."""

    default_reason = ErrorReason.SESSION_MOVED


class NotLoggedOnError(FailedPrecondition):
    # Core has no NOT_LOGGED_ON reason yet; SESSION_NOT_FOUND is the closest (maps to the
    # proto's ERROR_REASON_NOT_LOGGED_ON in gateway.api.errors).
    default_reason = ErrorReason.SESSION_NOT_FOUND


class UnauthenticatedError(Unauthenticated):
    default_reason = ErrorReason.UNAUTHENTICATED


class LogonIdMismatchError(Unauthenticated):
    default_reason = ErrorReason.LOGON_ID_MISMATCH
