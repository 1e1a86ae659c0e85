"""Reads of orders, fills and execution streams, scoped to what a session may see: its own
orders, or (drop copy) every order of its account. Nothing here changes state."""

from __future__ import annotations

from gateway.core.errors import ErrorReason, InvalidArgument, NotFound
from gateway.core.ledger import OrderLedger
from gateway.core.model import Fill, Order, Permission, SessionContext
from gateway.core.paging import Page, page
from gateway.core.permissions import is_risk_desk, require
from gateway.core.ports import ReportSubscription
from gateway.core.validation import check_id

__all__ = ["OrderQueries"]


class OrderQueries:
    def __init__(self, ledger: OrderLedger) -> None:
        self._orders = ledger.orders
        self._journal = ledger.journal

    def own(
        self,
        ctx: SessionContext,
        client_order_id: str,
        *,
        write: bool,
        cancel: bool = False,
        session_id: str | None = None,
    ) -> Order:
        """The order if the session may see it (`write`: may act on it; `cancel`: the act is a
        cancel); NotFound otherwise, also for other sessions' orders. Drop copy sees its
        account's orders, read-only; a risk desk (CANCEL_ONLY without TRADE) sees them all and
        may cancel any.

        Client order ids belong to sessions: `session_id` names the owner; without it the
        caller's own order is meant, or, for a session that sees the account, the one order of
        any session carrying the id (InvalidArgument if several do: name it by venue order id).
        """
        check_id(client_order_id, "client_order_id")
        desk = is_risk_desk(ctx)
        sees_account = ctx.is_drop_copy or desk
        if session_id is not None:
            candidates = [self._orders.get((ctx.account, session_id, client_order_id))]
        else:
            mine = self._orders.get((ctx.account, ctx.session_id, client_order_id))
            if mine is not None or not sees_account:
                candidates = [mine]
            else:
                candidates = list(self._orders.with_client_order_id(ctx.account, client_order_id))
        found = [
            o
            for o in candidates
            if o is not None
            and (
                o.session_id == ctx.session_id or (sees_account and not write) or (desk and cancel)
            )
        ]
        if not found:
            raise NotFound(f"order {client_order_id} not found", ErrorReason.ORDER_NOT_FOUND)
        if len(found) > 1:
            raise InvalidArgument(
                f"several sessions of the account use client_order_id {client_order_id}; "
                "name the order by its venue_order_id",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "client_order_id"},
            )
        return found[0]

    def session_orders(self, ctx: SessionContext) -> list[Order]:
        return self._orders.session_orders(ctx.account, ctx.session_id)

    def visible_orders(self, ctx: SessionContext) -> list[Order]:
        if ctx.is_drop_copy or is_risk_desk(ctx):
            return self._orders.account_orders(ctx.account)
        return self.session_orders(ctx)

    async def get_order(
        self, ctx: SessionContext, client_order_id: str, session_id: str | None = None
    ) -> Order:
        """NotFound for unknown ids and other sessions' orders (drop copy sees the account)."""
        return self.own(ctx, client_order_id, write=False, session_id=session_id)

    def find_by_venue_order_id(self, ctx: SessionContext, venue_order_id: str) -> Order:
        """The visible order the venue knows as `venue_order_id` (from the index, no scan); if
        several venues used the id, an open one first, else the newest. NotFound otherwise."""
        found = [
            o
            for o in self._orders.with_venue_order_id(ctx.account, venue_order_id)
            if o.venue_order_id == venue_order_id
            and (o.session_id == ctx.session_id or ctx.is_drop_copy or is_risk_desk(ctx))
        ]
        if not found:
            raise NotFound(
                f"no order with venue_order_id {venue_order_id!r}", ErrorReason.ORDER_NOT_FOUND
            )
        return max(found, key=lambda o: (o.is_open, o.created_at))

    async def list_open_orders(self, ctx: SessionContext, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.visible_orders(ctx)
            if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    async def list_orders(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Order]:
        """All orders (open and closed), newest first."""
        orders = [o for o in self.visible_orders(ctx) if symbol is None or o.symbol == symbol]
        orders.sort(key=lambda o: o.created_at, reverse=True)
        return page(orders, page_size, page_token)

    async def list_fills(
        self,
        ctx: SessionContext,
        *,
        symbol: str | None = None,
        page_size: int = 100,
        page_token: str = "",
    ) -> Page[Fill]:
        """Fills, newest first (by venue time, else order time)."""
        fills = [
            (f.venue_time or o.updated_at, f)
            for o in self.visible_orders(ctx)
            if symbol is None or o.symbol == symbol
            for f in o.fills
        ]
        fills.sort(key=lambda pair: pair[0], reverse=True)
        return page([f for _, f in fills], page_size, page_token)

    def stream_executions(self, ctx: SessionContext, from_sequence: int) -> ReportSubscription:
        """The session's reports after `from_sequence` (replay, then live). For a drop-copy
        session: every report of its account, resumed on `account_sequence`."""
        if from_sequence < 0:
            raise InvalidArgument(
                "from_sequence must be >= 0",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "from_sequence"},
            )
        if ctx.is_drop_copy:
            require(ctx, Permission.DROP_COPY)
            return self._journal.subscribe_account(ctx.account, from_sequence)
        return self._journal.subscribe(ctx.session_id, from_sequence)

    async def last_sequence(self, ctx: SessionContext) -> int:
        if ctx.is_drop_copy:
            require(ctx, Permission.DROP_COPY)
            return await self._journal.last_account_sequence(ctx.account)
        return await self._journal.last_sequence(ctx.session_id)
