"""The fence around one account a fleet gateway serves under key leases: every venue send and
every journal write first checks that the leases still hold.

- Venue side (`check`): the holder's own clock. A lease is trusted until the monotonic time
  its last renewal was sent plus the TTL, which ends before the database lets anyone else take
  it; after that, or once a renewal failed, nothing more is sent. The check that counts runs
  at the last moment, in the same event-loop step as the bytes are handed to the socket, with
  no await in between: whatever held a send up after an earlier check (the connection pool,
  the rate governor, a freeze of the whole process) cannot carry it past the lease's end.
  It runs right before each request frame of a private WS is written (Spot: trading requests
  and subscriptions; Futures: the challenge request and the signed subscriptions), right
  before a signed Spot REST request's headers are written
  (`gateway.venues.kraken.spot.rest.gated_http_client`, httpcore's `trace` extension), and
  right before a signed Futures REST request's bytes are written
  (`gateway.venues.kraken.futures.rest.gated_request_class`). Earlier checks avoid wasted work:
  `FencedOrderEntry` before every order-entry call (sends and signed reads, over WS or REST),
  the REST clients before a signed request waits for a pooled connection (Futures: before it
  takes a nonce), `FencedGuard` before arming or disarming a session guard. Public (unsigned)
  requests are not fenced: they use no key.
- Journal side (`check_in`): inside each write transaction, first the holder's own clock (as
  for sends), then the lease row with its fencing token (gateway.leases.postgres.check_in), so
  a gateway that lost the lease writes nothing even if its own clock has not noticed yet.

Every signed REST request names its leases (holder and fencing token) in a `KrakenGW-Lease`
header (`request_headers`), so whoever logs the requests (the simulator, a proxy) can tell which
grant each was sent under. The one window no client-side check can close is a freeze of those
few instructions between the last check and the write itself; Kraken checks no fencing token,
and the nonces the journal shares between holders are the backstop there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.core.errors import GatewayError
from gateway.core.events import AmendAck, OrderFilled, SubmitAck, VenueOrderState
from gateway.core.leases import KeyLease, LeaseLost
from gateway.core.model import AmendRequest, Instrument, Order, OrderRequest, RateBudget
from gateway.core.ports import OrderEntryPort, RateBudgetPort, VenueEventSink
from gateway.leases.postgres import Conn, check_in

__all__ = ["LEASE_HEADER", "AccountFence", "FencedGuard", "FencedOrderEntry"]

LEASE_HEADER = "KrakenGW-Lease"


class AccountFence:
    def __init__(self, account: str, leases: Sequence[KeyLease]) -> None:
        self.account = account
        self.leases = list(leases)
        self.lost = False

    def valid(self) -> bool:
        if self.lost:
            return False
        now = time.monotonic()
        return all(lease.valid_until is None or now < lease.valid_until for lease in self.leases)

    def check(self) -> None:
        if not self.valid():
            raise LeaseLost(
                f"account {self.account!r}: this gateway no longer holds its key lease; "
                "nothing is sent for it"
            )

    async def check_in(self, conn: Conn) -> None:
        # The holder's own clock first, as for sends: a gateway thawed after its lease may have
        # run out writes nothing and says KEY_LEASED (its clients move), even before the
        # database answers, or when the database has ended its stalled connection.
        self.check()
        for lease in self.leases:
            await check_in(conn, lease)

    def request_headers(self) -> dict[str, str]:
        """The `KrakenGW-Lease` header a signed REST request carries: its leases' holder and
        fencing token (fixed while this fence lives: renewals keep the token)."""
        return {
            LEASE_HEADER: ", ".join(f"{lease.holder} token {lease.token}" for lease in self.leases)
        }


class FencedGuard:
    """A SessionGuard that neither arms nor disarms once the lease is gone."""

    def __init__(self, inner: Any, fence: AccountFence) -> None:
        self._inner = inner
        self._fence = fence

    def session_started(self) -> None:
        if self._fence.valid():
            self._inner.session_started()

    async def session_ended(self, clean: bool) -> None:
        # Without the lease, even a disarm is a send with a key another gateway now owns.
        await self._inner.session_ended(clean and self._fence.valid())

    def restarted(self) -> None:
        if self._fence.valid():
            self._inner.restarted()


class FencedOrderEntry:
    """An OrderEntryPort that checks the fence before each call reaches the venue."""

    def __init__(self, inner: OrderEntryPort, fence: AccountFence) -> None:
        self._inner = inner
        self._fence = fence

    @property
    def venue(self) -> str:
        return self._inner.venue

    def set_event_sink(self, sink: VenueEventSink) -> None:
        self._inner.set_event_sink(sink)

    def rate_budgets(self) -> Sequence[RateBudget]:
        inner = self._inner
        return inner.rate_budgets() if isinstance(inner, RateBudgetPort) else ()

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        self._fence.check()
        return await self._inner.submit(request, instrument)

    async def submit_batch(
        self, items: Sequence[tuple[OrderRequest, Instrument]]
    ) -> Sequence[SubmitAck | GatewayError]:
        self._fence.check()
        return await self._inner.submit_batch(items)

    async def amend(self, order: Order, amend: AmendRequest, instrument: Instrument) -> AmendAck:
        self._fence.check()
        return await self._inner.amend(order, amend, instrument)

    async def replace(
        self, order: Order, new_request: OrderRequest, instrument: Instrument
    ) -> SubmitAck:
        self._fence.check()
        return await self._inner.replace(order, new_request, instrument)

    async def cancel(self, order: Order) -> None:
        self._fence.check()
        await self._inner.cancel(order)

    async def cancel_batch(self, orders: Sequence[Order]) -> Sequence[GatewayError | None]:
        self._fence.check()
        return await self._inner.cancel_batch(orders)

    async def cancel_all(self, symbol: str | None = None) -> int:
        self._fence.check()
        return await self._inner.cancel_all(symbol)

    async def query_order(
        self, client_order_id: str, venue_order_id: str | None, instrument: Instrument
    ) -> VenueOrderState | None:
        self._fence.check()
        return await self._inner.query_order(client_order_id, venue_order_id, instrument)

    async def open_orders(self) -> Sequence[VenueOrderState]:
        self._fence.check()
        return await self._inner.open_orders()

    async def recent_fills(self, since: datetime | None = None) -> Sequence[OrderFilled]:
        self._fence.check()
        return await self._inner.recent_fills(since)
