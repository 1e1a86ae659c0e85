"""Client ids <-> the ids Kraken echoes (Spot `cl_ord_id`, Futures `cliOrdId`), and the orders
one key has live at Kraken by Kraken order id, with the time of their last change (the Spot rate
governor's order-age penalties need it).

The "client id" here is the one the core sends the venue (`Order.id_at_venue`): for orders
placed since client ids are scoped per session, a UUID5 of account, session and client order id
that Kraken takes verbatim (so nothing is journaled here; the order's PENDING_NEW record holds
it), and the core maps it back to the session's order. Only orders journaled before then carry a
bare client id that may have needed a mapping.

Spot and Futures differ only in their id rule (`encode`: what Kraken accepts, else a UUID5 that
must be journaled before the order is sent) and in which echoed ids can be such a mapping
(`may_be_mapping`); each builds one `KrakenOrderIds` with its own pair.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.core.ports import JournalPort
from gateway.venues.kraken.common.client_ids import KrakenClOrdId

__all__ = ["KrakenOrderIds", "KrakenTrackedOrder"]


@dataclass(slots=True)
class KrakenTrackedOrder:
    client_order_id: str
    symbol: str
    touched: float  # monotonic time of creation or last amend


class KrakenOrderIds:
    """One key's id mapping (journaled under `venue`) and its live orders."""

    def __init__(
        self,
        journal: JournalPort,
        account: str,
        venue: str,
        encode: Callable[[str], KrakenClOrdId],
        may_be_mapping: Callable[[str], bool],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._journal = journal
        self._account = account
        self._venue = venue
        self._encode = encode
        self._may_be_mapping = may_be_mapping
        self._clock = clock
        self._to_client: dict[str, str] = {}
        self.live: dict[str, KrakenTrackedOrder] = {}

    async def venue_client_id_for(self, client_order_id: str) -> str:
        """The id Kraken is sent for a client id, journaling the mapping when it had to change."""
        sent = self._encode(client_order_id)
        if sent.mapped and sent.value not in self._to_client:
            await self._journal.save_client_id_mapping(
                self._account, self._venue, client_order_id, sent.value
            )
        self._to_client[sent.value] = client_order_id
        return sent.value

    async def client_id(self, venue_client_id: str | None) -> str | None:
        """The client's own id for an id Kraken echoed (the journal knows mapped ones)."""
        if venue_client_id is None:
            return None
        known = self._to_client.get(venue_client_id)
        if known is not None:
            return known
        if not self._may_be_mapping(venue_client_id):
            return venue_client_id
        found = await self._journal.client_order_id_for(self._account, self._venue, venue_client_id)
        client = found or venue_client_id
        self._to_client[venue_client_id] = client
        return client

    def track(self, venue_order_id: str, client_order_id: str, symbol: str) -> None:
        self.live[venue_order_id] = KrakenTrackedOrder(client_order_id, symbol, self._clock())

    def touch(self, venue_order_id: str) -> None:
        tracked = self.live.get(venue_order_id)
        if tracked is not None:
            tracked.touched = self._clock()

    def untrack(self, venue_order_id: str | None) -> None:
        if venue_order_id is not None:
            self.live.pop(venue_order_id, None)

    def age(self, venue_order_id: str | None) -> float:
        """Seconds since the order's last change; 0 (the worst penalty) when unknown."""
        tracked = self.live.get(venue_order_id or "")
        return 0.0 if tracked is None else max(0.0, self._clock() - tracked.touched)
