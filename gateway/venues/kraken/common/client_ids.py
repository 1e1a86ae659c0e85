"""The client order id sent to Kraken, shared by Spot (`cl_ord_id`) and Futures (`cliOrdId`).

Each venue has its own rules for what it accepts (`spot/order_params.kraken_cl_ord_id`,
`futures/order_params.kraken_futures_cli_ord_id`); a client id outside them becomes a
deterministic UUID5, and that mapping must be journaled before the order is sent.

The id the core hands a venue for a new order is already a session-scoped UUID5
(gateway/core/venue_ids.py), which both rules take as it is: the mapping only ever applies to
orders journaled before client ids were scoped per session, whose ids are the clients' own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KrakenClOrdId"]


@dataclass(frozen=True, slots=True)
class KrakenClOrdId:
    """The id sent as Kraken's `cl_ord_id`; `mapped` means it differs from the client's id and
    the (client id -> value) pair must be journaled before the order is sent."""

    value: str
    mapped: bool
