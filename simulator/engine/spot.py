"""The Spot exchange: accounts, order entry, matching, triggers, expiry and history.

Pure and deterministic: no I/O, no asyncio. Time comes from the injected `Clock`, randomness
from `seed`. Front ends call the methods below, translate `KrakenError.code` into the wire
envelope and stream the events (`drain_events()` or `subscribe()`). Timers (expiry, starttm,
cancel-all-after, market maker refresh) advance only when a front end calls `tick()`.

`SpotEngine` is assembled from one mixin per concern over the shared `SpotState`:
`spot_validation` (AddOrder rules), `spot_matching` (lifecycle, matching, settlement, triggers),
`spot_amend` (AmendOrder/EditOrder), `spot_accounts` (money), `spot_history` (queries); this
module adds the request entry points (add, batch, cancel, dead man's switch) and `tick()`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.clock import Clock
from simulator.engine.descr import close_text, order_text
from simulator.engine.errors import KrakenError
from simulator.engine.events import ExecType
from simulator.engine.market_maker import MarketMaker
from simulator.engine.model import AddResult, CancelAfterResult, Order, OrderParams, OrderStatus
from simulator.engine.pairs import PairDirectory
from simulator.engine.spot_accounts import SpotAccounts
from simulator.engine.spot_amend import SpotAmend
from simulator.engine.spot_history import SpotHistory
from simulator.engine.spot_state import (
    FEE_ACCOUNT,
    FLOW_ACCOUNT,
    INTERNAL_ACCOUNTS,
    MAX_BATCH,
    MM_ACCOUNT,
    PairStats,
    Retention,
)
from simulator.engine.spot_validation import valid_cl_ord_id

__all__ = [
    "FEE_ACCOUNT",
    "FLOW_ACCOUNT",
    "INTERNAL_ACCOUNTS",
    "MM_ACCOUNT",
    "PairStats",
    "Retention",
    "SpotEngine",
    "valid_cl_ord_id",
]


class SpotEngine(SpotAmend, SpotAccounts, SpotHistory):
    """A deterministic Kraken Spot matching engine with a built-in market maker."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        directory: PairDirectory | None = None,
        market_maker: bool = True,
        mm_levels: int = 5,
        mm_interval: Decimal = Decimal(1),
        flow_pct: int = 0,
        record_events: bool = True,
        retention: Retention | None = None,
    ) -> None:
        """`flow_pct` > 0 adds a noise taker trading against the maker (percent per pair and
        interval); the default 0 keeps books quiet unless users trade. `record_events` keeps
        every event for `drain_events()` (tests); a server subscribes instead. `retention`:
        how much finished history is kept (`Retention`)."""
        super().__init__(
            seed=seed,
            clock=clock,
            directory=directory,
            record_events=record_events,
            retention=retention,
        )
        self.create_account(FEE_ACCOUNT, fee_exempt=True)
        self.market_maker: MarketMaker | None = None
        if market_maker:
            self.create_account(MM_ACCOUNT, fee_exempt=True)
            flow_id = None
            if flow_pct > 0:
                flow_id = self.create_account(FLOW_ACCOUNT, fee_exempt=True).id
            self.market_maker = MarketMaker(
                self, MM_ACCOUNT, seed, mm_levels, mm_interval, flow_id, flow_pct
            )
            self.market_maker.start()

    def add_order(self, account_id: str, params: OrderParams) -> AddResult:
        """AddOrder. Raises `KrakenError` with Kraken's string when the order is refused."""
        account = self.account(account_id)
        order = self._build(account, params)
        descr = order_text(order, self.directory.pairs[order.pair])
        if params.validate:
            return AddResult(None, descr, close_text(params.close) or None)
        self._accept(order)
        return AddResult(order.txid, descr, close_text(params.close) or None, order.snapshot())

    def add_order_batch(
        self, account_id: str, pair: str, orders: Sequence[OrderParams], validate: bool = False
    ) -> list[AddResult | KrakenError]:
        """AddOrderBatch: 2-15 orders on one pair; any validation error rejects the whole batch.

        After validation each order is placed in turn; a later failure (e.g. funds) is reported
        in its slot and does not stop the others.
        """
        account = self.account(account_id)
        pair_id = self.pair(pair).id
        if not 2 <= len(orders) <= MAX_BATCH:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        for params in orders:
            if self.pair(params.pair).id != pair_id:
                raise KrakenError("EGeneral:Invalid arguments:pair")
            self._build(account, params, check_funds=False)
        results: list[AddResult | KrakenError] = []
        for params in orders:
            try:
                results.append(self.add_order(account_id, replace(params, validate=validate)))
            except KrakenError as err:
                results.append(err)
        return results

    def cancel_order(
        self, account_id: str, txid: str | None = None, cl_ord_id: str | None = None
    ) -> int:
        """CancelOrder by txid, userref (all matching) or cl_ord_id; returns the count."""
        self.account(account_id)
        orders = self._find(account_id, txid, cl_ord_id)
        if not orders:
            raise KrakenError(E.UNKNOWN_ORDER)
        for order in orders:
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.CANCEL_REASON_USER)
        self._place_closes()
        return len(orders)

    def cancel_orders(
        self, account_id: str, ids: Iterable[str] = (), cl_ord_ids: Iterable[str] = ()
    ) -> int:
        """CancelOrderBatch (<= 50 ids); unknown ids are skipped; returns the count cancelled."""
        self.account(account_id)
        wanted = list(dict.fromkeys(ids)) + list(dict.fromkeys(cl_ord_ids))
        if len(wanted) > 50:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        found: dict[str, Order] = {}
        for ident in dict.fromkeys(ids):
            found.update((o.txid, o) for o in self._find(account_id, ident))
        for ident in dict.fromkeys(cl_ord_ids):
            found.update((o.txid, o) for o in self._find(account_id, cl_ord_id=ident))
        for order in found.values():
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, E.CANCEL_REASON_USER)
        self._place_closes()
        return len(found)

    def cancel_all(self, account_id: str, reason: str = E.CANCEL_REASON_USER) -> int:
        """CancelAll: every open order of the account."""
        self.account(account_id)
        orders = sorted(self._open[account_id].values(), key=lambda o: o.opentm)
        for order in orders:
            self._finish(order, OrderStatus.CANCELED, ExecType.CANCELED, reason)
        self._place_closes()
        return len(orders)

    def cancel_all_after(self, account_id: str, timeout: int) -> CancelAfterResult:
        """CancelAllOrdersAfter: arm (0 < timeout < 86400 s) or disarm (0) the dead man's switch."""
        account = self.account(account_id)
        if not 0 <= timeout < 86400:
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        now = self.clock.now()
        account.cancel_after = now + timeout if timeout else None
        return CancelAfterResult(now, account.cancel_after)

    def tick(self) -> None:
        """Run due timers at the clock's current time: starttm, expiry, dead man's switch,
        market maker refresh and index-triggered stops."""
        now = self.clock.now()
        while self._starts and self._starts[0][0] <= now:
            _, _, txid = heapq.heappop(self._starts)
            order = self._orders.get(txid)  # None: closed long ago and forgotten
            if order is not None and order.status is OrderStatus.PENDING:
                self._activate(order)
        while self._expiries and self._expiries[0][0] <= now:
            _, _, txid = heapq.heappop(self._expiries)
            order = self._orders.get(txid)
            if order is not None:
                self._finish(order, OrderStatus.EXPIRED, ExecType.EXPIRED, E.REASON_EXPIRED)
        for account in list(self._accounts.values()):
            if account.cancel_after is not None and account.cancel_after <= now:
                account.cancel_after = None
                self.cancel_all(account.id, E.REASON_CANCEL_AFTER)
        if self.market_maker is not None:
            self.market_maker.on_tick(now)
        self._place_closes()
