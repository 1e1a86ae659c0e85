"""Bearer-token authentication: the token a client presents names its session.

Tokens are compared as sha256 digests with `hmac.compare_digest` against every configured
session, without an early exit, so neither the digest comparison nor the position of the match
leaks timing. The gateway never stores the plain token. A token past its session's
`token_expires` no longer authenticates.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from gateway.config import SessionConfig

__all__ = ["TokenAuthenticator", "parse_bearer"]

_BEARER = "bearer "
# Longer tokens are refused before hashing: a bound on work per request.
MAX_TOKEN_LEN = 4096


def parse_bearer(header: str | None) -> str | None:
    """The token of an `authorization: Bearer <token>` value, or None when absent or malformed."""
    if header is None or len(header) > MAX_TOKEN_LEN + len(_BEARER):
        return None
    if header[: len(_BEARER)].lower() != _BEARER:
        return None
    token = header[len(_BEARER) :].strip()
    return token or None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenAuthenticator:
    def __init__(
        self, sessions: Iterable[SessionConfig], clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._sessions = tuple(sessions)
        self._clock = clock

    def authenticate(self, token: str) -> SessionConfig | None:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: SessionConfig | None = None
        for session in self._sessions:
            if hmac.compare_digest(digest, session.token_sha256):
                found = session
        expires = found.token_expires if found is not None else None
        if expires is not None and self._clock() >= expires:
            return None
        return found
