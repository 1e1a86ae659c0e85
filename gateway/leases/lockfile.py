"""An exclusive, non-blocking flock on a small file that also says who holds it.

The kernel drops the lock when the holder's process ends, however it ends (kill -9 included),
so a stale lock file never blocks anyone. The file's content is JSON: who holds it now, and a
counter that only ever grows (the fencing token of key leases). It is advisory detail for the
refusal message; the flock alone decides.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["LockFile", "LockHeld"]


class LockHeld(Exception):
    """Another open file description holds the lock; `holder` is what it wrote, if readable."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by {holder}")
        self.path = path
        self.holder = holder


class LockFile:
    """One held lock. `acquire` or raise `LockHeld`; `release` (or process exit) frees it."""

    def __init__(self, path: Path, fd: int, counter: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self.counter = counter

    @classmethod
    def acquire(cls, path: Path, holder: str) -> LockFile:
        """Lock `path` (created 0600 if missing), bump its counter, record `holder`."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            state = _read(fd)
            os.close(fd)
            raise LockHeld(path, str(state.get("holder") or "unknown holder")) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            counter = int(_read(fd).get("counter", 0)) + 1
        except (TypeError, ValueError):
            counter = 1
        _write(fd, {"holder": holder, "counter": counter})
        return cls(path, fd, counter)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Say nobody holds it (the counter stays, so it keeps growing), then unlock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            _write(fd, {"holder": "", "counter": self.counter})
        os.close(fd)  # closing the last descriptor drops the flock


def _read(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        value = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return {}  # being rewritten right now, or not ours: the flock still decides
    return value if isinstance(value, dict) else {}


def _write(fd: int, state: dict[str, Any]) -> None:
    data = json.dumps(state).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)  # the counter must never go backwards, even across a power loss
