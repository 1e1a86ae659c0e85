"""Permission checks for the requests the core service does not guard itself (accounts, data)."""

from __future__ import annotations

from gateway.core.errors import ErrorReason, PermissionDenied
from gateway.core.model import Permission

__all__ = ["require"]

_REASONS = {
    Permission.READ: ErrorReason.PERMISSION_DENIED_READ,
    Permission.TRADE: ErrorReason.PERMISSION_DENIED_TRADE,
    Permission.CANCEL_ONLY: ErrorReason.PERMISSION_DENIED_CANCEL,
    Permission.TRANSFER: ErrorReason.PERMISSION_DENIED_TRANSFER,
    Permission.DROP_COPY: ErrorReason.PERMISSION_DENIED_DROP_COPY,
}


def require(granted: frozenset[Permission], needed: Permission) -> None:
    if needed not in granted:
        raise PermissionDenied(
            f"this session lacks the {needed.name.lower()} permission", _REASONS[needed]
        )
