"""One gateway per data directory: an exclusive flock on `<data_dir>/gateway.lock`.

Taken before the journal opens and held for the life of the process; a second gateway started
on the same directory stops with one line naming the holder. The kernel frees the lock when
the holder exits, however it exits.
"""

from __future__ import annotations

from pathlib import Path

from gateway.core.errors import ErrorReason, FailedPrecondition
from gateway.leases.lockfile import LockFile, LockHeld

__all__ = ["DataDirInUse", "DataDirLock"]

LOCK_NAME = "gateway.lock"


class DataDirInUse(FailedPrecondition):
    default_reason = ErrorReason.UNSPECIFIED


class DataDirLock:
    def __init__(self, lock: LockFile) -> None:
        self._lock = lock

    @classmethod
    def acquire(cls, data_dir: Path, holder: str) -> DataDirLock:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            return cls(LockFile.acquire(data_dir / LOCK_NAME, holder))
        except LockHeld as held:
            raise DataDirInUse(
                f"data_dir {data_dir} is in use by another gateway ({held.holder}); "
                "one gateway per data_dir"
            ) from None

    def release(self) -> None:
        self._lock.release()
