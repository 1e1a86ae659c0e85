"""One signer per venue key, enforced outside the process: the key lease port.

A gateway may sign for an API key only while it holds that key's lease. Leases are named by the
key's non-secret fingerprint (`ApiKeyPair.fingerprint`), never by the key. Two backends sit
behind `KeyLeases`: a lock file per key on this machine (`gateway.leases.local`), and a shared
PostgreSQL table for gateways on several machines (`gateway.leases.postgres`).

Every grant carries a fencing token that strictly increases each time the key changes hands,
so a store that sees a write stamped with an older token can tell it comes from a holder that
has since lost the lease and refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gateway.core.errors import AlreadyExists, ErrorReason, Unavailable

__all__ = ["KeyInUse", "KeyLease", "KeyLeases", "LeaseLost"]


@dataclass(frozen=True, slots=True)
class KeyLease:
    """A granted lease. `valid_until` is on the `time.monotonic()` clock of the holder; None
    means the lease lasts until released or the process ends (a lock file)."""

    key: str  # the key's fingerprint
    holder: str  # who holds it (the gateway instance id)
    token: int  # fencing token, strictly increasing per key across grants
    valid_until: float | None = None


class KeyInUse(AlreadyExists):
    """Another gateway holds the key's lease; `holder` says which, as far as it is known."""

    default_reason = ErrorReason.KEY_LEASED

    def __init__(self, key: str, holder: str) -> None:
        super().__init__(
            f"API key {key} is in use by another gateway ({holder}); one signer per key",
            metadata={"key_fingerprint": key},
        )
        self.key = key
        self.holder = holder


class LeaseLost(Unavailable):
    """The lease ran out or another gateway took it: nothing more may be signed or written."""

    default_reason = ErrorReason.KEY_LEASED


@runtime_checkable
class KeyLeases(Protocol):
    """Exclusive leases on venue keys, shared by every gateway that uses the same backend."""

    async def acquire(self, key: str) -> KeyLease:
        """Take the key's lease or raise `KeyInUse`. Never blocks waiting for a holder."""
        ...

    async def renew(self, lease: KeyLease) -> KeyLease:
        """Extend a held lease (same token) or raise `LeaseLost` if it is no longer ours."""
        ...

    async def release(self, lease: KeyLease) -> None:
        """Give the lease up (a no-op if it was already lost)."""
        ...

    async def close(self) -> None:
        """Release every lease still held and free the backend's resources."""
        ...
