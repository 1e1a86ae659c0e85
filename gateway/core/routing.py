"""Which ports serve which account on which venue: one `VenuePorts` per (account, venue).

Every request is routed by the venue of its instrument (an order, a position, a ticker) or, for
account-wide reads (balances, subaccounts), to each venue of the account in attach order.
"""

from __future__ import annotations

from gateway.core.errors import ErrorReason, FailedPrecondition, Unavailable
from gateway.core.ports import OrderEntryPort, VenuePorts

__all__ = ["VenueRoutes"]


class VenueRoutes:
    def __init__(self) -> None:
        self._ports: dict[tuple[str, str], VenuePorts] = {}
        # Every (account, venue) ever attached. An account's venues are all attached before the
        # gateway serves it, so one never attached is not the account's: a request for it is
        # the caller's mistake, not an outage (one detached, e.g. a lost fleet lease, is).
        self._configured: set[tuple[str, str]] = set()

    def attach(self, account: str, ports: VenuePorts) -> None:
        self._ports[(account, ports.venue)] = ports
        self._configured.add((account, ports.venue))

    def detach(self, account: str, venue: str) -> None:
        self._ports.pop((account, venue), None)

    def get(self, account: str, venue: str) -> OrderEntryPort | None:
        ports = self._ports.get((account, venue))
        return ports.order_entry if ports is not None else None

    def ports(self, account: str, venue: str) -> VenuePorts:
        """The account's port set on `venue`: FailedPrecondition(VENUE_NOT_CONFIGURED) if the
        account has no such venue, Unavailable(VENUE_UNAVAILABLE) if it is not attached now."""
        ports = self._ports.get((account, venue))
        if ports is None and (account, venue) not in self._configured:
            raise FailedPrecondition(
                f"account {account} does not trade on venue {venue} (not configured for it)",
                ErrorReason.VENUE_NOT_CONFIGURED,
                metadata={"venue": venue, "account": account},
            )
        if ports is None:
            raise Unavailable(
                f"venue {venue} is not connected for this account",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return ports

    def order_entry(self, account: str, venue: str) -> OrderEntryPort:
        """The account's order entry port on `venue` (raises as `ports`)."""
        return self.ports(account, venue).order_entry

    def of_account(self, account: str) -> list[tuple[str, OrderEntryPort]]:
        """(venue, order entry port) of every venue of `account`, in attach order."""
        return [(v, p.order_entry) for v, p in self.venues_of(account)]

    def venues_of(self, account: str) -> list[tuple[str, VenuePorts]]:
        """(venue, port set) of every venue of `account`, in attach order."""
        return [(v, p) for (a, v), p in list(self._ports.items()) if a == account]
