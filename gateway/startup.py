"""Start-up that never dies on a venue's answer.

The gRPC port opens before the venues are asked anything about orders (health NOT_SERVING, new
orders refused UNAVAILABLE/RECONCILING); `reconcile_until_done` then settles each account's
journal against its venues, retrying every failure (a rate limit, an outage) with capped,
jittered exponential backoff, and honouring the delay the rate governor names. The process stays
up however long the venue misbehaves; it serves as soon as every account is reconciled.

`LiveSessionMarks` remember, in the data dir, which accounts had a trading session live: after a
crash (no session end ran) the restart re-arms their venue safety first (`SessionGuard.restarted`,
Kraken's dead man's switch) so a restart shorter than its countdown cancels nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from gateway.core.backoff import backoff_delays
from gateway.core.errors import GatewayError, ResourceExhausted
from gateway.core.service import TradingService

__all__ = ["LiveSessionMarks", "reconcile_until_done"]

log = logging.getLogger(__name__)

BACKOFF_S = 0.2
BACKOFF_MAX_S = 10.0
MARKS_DIR = "sessions-live"


async def reconcile_until_done(
    service: TradingService,
    accounts: Iterable[str],
    *,
    first_s: float = BACKOFF_S,
    cap_s: float = BACKOFF_MAX_S,
) -> None:
    """Reconcile each account until it succeeds (then its new orders are accepted)."""
    for account in accounts:
        delays = backoff_delays(first_s, cap_s)
        attempt = 0
        while True:
            attempt += 1
            try:
                await service.reconcile(account)
                break
            except Exception as exc:
                wait = next(delays)
                if isinstance(exc, ResourceExhausted) and exc.retry_after:
                    wait = max(wait, exc.retry_after)  # the governor knows when budget is back
                reason = exc.reason.value if isinstance(exc, GatewayError) else type(exc).__name__
                log.warning(
                    "start-up reconciliation failed; retrying",
                    extra={
                        "account": account,
                        "attempt": attempt,
                        "reason": reason,
                        "retry_in_s": round(wait, 3),
                    },
                )
                await asyncio.sleep(wait)
        log.info("account reconciled", extra={"account": account, "attempts": attempt})


class LiveSessionMarks:
    """One empty file per account with a trading session live, under `<data_dir>/sessions-live`.
    Written at logon, removed at every session end: only a crash leaves one behind."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir / MARKS_DIR

    def were_live(self) -> set[str]:
        if not self._dir.is_dir():
            return set()
        return {p.name for p in self._dir.iterdir() if p.is_file()}

    def mark(self, account: str) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        (self._dir / account).touch()

    def clear(self, account: str) -> None:
        (self._dir / account).unlink(missing_ok=True)
