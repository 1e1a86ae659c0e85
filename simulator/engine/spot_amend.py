"""AmendOrder (in place, same txid) and EditOrder (cancel and replace with a new txid)."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.descr import order_text
from simulator.engine.errors import KrakenError
from simulator.engine.events import ExecType
from simulator.engine.funds import hold_for
from simulator.engine.model import (
    ZERO,
    AmendResult,
    EditResult,
    Order,
    OrderParams,
    OrderStatus,
    OrderType,
)
from simulator.engine.pairs import KrakenPair
from simulator.engine.parsing import parse_decimal, parse_price_spec, quantize_down, resolve_price
from simulator.engine.spot_matching import SpotMatching
from simulator.engine.triggers import trail


class SpotAmend(SpotMatching):
    """AmendOrder (in place, same txid) and EditOrder (cancel and replace with a new txid)."""

    def amend_order(
        self,
        account_id: str,
        *,
        txid: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: Decimal | str | None = None,
        display_qty: Decimal | str | None = None,
        limit_price: Decimal | str | None = None,
        trigger_price: Decimal | str | None = None,
        post_only: bool = False,
    ) -> AmendResult:
        """AmendOrder in place: same txid; queue priority kept unless price changes or qty grows."""
        self.account(account_id)
        if (txid is None) == (cl_ord_id is None):
            raise KrakenError("EGeneral:Invalid arguments:txid")
        order = self._open[account_id].get(txid) if txid else None
        if cl_ord_id is not None:
            found = self._find(account_id, cl_ord_id=cl_ord_id)
            order = found[0] if found else None
        if order is None:
            raise KrakenError(E.UNKNOWN_ORDER)
        pair = self.directory.pairs[order.pair]
        new = order.snapshot()
        if order_qty is not None:
            new.volume = quantize_down(parse_decimal(order_qty, "order_qty"), pair.lot_decimals)
            if new.volume <= 0 or new.volume < min(pair.ordermin, order.volume):
                raise KrakenError("EGeneral:Invalid arguments:order_qty")
            new.volume = max(new.volume, order.vol_exec)  # below the filled qty: rest is cancelled
        if display_qty is not None:
            if order.displayvol is None:
                raise KrakenError("EGeneral:Invalid arguments:display_qty")
            new.displayvol = quantize_down(
                parse_decimal(display_qty, "display_qty"), pair.lot_decimals
            )
            if new.displayvol <= 0 or new.displayvol * 15 < max(new.remaining, ZERO):
                raise KrakenError("EGeneral:Invalid arguments:display_qty")
        if limit_price is not None:
            if order.limit_price is None and not order.ordertype.has_limit_after_trigger:
                raise KrakenError("EGeneral:Invalid arguments:limit_price")
            spec = parse_price_spec(limit_price, "limit_price")
            if order.ordertype is OrderType.TRAILING_STOP_LIMIT and not order.triggered:
                if spec.sign not in ("+", "-"):  # still an offset from the future trigger
                    raise KrakenError("EGeneral:Invalid arguments:limit_price")
                new.limit_offset = spec.value if spec.sign == "+" else -spec.value
                new.limit_offset_pct, new.price2_text = spec.percent, spec.text()
            else:
                base = self._trigger_reference(order)
                price = resolve_price(spec, base, order.side, order.ordertype, pair)
                if order.ordertype in (OrderType.LIMIT, OrderType.ICEBERG):
                    new.price = price
                else:
                    new.price2 = price
        if trigger_price is not None:
            if not order.ordertype.is_triggered or order.triggered:
                raise KrakenError("EGeneral:Invalid arguments:trigger_price")
            spec = parse_price_spec(trigger_price, "trigger_price")
            if order.ordertype.is_trailing:
                if spec.sign not in ("+", "") or spec.value <= 0:
                    raise KrakenError("EGeneral:Invalid arguments:trigger_price")
                new.trailing_offset, new.trailing_pct = spec.value, spec.percent
                new.price_text = "+" + spec.text().lstrip("+")
                new.peak_price = None
                trail(new, self._trigger_reference(order), pair)
            else:
                base = self._trigger_reference(order)
                new.price = resolve_price(spec, base, order.side, order.ordertype, pair)
        if post_only and order.txid in self._books[pair.id] and self._would_take(new):
            raise KrakenError(E.POST_ONLY)
        if new.remaining > 0:
            asset, need = hold_for(new, pair, self.directory.assets)
            if self._accounts[account_id].available(asset) + order.hold_amount < need:
                raise KrakenError(E.INSUFFICIENT_FUNDS)
        return self._apply_amend(order, new, pair)

    def _apply_amend(self, order: Order, new: Order, pair: KrakenPair) -> AmendResult:
        now = self.clock.now()
        book = self._books[pair.id]
        in_book = order.txid in book
        keeps_priority = new.limit_price == order.limit_price and new.volume <= order.volume
        if in_book and not keeps_priority:
            old_price = order.limit_price or ZERO
            self._book_event(pair.id, order.side, old_price, book.remove(order.txid))
        for name in (
            "volume",
            "displayvol",
            "price",
            "price2",
            "trailing_offset",
            "trailing_pct",
            "peak_price",
            "limit_offset",
            "limit_offset_pct",
            "price_text",
            "price2_text",
        ):
            setattr(order, name, getattr(new, name))
        order.amended, order.last_modified = True, now
        if "amended" not in order.misc:
            order.misc += ("amended",)
        amend_id = self.ids.amend_id()
        self._amends[order.txid].append(self._amend_record(order, "user", now, amend_id))
        if order.remaining <= 0:
            self._emit(order, ExecType.AMENDED, amend_id=amend_id)
            self._finish(order, OrderStatus.CLOSED, ExecType.FILLED, None)
            self._place_closes()
            return AmendResult(amend_id, order.snapshot())
        self._refresh_hold(order)
        if in_book and keeps_priority:
            visible = order.remaining
            if order.displayvol is not None:
                order.display_remaining = min(
                    order.display_remaining, order.displayvol, order.remaining
                )
                visible = order.display_remaining
            level = book.set_qty(order.txid, visible)
            self._book_event(pair.id, order.side, order.limit_price or ZERO, level)
        self._emit(order, ExecType.AMENDED, amend_id=amend_id)
        if in_book and not keeps_priority:
            self._match(order, pair)
            if order.is_open:
                self._rest(order)
            self._check_triggers(pair.id)
        elif order.txid in self._stops[pair.id]:
            self._check_triggers(pair.id, force=True)
        self._place_closes()
        return AmendResult(amend_id, order.snapshot())

    def edit_order(
        self,
        account_id: str,
        txid: str,
        pair: str,
        *,
        volume: Decimal | str | None = None,
        displayvol: Decimal | str | None = None,
        price: Decimal | str | None = None,
        price2: Decimal | str | None = None,
        oflags: frozenset[str] | None = None,
        userref: int | None = None,
        validate: bool = False,
    ) -> EditResult:
        """EditOrder: cancel the original and place a replacement with a new txid.

        Refused for triggered stops, orders with a conditional close and orders with a cl_ord_id;
        the new volume may not be below what already executed (fills stay on the original).
        """
        self.account(account_id)
        pair_info = self.pair(pair)
        found = self._find(account_id, txid)
        if len(found) != 1:
            raise KrakenError(E.UNKNOWN_ORDER if not found else "EOrder:Invalid order")
        original = found[0]
        if original.pair != pair_info.id:
            raise KrakenError("EGeneral:Invalid arguments:pair")
        if original.triggered or original.close is not None or original.cl_ord_id is not None:
            raise KrakenError(E.INVALID_ORDER)
        if original.ordertype is OrderType.MARKET:
            raise KrakenError(E.INVALID_ORDER)
        new_volume = (
            original.volume
            if volume is None
            else quantize_down(parse_decimal(volume, "volume"), pair_info.lot_decimals)
        )
        if new_volume <= original.vol_exec:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        flags = original.oflags - {"post"}
        if oflags is not None:
            flags |= {"post"} & oflags
        params = OrderParams(
            pair=pair_info.id,
            side=original.side,
            ordertype=original.ordertype,
            volume=new_volume - original.vol_exec,
            price=price if price is not None else original.price_text or original.price,
            price2=price2 if price2 is not None else original.price2_text or original.price2,
            displayvol=displayvol if displayvol is not None else original.displayvol,
            trigger=original.trigger,
            oflags=flags,
            timeinforce=original.timeinforce,
            expiretm=original.expiretm or None,
            userref=userref if userref is not None else original.userref,
            stptype=original.stptype,
            leverage=original.leverage,
        )
        account = self._accounts[account_id]
        account.holds[original.hold_asset] -= (
            original.hold_amount
        )  # its funds are freed by the edit
        try:
            replacement = self._build(account, params)
        finally:
            account.holds[original.hold_asset] += original.hold_amount
        descr = order_text(replacement, pair_info)
        new_txid: str | None = None
        if not validate:
            self._finish(original, OrderStatus.CANCELED, ExecType.CANCELED, E.REASON_EDIT)
            self._accept(replacement)
            new_txid = replacement.txid
        return EditResult(
            txid=new_txid,
            originaltxid=original.txid,
            volume=new_volume,
            price=replacement.price,
            price2=replacement.price2,
            orders_cancelled=0 if validate else 1,
            descr_order=descr,
            newuserref=replacement.userref if userref is not None else None,
            olduserref=original.userref if userref is not None else None,
            order=None if validate else replacement.snapshot(),
        )
