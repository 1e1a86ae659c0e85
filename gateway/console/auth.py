"""The console's admin token: held only as its SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["AdminAuth"]


class AdminAuth:
    def __init__(self, token_sha256: bytes | None) -> None:
        self._digest = token_sha256

    @property
    def enabled(self) -> bool:
        return self._digest is not None

    def __repr__(self) -> str:
        return f"AdminAuth(enabled={self.enabled})"

    def check(self, authorization: str | None) -> bool:
        """True for `Authorization: Bearer <the admin token>`."""
        if self._digest is None or not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        given = hashlib.sha256(token.strip().encode()).digest()
        return hmac.compare_digest(given, self._digest)
