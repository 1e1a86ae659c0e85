"""Key leases as lock files on this machine: `<lock_dir>/<key fingerprint>.lock`.

Every gateway on the machine that uses the same lock directory honours them: a key's lock file
is flocked by the one gateway that signs with it; any other gateway configured with that key
refuses the account. The kernel frees the lock when the holder exits (kill -9 included). The
lease never expires while the holder lives, so `renew` only checks it is still held.

The directory defaults to `$XDG_RUNTIME_DIR/krakengw` (per user, cleared at logout), else
`/tmp/krakengw-locks-<uid>`; `[server] key_lock_dir` overrides it. Gateways run by different
users, or given different directories, do not see each other's locks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gateway.core.leases import KeyInUse, KeyLease, LeaseLost
from gateway.leases.lockfile import LockFile, LockHeld

__all__ = ["LocalKeyLeases", "default_lock_dir"]


def default_lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "krakengw"
    return Path(tempfile.gettempdir()) / f"krakengw-locks-{os.getuid()}"


class LocalKeyLeases:
    """`KeyLeases` over lock files in one directory (created 0700 if missing)."""

    def __init__(self, lock_dir: Path, holder: str) -> None:
        self.lock_dir = lock_dir
        self._holder = holder
        self._held: dict[str, LockFile] = {}

    def _path(self, key: str) -> Path:
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError("a lease key is a fingerprint (letters, digits, - and _)")
        return self.lock_dir / f"{key}.lock"

    async def acquire(self, key: str) -> KeyLease:
        path = self._path(key)
        self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if key in self._held:  # flock would refuse a second description in this process too
            raise KeyInUse(key, f"this gateway, {self._holder}")
        try:
            lock = LockFile.acquire(path, self._holder)
        except LockHeld as held:
            raise KeyInUse(key, held.holder) from None
        self._held[key] = lock
        return KeyLease(key=key, holder=self._holder, token=lock.counter)

    async def renew(self, lease: KeyLease) -> KeyLease:
        lock = self._held.get(lease.key)
        if lock is None or not lock.held or lock.counter != lease.token:
            raise LeaseLost(f"the lease on API key {lease.key} is no longer held")
        return lease

    async def release(self, lease: KeyLease) -> None:
        lock = self._held.get(lease.key)
        if lock is not None and lock.counter == lease.token:
            del self._held[lease.key]
            lock.release()

    async def close(self) -> None:
        for lock in self._held.values():
            lock.release()
        self._held.clear()
