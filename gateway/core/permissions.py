"""The one permission table: the error reason a session lacking a permission gets, and which
permissions let it cancel. Every guarded request goes through the core, which checks here:

- submit, amend, replace, release the kill switch: TRADE
- cancel (one, batch, all), engage the kill switch: TRADE or CANCEL_ONLY; a risk desk
  (CANCEL_ONLY without TRADE) sees every order of its account and may cancel any of them
- balances, positions, subaccounts (lists and streams): READ
- transfers: TRANSFER
- the account-wide execution stream (drop copy): DROP_COPY
- own orders, fills and execution stream, instruments, market data, limits: any session
"""

from __future__ import annotations

from gateway.core.errors import ErrorReason, PermissionDenied
from gateway.core.model import Permission, SessionContext

__all__ = ["CANCEL_PERMISSIONS", "is_risk_desk", "require", "require_any", "require_cancel"]

# Cancels (one, a batch, all, the kill switch on) are allowed to cancel-only sessions too.
CANCEL_PERMISSIONS = frozenset({Permission.TRADE, Permission.CANCEL_ONLY})

_REASONS = {
    Permission.READ: ErrorReason.PERMISSION_DENIED_READ,
    Permission.TRADE: ErrorReason.PERMISSION_DENIED_TRADE,
    Permission.CANCEL_ONLY: ErrorReason.PERMISSION_DENIED_CANCEL,
    Permission.TRANSFER: ErrorReason.PERMISSION_DENIED_TRANSFER,
    Permission.DROP_COPY: ErrorReason.PERMISSION_DENIED_DROP_COPY,
}


def require(ctx: SessionContext, permission: Permission) -> None:
    """PermissionDenied (with the permission's reason) unless the session holds `permission`."""
    require_any(ctx, frozenset({permission}), _REASONS[permission])


def require_any(ctx: SessionContext, allowed: frozenset[Permission], reason: ErrorReason) -> None:
    """PermissionDenied(`reason`) unless the session holds one of `allowed`."""
    if not ctx.permissions & allowed:
        names = " or ".join(sorted(p.value for p in allowed))
        raise PermissionDenied(f"session lacks permission {names}", reason)


def require_cancel(ctx: SessionContext) -> None:
    require_any(ctx, CANCEL_PERMISSIONS, ErrorReason.PERMISSION_DENIED_CANCEL)


def is_risk_desk(ctx: SessionContext) -> bool:
    """A cancel-only session (no TRADE): it watches and cancels the whole account's orders."""
    return Permission.CANCEL_ONLY in ctx.permissions and Permission.TRADE not in ctx.permissions
