"""The client order id the gateway sends a venue for an order: scoped to the order's session.

Client order ids are the sessions' own: two sessions of one account may use the same id for
different orders, and neither learns that the other did. A venue knows one id space per key,
so each order goes to the venue as a UUID5 of its account, session and client order id:
distinct per session, the same on every retry and restart, and a form both Kraken Spot
(`cl_ord_id`) and Kraken Futures (`cliOrdId`) take as it is. It is stored on the order
(`Order.venue_client_order_id`) and so journaled in the order's first (PENDING_NEW) record: the
id the venue echoes maps back to (account, session, client order id) through the journal
without a write of its own. Orders journaled before this scoping have no stored id; the venue
knows them by their client order id itself (`Order.id_at_venue`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from gateway.core.model import AmendRequest, Order, OrderRequest

__all__ = ["scoped_client_order_id", "venue_amend", "venue_order", "venue_request"]

# Fixed forever: changing it would change the id of every order still live at a venue.
_NAMESPACE = uuid.UUID("b08a8e8b-97b6-4403-86b9-99f8995cb9bb")


def scoped_client_order_id(account: str, session_id: str, client_order_id: str) -> str:
    """The id a venue is sent for `client_order_id` of `session_id` (NUL-separated parts, so
    distinct triples never share a name)."""
    return str(uuid.uuid5(_NAMESPACE, f"{account}\x00{session_id}\x00{client_order_id}"))


def venue_request(order: Order) -> OrderRequest:
    """The order's request as the venue is sent it: named by `order.id_at_venue`."""
    if order.venue_client_order_id is None:
        return order.request
    return replace(order.request, client_order_id=order.venue_client_order_id)


def venue_order(order: Order) -> Order:
    """`order` as the venue knows it (for the venue port's cancel, amend and replace)."""
    if order.venue_client_order_id is None:
        return order
    return replace(order, request=venue_request(order))


def venue_amend(order: Order, amend: AmendRequest) -> AmendRequest:
    return replace(amend, client_order_id=order.id_at_venue)
