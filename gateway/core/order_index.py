"""The in-memory index of every order the gateway knows, by client id, venue id and owner."""

from __future__ import annotations

from collections import defaultdict

from gateway.core.model import Order

OrderKey = tuple[str, str]  # (account, client_order_id): the idempotency key


class OrderIndex:
    """Latest snapshot per order plus the lookups the service needs, kept in step by `put`.

    Ids per account and per session are insertion-ordered (dicts used as ordered sets).
    """

    def __init__(self) -> None:
        self._orders: dict[OrderKey, Order] = {}
        self._by_venue_id: dict[tuple[str, str, str], str] = {}
        # (account, venue order id) -> client order ids, any venue (ids may repeat across venues)
        self._venue_id_any: defaultdict[tuple[str, str], dict[str, None]] = defaultdict(dict)
        self._open: defaultdict[str, set[str]] = defaultdict(set)
        self._by_account: defaultdict[str, dict[str, None]] = defaultdict(dict)
        self._by_session: defaultdict[tuple[str, str], dict[str, None]] = defaultdict(dict)

    def __getitem__(self, key: OrderKey) -> Order:
        return self._orders[key]

    def __contains__(self, key: object) -> bool:
        return key in self._orders

    def get(self, key: OrderKey) -> Order | None:
        return self._orders.get(key)

    def put(self, order: Order) -> None:
        key = (order.account, order.client_order_id)
        if key not in self._orders:
            self._by_account[order.account][order.client_order_id] = None
            self._by_session[(order.account, order.session_id)][order.client_order_id] = None
        self._orders[key] = order
        if order.venue_order_id:
            venue_key = (order.account, order.venue, order.venue_order_id)
            self._by_venue_id[venue_key] = order.client_order_id
            self._venue_id_any[(order.account, order.venue_order_id)][order.client_order_id] = None
        if order.is_open:
            self._open[order.account].add(order.client_order_id)
        else:
            self._open[order.account].discard(order.client_order_id)

    def find(
        self, account: str, venue: str, client_order_id: str | None, venue_order_id: str | None
    ) -> OrderKey | None:
        """The order a venue message is about: by client order id, else by venue order id."""
        if client_order_id is not None and (account, client_order_id) in self._orders:
            return (account, client_order_id)
        if venue_order_id is not None:
            found = self._by_venue_id.get((account, venue, venue_order_id))
            if found is not None:
                return (account, found)
        return None

    def with_venue_order_id(self, account: str, venue_order_id: str) -> list[Order]:
        """The account's orders (on any venue) that carry `venue_order_id`."""
        ids = self._venue_id_any.get((account, venue_order_id), {})
        return [self._orders[(account, cid)] for cid in ids]

    def account_orders(self, account: str) -> list[Order]:
        return [self._orders[(account, cid)] for cid in self._by_account.get(account, {})]

    def session_orders(self, account: str, session_id: str) -> list[Order]:
        ids = self._by_session.get((account, session_id), {})
        return [self._orders[(account, cid)] for cid in ids]

    def open_count(self, account: str) -> int:
        return len(self._open.get(account, ()))
