"""Order, trade and ledger queries with Kraken's paging rules."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.errors import KrakenError
from simulator.engine.model import AmendRecord, Fill, LedgerEntry, Order, Page
from simulator.engine.parsing import parse_decimal
from simulator.engine.queries import page
from simulator.engine.spot_state import SpotState


class SpotHistory(SpotState):
    """Order, trade and ledger queries with Kraken's paging rules."""

    def order_amends(self, account_id: str, txid: str) -> list[AmendRecord]:
        """OrderAmends history: the original placement followed by each amend."""
        order = self._orders.get(txid)
        if order is None or order.account_id != account_id:
            raise KrakenError(E.UNKNOWN_ORDER)
        return list(self._amends[txid])

    def open_orders(
        self, account_id: str, userref: int | None = None, cl_ord_id: str | None = None
    ) -> list[Order]:
        """OpenOrders (pending and open), oldest first."""
        self.account(account_id)
        return [
            o.snapshot()
            for o in self._open[account_id].values()
            if (userref is None or o.userref == userref)
            and (cl_ord_id is None or o.cl_ord_id == cl_ord_id)
        ]

    def open_order_count(self, account_id: str, pair_id: str) -> int:
        """Open orders of one pair (the per-pair limit of wire 5.2), without snapshots."""
        self.account(account_id)
        return sum(1 for o in self._open[account_id].values() if o.pair == pair_id)

    def closed_orders(
        self,
        account_id: str,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
        closetime: str = "both",
    ) -> Page[Order]:
        """ClosedOrders: newest first, 50 per page; start/end are unix times or txids."""
        self.account(account_id)
        rows = [
            o
            for o in self._closed[account_id]
            if (userref is None or o.userref == userref)
            and (cl_ord_id is None or o.cl_ord_id == cl_ord_id)
        ]

        def time_of(o: Order) -> Decimal:
            if closetime == "open":
                return o.opentm
            return o.closetm or o.opentm

        result = page(rows, time_of, start=self._bound(start), end=self._bound(end), ofs=ofs)
        return Page([o.snapshot() for o in result.items], result.count)

    def _bound(self, value: Decimal | str | None) -> Decimal | None:
        """A start/end filter: unix seconds, or a txid meaning that order's opentm."""
        if value is None or value == "":
            return None
        if isinstance(value, str) and value in self._orders:
            return self._orders[value].opentm
        if isinstance(value, str) and value in self._fills_by_txid:
            return self._fills_by_txid[value].time
        return parse_decimal(value, "start")

    def query_orders(
        self, account_id: str, txids: Sequence[str], userref: int | None = None
    ) -> list[Order]:
        """QueryOrders (<= 50 txids); unknown or foreign ids: `EOrder:Invalid order`."""
        self.account(account_id)
        if not txids or len(txids) > 50:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        out = []
        for txid in txids:
            order = self._orders.get(txid)
            if order is None or order.account_id != account_id:
                raise KrakenError("EOrder:Invalid order")
            if userref is None or order.userref == userref:
                out.append(order.snapshot())
        return out

    def trades_history(
        self,
        account_id: str,
        *,
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
    ) -> Page[Fill]:
        """TradesHistory: newest first, 50 per page."""
        self.account(account_id)
        return page(
            self._fills[account_id],
            lambda f: f.time,
            start=self._bound(start),
            end=self._bound(end),
            ofs=ofs,
        )

    def query_trades(self, account_id: str, txids: Sequence[str]) -> list[Fill]:
        """QueryTrades (<= 20 trade txids)."""
        if not txids or len(txids) > 20:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        out = []
        for txid in txids:
            fill = self._fills_by_txid.get(txid)
            if fill is None or fill.account_id != account_id:
                raise KrakenError("EGeneral:Invalid arguments:txid")
            out.append(fill)
        return out

    def ledgers(
        self,
        account_id: str,
        *,
        assets: Sequence[str] = (),
        kind: str = "all",
        start: Decimal | str | None = None,
        end: Decimal | str | None = None,
        ofs: int = 0,
    ) -> Page[LedgerEntry]:
        """Ledgers: newest first, 50 per page, filtered by assets (any spelling) and type."""
        wanted = {self.asset_id(a) for a in assets if a and a != "all"}
        rows = [
            e
            for e in self.account(account_id).ledger
            if (not wanted or e.asset in wanted) and (kind == "all" or e.type == kind)
        ]
        return page(rows, lambda e: e.time, start=self._bound(start), end=self._bound(end), ofs=ofs)

    def query_ledgers(self, account_id: str, ids: Sequence[str]) -> list[LedgerEntry]:
        """QueryLedgers (<= 20 ids)."""
        by_id = {e.id: e for e in self.account(account_id).ledger}
        if not ids or len(ids) > 20 or any(i not in by_id for i in ids):
            raise KrakenError("EGeneral:Invalid arguments:id")
        return [by_id[i] for i in ids]
