"""cancelallordersafter: one deadline per account, checked against the engine's clock."""

from __future__ import annotations


class KrakenDeadManSwitch:
    def __init__(self) -> None:
        self._deadlines: dict[str, int] = {}

    def arm(self, account_id: str, now_ms: int, timeout_s: int) -> int | None:
        """Arm (timeout > 0) or disarm (0) the account's switch; returns the trigger time (ms)."""
        if timeout_s <= 0:
            self._deadlines.pop(account_id, None)
            return None
        deadline = now_ms + timeout_s * 1000
        self._deadlines[account_id] = deadline
        return deadline

    def next_deadline(self) -> int | None:
        return min(self._deadlines.values(), default=None)

    def expire(self, now_ms: int) -> list[str]:
        """Accounts whose switch went off (disarmed as they are returned), in a stable order."""
        due = sorted(a for a, deadline in self._deadlines.items() if deadline <= now_ms)
        for account_id in due:
            del self._deadlines[account_id]
        return due
