"""Test-only crash points: with `KRAKENGW_TEST_CRASH_AT=<point>` in its environment the
gateway process SIGKILLs itself when it reaches that point, so end-to-end tests can put a
`kill -9` exactly where recovery is hardest. Unset (the default, and the only setting for real
use), `crash_point` is one string comparison.

Points: `after-venue-accept` (a new order was accepted by the venue, its outcome not yet
journaled).
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_AT_ENV", "crash_point"]

CRASH_AT_ENV = "KRAKENGW_TEST_CRASH_AT"
_CRASH_AT = os.environ.get(CRASH_AT_ENV, "")


def crash_point(name: str) -> None:
    """SIGKILL this process if the environment named `name` as the crash point (tests only)."""
    if name == _CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)
