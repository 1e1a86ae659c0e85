"""Which venue port serves which account: the order entry port per (account, venue)."""

from __future__ import annotations

from gateway.core.errors import ErrorReason, Unavailable
from gateway.core.ports import OrderEntryPort

__all__ = ["VenueRoutes"]


class VenueRoutes:
    def __init__(self) -> None:
        self._order_entry: dict[tuple[str, str], OrderEntryPort] = {}

    def attach(self, account: str, port: OrderEntryPort) -> None:
        self._order_entry[(account, port.venue)] = port

    def detach(self, account: str, venue: str) -> None:
        self._order_entry.pop((account, venue), None)

    def get(self, account: str, venue: str) -> OrderEntryPort | None:
        return self._order_entry.get((account, venue))

    def order_entry(self, account: str, venue: str) -> OrderEntryPort:
        """The account's port on `venue`; Unavailable(VENUE_UNAVAILABLE) if none is attached."""
        port = self._order_entry.get((account, venue))
        if port is None:
            raise Unavailable(
                f"venue {venue} is not connected for this account",
                ErrorReason.VENUE_UNAVAILABLE,
            )
        return port

    def of_account(self, account: str) -> list[tuple[str, OrderEntryPort]]:
        """(venue, port) of every order entry port of `account`, in attach order."""
        return [(v, p) for (a, v), p in list(self._order_entry.items()) if a == account]
