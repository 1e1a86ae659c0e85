"""Settling what the venue knows and the gateway does not: venue events applied to orders,
outcome-unknown orders resolved by query (never by resending), and reconciliation of an
account's orders and fills with the venue's own view (restart, reconnect).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import replace

from gateway.core.errors import GatewayError
from gateway.core.events import OrderRejected, VenueEvent, VenueOrderState
from gateway.core.instruments import InstrumentCatalog
from gateway.core.ledger import OrderLedger
from gateway.core.model import PENDING_STATUSES, Instrument, Order, OrdStatus
from gateway.core.order_index import OrderKey, order_key
from gateway.core.ports import OrderEntryPort, OrderHistoryPort, VenueEventSink
from gateway.core.routing import VenueRoutes
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.core.venue_updates import (
    absent_at_venue,
    from_event,
    from_venue_state,
    unknown_at_venue,
)

__all__ = ["OrderResolver"]

log = logging.getLogger(__name__)


class _AccountSink:
    """The VenueEventSink handed to one (account, venue) adapter."""

    def __init__(self, resolver: OrderResolver, account: str, venue: str) -> None:
        self._resolver = resolver
        self._account = account
        self._venue = venue

    async def on_venue_event(self, event: VenueEvent) -> None:
        await self._resolver.on_venue_event(self._account, self._venue, event)


class OrderResolver:
    """`resolve_delays`: seconds between queries that settle an outcome-unknown order (the last
    one repeats); `not_found_confirmations`: how many "venue does not know it" answers in a row
    make a pending order definitively rejected/canceled."""

    def __init__(
        self,
        ledger: OrderLedger,
        routes: VenueRoutes,
        catalog: InstrumentCatalog,
        *,
        resolve_delays: Sequence[float],
        not_found_confirmations: int,
    ) -> None:
        self._ledger = ledger
        self._orders = ledger.orders
        self._routes = routes
        self._catalog = catalog
        self._resolve_delays = tuple(resolve_delays) or (1.0,)
        self._confirmations = max(1, not_found_confirmations)
        self._resolvers: dict[OrderKey, asyncio.Task[None]] = {}
        # Unknown outcomes and their resolution are reported here (metrics; no-op by default).
        self.telemetry: Telemetry = NO_TELEMETRY

    async def close(self) -> None:
        """Stop the resolution tasks."""
        tasks = list(self._resolvers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def sink(self, account: str, venue: str) -> VenueEventSink:
        """The event sink for the port of `account` on `venue`."""
        return _AccountSink(self, account, venue)

    def resume(self, account: str, venue: str) -> None:
        """A port was attached: settle the account's pending orders on that venue."""
        for order in self._orders.account_orders(account):
            if order.venue == venue and order.status in PENDING_STATUSES:
                self.schedule(order_key(order))

    def instrument_of(self, order: Order) -> Instrument:
        return self._catalog.get(order.symbol, order.venue)

    def outcome_unknown(self, key: OrderKey, what: str, exc: BaseException) -> None:
        kind = exc.reason.name if isinstance(exc, GatewayError) else type(exc).__name__
        log.warning("%s outcome unknown for order %s (%s); resolving by query", what, key[2], kind)
        self.telemetry.outcome_unknown(what)
        self.schedule(key)

    def schedule(self, key: OrderKey) -> None:
        """Resolve the order by query in the background (once at a time per order)."""
        if key in self._resolvers:
            return
        task = asyncio.get_running_loop().create_task(self._resolve(key))
        self._resolvers[key] = task
        task.add_done_callback(lambda _t: self._resolvers.pop(key, None))

    async def on_venue_event(self, account: str, venue: str, event: VenueEvent) -> None:
        key = self._orders.find(account, venue, event.client_order_id, event.venue_order_id)
        if key is None:
            log.info("venue event %s for an order this gateway does not know", type(event).__name__)
            return
        self._ledger.detach(self.apply_event(key, event))

    def apply_event(self, key: OrderKey, event: VenueEvent) -> Awaitable[None]:
        order = self._orders[key]
        if order.status is OrdStatus.REJECTED and not isinstance(event, OrderRejected):
            log.error("venue reports activity on rejected order %s; check it", key[2])
        return self._ledger.commit(from_event(order, event, self._ledger.now()))

    async def reconcile(self, account: str, venue: str | None = None) -> None:
        """Merge the venue's recent fills and settle every non-terminal order of the account
        from the venue's own view (restart, reconnect)."""
        for port_venue, port in self._routes.of_account(account):
            if venue is None or port_venue == venue:
                await self._reconcile_port(account, port_venue, port)

    async def _reconcile_port(self, account: str, venue: str, port: OrderEntryPort) -> None:
        keys = [
            order_key(o)
            for o in self._orders.account_orders(account)
            if o.venue == venue and o.is_open
        ]
        listed = await port.open_orders()
        open_states: dict[OrderKey, VenueOrderState] = {}
        for state in listed:
            known = self._orders.find(account, venue, state.client_order_id, state.venue_order_id)
            if known is None:
                # Placed outside this gateway (same key), or its journal entry was lost after
                # the fact (power loss under synchronous=NORMAL, a restored backup): reported,
                # not adopted (no session to give it to). A crash cannot cause it: the service
                # commits a new order's PENDING_NEW (its session, its client id) before sending
                # it, and a Kraken client-id mapping commits after that and before the send,
                # so an order "known only by its mapping" cannot exist either.
                log.warning("venue %s has an open order unknown to the journal", venue)
            else:
                open_states[known] = state
        if not keys:
            return
        since = min(self._orders[k].created_at for k in keys)
        fills = await port.recent_fills(since)
        traded: set[OrderKey] = set()
        for fill in fills:
            found = self._orders.find(account, venue, fill.client_order_id, fill.venue_order_id)
            if found is not None:
                traded.add(found)
            await self.on_venue_event(account, venue, fill)
        if not isinstance(port, OrderHistoryPort):
            await self._reconcile_one_by_one(keys, port)
            return
        # A bounded number of calls whatever the number of orders: open orders, fills since
        # the oldest open order, orders closed since then (each paged by the venue), the last
        # only when some order is neither open at the venue nor settled by its fills (a venue
        # may meter its history tightly: Kraken Futures' pool is 100 calls per 10 minutes).
        closed_states: dict[OrderKey, VenueOrderState] = {}
        if any(not self._orders[k].is_terminal and k not in open_states for k in keys):
            for state in await port.closed_orders(since):
                found = self._orders.find(
                    account, venue, state.client_order_id, state.venue_order_id
                )
                if found is not None:
                    closed_states[found] = state
        unknown = 0
        for key in keys:
            if self._orders[key].is_terminal:
                continue
            seen = open_states.get(key) or closed_states.get(key)
            if seen is not None:
                await self._apply_venue_state(key, seen, port, fills_fetched=True)
            elif self._orders[key].status in PENDING_STATUSES:
                # Its request may have been the last thing the old process sent: settled by
                # query with the resolver's confirmations, as any outcome-unknown order.
                self.schedule(key)
            elif key not in traded:
                unknown += 1
                text = (
                    f"the venue does not know this order: not open, not closed since "
                    f"{since.isoformat()}, no trade of it (its state at the venue was lost)"
                )
                update = unknown_at_venue(self._orders[key], self._ledger.now(), text)
                await self._ledger.settle([self._ledger.commit(update)])
        if unknown:
            log.warning(
                "reconciliation: %d order(s) unknown to venue %s settled as such", unknown, venue
            )

    async def _reconcile_one_by_one(self, keys: Sequence[OrderKey], port: OrderEntryPort) -> None:
        """A venue without a closed-orders listing: each order queried on its own."""
        for key in keys:
            order = self._orders[key]
            if order.is_terminal:
                continue
            state = await port.query_order(
                order.id_at_venue, order.venue_order_id, self.instrument_of(order)
            )
            if state is None:
                if order.status in PENDING_STATUSES:
                    self.schedule(key)
                continue
            await self._apply_venue_state(key, state, port)

    async def _resolve(self, key: OrderKey) -> None:
        """Settle an outcome-unknown order by asking the venue, with backoff; never resend."""
        not_found = 0
        for attempt in itertools.count():
            await asyncio.sleep(self._resolve_delays[min(attempt, len(self._resolve_delays) - 1)])
            order = self._orders.get(key)
            if order is None or order.status not in PENDING_STATUSES:
                if order is not None:  # settled (by this query or by a venue event)
                    self.telemetry.outcome_resolved(order.status.name)
                return
            port = self._routes.get(order.account, order.venue)
            if port is None:
                continue  # the venue is detached; attaching it schedules us again
            try:
                state = await port.query_order(
                    order.id_at_venue, order.venue_order_id, self.instrument_of(order)
                )
            except Exception as exc:
                log.warning("query of order %s failed (%s); retrying", key[2], type(exc).__name__)
                continue
            try:
                if state is not None:
                    not_found = 0
                    await self._apply_venue_state(key, state, port)
                    continue
                not_found += 1
                if not_found >= self._confirmations:
                    absent = absent_at_venue(self._orders[key], self._ledger.now())
                    await self._ledger.settle([self._ledger.commit(absent)])
            except Exception:
                log.exception("settling order %s failed; retrying", key[2])

    async def _apply_venue_state(
        self,
        key: OrderKey,
        state: VenueOrderState,
        port: OrderEntryPort,
        *,
        fills_fetched: bool = False,
    ) -> None:
        """Bring our order in line with the venue's view: fills first, then status.
        `fills_fetched`: the venue's fills since the order was placed are merged already."""
        pending: list[Awaitable[None]] = [
            self.apply_event(key, replace(f, client_order_id=self._orders[key].id_at_venue))
            for f in state.fills
        ]
        if state.cum_qty > self._orders[key].cum_qty and not fills_fetched:
            since = self._orders[key].created_at
            venue = self._orders[key].venue
            for fill in await port.recent_fills(since):
                if (
                    self._orders.find(key[0], venue, fill.client_order_id, fill.venue_order_id)
                    == key
                ):
                    pending.append(self.apply_event(key, fill))
        order = self._orders[key]
        if state.cum_qty > order.cum_qty:
            log.warning("order %s: venue reports more executed qty than known fills", key[2])
        pending.append(self._ledger.commit(from_venue_state(order, state, self._ledger.now())))
        await self._ledger.settle(pending)
