"""Exclusive leases on venue API keys: one live session per key, so nonces never race."""

from __future__ import annotations

__all__ = ["KeyLeaseTable"]


class KeyLeaseTable:
    """Maps a lease key (see AccountConfig.lease_key) to the session id holding it."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def holder(self, lease_key: str) -> str | None:
        return self._holders.get(lease_key)

    def try_acquire(self, lease_key: str, session_id: str) -> str | None:
        """Take the lease; returns None on success, else the session id that holds it."""
        current = self._holders.setdefault(lease_key, session_id)
        return None if current == session_id else current

    def release(self, lease_key: str, session_id: str) -> None:
        # Only the holder may release: a late release from an expired logon must not free a
        # lease that another session has since taken.
        if self._holders.get(lease_key) == session_id:
            del self._holders[lease_key]
