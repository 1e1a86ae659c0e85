"""The in-memory index of every order the gateway knows, by client id, venue id and owner."""

from __future__ import annotations

from collections import defaultdict

from gateway.core.model import Order

# (account, session_id, client_order_id): the idempotency key. Client order ids are scoped per
# session, so two sessions of one account may each use the same id for their own orders.
OrderKey = tuple[str, str, str]


def order_key(order: Order) -> OrderKey:
    return (order.account, order.session_id, order.client_order_id)


class OrderIndex:
    """Latest snapshot per order plus the lookups the service needs, kept in step by `put`.

    Keys per account, per session and per client id are insertion-ordered (dicts used as ordered
    sets).
    """

    def __init__(self) -> None:
        self._orders: dict[OrderKey, Order] = {}
        # (account, the client order id the venue knows: Order.id_at_venue) -> key
        self._by_venue_client_id: dict[tuple[str, str], OrderKey] = {}
        self._by_venue_id: dict[tuple[str, str, str], OrderKey] = {}
        # (account, venue order id) -> keys, any venue (ids may repeat across venues)
        self._venue_id_any: defaultdict[tuple[str, str], dict[OrderKey, None]] = defaultdict(dict)
        # (account, client order id) -> keys of every session that used it
        self._by_client_id: defaultdict[tuple[str, str], dict[OrderKey, None]] = defaultdict(dict)
        self._open: defaultdict[str, set[OrderKey]] = defaultdict(set)
        self._by_account: defaultdict[str, dict[OrderKey, None]] = defaultdict(dict)
        self._by_session: defaultdict[tuple[str, str], dict[OrderKey, None]] = defaultdict(dict)

    def __getitem__(self, key: OrderKey) -> Order:
        return self._orders[key]

    def __contains__(self, key: object) -> bool:
        return key in self._orders

    def get(self, key: OrderKey) -> Order | None:
        return self._orders.get(key)

    def put(self, order: Order) -> None:
        key = order_key(order)
        if key not in self._orders:
            self._by_account[order.account][key] = None
            self._by_session[(order.account, order.session_id)][key] = None
            self._by_client_id[(order.account, order.client_order_id)][key] = None
            self._by_venue_client_id[(order.account, order.id_at_venue)] = key
        self._orders[key] = order
        if order.venue_order_id:
            self._by_venue_id[(order.account, order.venue, order.venue_order_id)] = key
            self._venue_id_any[(order.account, order.venue_order_id)][key] = None
        if order.is_open:
            self._open[order.account].add(key)
        else:
            self._open[order.account].discard(key)

    def find(
        self, account: str, venue: str, client_order_id: str | None, venue_order_id: str | None
    ) -> OrderKey | None:
        """The order a venue message is about: by the client order id the venue knows it by
        (`Order.id_at_venue`), else by venue order id."""
        if client_order_id is not None:
            found = self._by_venue_client_id.get((account, client_order_id))
            if found is not None:
                return found
        if venue_order_id is not None:
            return self._by_venue_id.get((account, venue, venue_order_id))
        return None

    def with_venue_order_id(self, account: str, venue_order_id: str) -> list[Order]:
        """The account's orders (on any venue) that carry `venue_order_id`."""
        keys = self._venue_id_any.get((account, venue_order_id), {})
        return [self._orders[key] for key in keys]

    def with_client_order_id(self, account: str, client_order_id: str) -> list[Order]:
        """The account's orders, of any session, that carry `client_order_id`."""
        keys = self._by_client_id.get((account, client_order_id), {})
        return [self._orders[key] for key in keys]

    def account_orders(self, account: str) -> list[Order]:
        return [self._orders[key] for key in self._by_account.get(account, {})]

    def session_orders(self, account: str, session_id: str) -> list[Order]:
        return [self._orders[key] for key in self._by_session.get((account, session_id), {})]

    def open_count(self, account: str) -> int:
        return len(self._open.get(account, ()))
