"""Turning an AddOrder request into an order, or refusing it with Kraken's exact error."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from simulator.engine import errors as E
from simulator.engine.errors import KrakenError
from simulator.engine.funds import HUNDRED, AccountState, hold_for, round_down
from simulator.engine.model import (
    OFLAGS,
    ZERO,
    Order,
    OrderParams,
    OrderType,
    Side,
    StpType,
    TimeInForce,
    TriggerRef,
)
from simulator.engine.pairs import KrakenPair
from simulator.engine.parsing import (
    parse_decimal,
    parse_price_spec,
    parse_time_spec,
    quantize_down,
    resolve_price,
)
from simulator.engine.spot_state import SpotState
from simulator.engine.triggers import trail

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_TEXT = re.compile(r"^[\x20-\x7e]{1,18}$")
_INT32 = 2**31
_EnumT = TypeVar("_EnumT", bound=StrEnum)


def _enum(kind: type[_EnumT], value: object, field: str) -> _EnumT:
    try:
        return kind(str(value))
    except ValueError:
        raise KrakenError(f"EGeneral:Invalid arguments:{field}") from None


def valid_cl_ord_id(value: str) -> bool:
    """Kraken accepts a long UUID, a 32-hex short UUID, or free printable ASCII of <= 18 chars."""
    return bool(_UUID.match(value) or _HEX32.match(value) or _FREE_TEXT.match(value))


class SpotValidation(SpotState):
    """Turning an AddOrder request into an order, or refusing it with Kraken's exact error."""

    def _build(self, account: AccountState, p: OrderParams, check_funds: bool = True) -> Order:
        """Validate a request and turn it into an (unplaced) order."""
        pair = self.pair(p.pair)
        now = self.clock.now()
        p = self._normalise(p)
        volume = quantize_down(parse_decimal(p.volume, "volume"), pair.lot_decimals)
        if volume <= 0:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        oflags = frozenset(f.strip() for f in p.oflags if f.strip())
        if not oflags <= OFLAGS or {"fcib", "fciq"} <= oflags:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        kind = p.ordertype
        quote_volume: Decimal | None = None
        if "viqc" in oflags:
            if kind is not OrderType.MARKET or p.side is not Side.BUY:
                raise KrakenError("EGeneral:Invalid arguments:viqc")
            quote_volume = volume
        elif volume < pair.ordermin:
            raise KrakenError(E.VOLUME_MINIMUM)
        if "post" in oflags and kind not in (OrderType.LIMIT, OrderType.ICEBERG):
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        if p.cl_ord_id is not None and p.userref is not None:
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        if p.cl_ord_id is not None:
            if not valid_cl_ord_id(p.cl_ord_id):
                raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
            if p.cl_ord_id in self._cl_ord_ids[account.id]:
                raise KrakenError("EOrder:Duplicate cl_ord_id")
        if p.userref is not None and not -_INT32 <= p.userref < _INT32:
            raise KrakenError("EGeneral:Invalid arguments:userref")
        if p.reduce_only and (p.leverage in (None, "none")):
            raise KrakenError("EOrder:Reduce only:Non-PC")
        if p.trigger is TriggerRef.INDEX and kind.is_triggered and not pair.has_index:
            raise KrakenError(E.INDEX_UNAVAILABLE)
        tif = p.timeinforce
        if tif is TimeInForce.FOK and kind is not OrderType.LIMIT:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        if tif in (TimeInForce.IOC, TimeInForce.FOK) and "post" in oflags:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        starttm = parse_time_spec(p.starttm, now, "starttm")
        expiretm = parse_time_spec(p.expiretm, now, "expiretm")
        if tif is TimeInForce.GTD and expiretm == 0:
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        if expiretm and expiretm < max(now, starttm) + 5:
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        order = Order(
            txid="",
            account_id=account.id,
            pair=pair.id,
            side=p.side,
            ordertype=kind,
            volume=volume,
            opentm=now,
            trigger=p.trigger,
            oflags=oflags,
            timeinforce=tif,
            starttm=starttm,
            expiretm=expiretm,
            userref=p.userref,
            cl_ord_id=p.cl_ord_id,
            stptype=p.stptype,
            leverage=p.leverage,
            reduce_only=p.reduce_only,
            close=p.close,
            quote_volume=quote_volume,
            last_modified=now,
        )
        order.fee_asset = pair.base if "fcib" in oflags else pair.quote
        order.hold_asset = pair.base if p.side is Side.SELL else pair.quote
        order.taker_pct, order.maker_pct = self.fee_rates(account.id, pair.id)
        self._set_prices(order, p, pair)
        if quote_volume is not None:
            self._size_viqc(order, pair)
        elif order.limit_price is not None and volume * order.limit_price < pair.costmin:
            raise KrakenError(E.COST_MINIMUM)
        if kind is OrderType.ICEBERG:
            if p.displayvol is None:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
            display = quantize_down(parse_decimal(p.displayvol, "displayvol"), pair.lot_decimals)
            if display <= 0 or display > volume or display * 15 < volume:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
            order.displayvol = display
        if "post" in oflags and not starttm > now and self._would_take(order):
            raise KrakenError(E.POST_ONLY)
        if check_funds:
            self._check_funds(account, order, pair)
        return order

    @staticmethod
    def _normalise(p: OrderParams) -> OrderParams:
        """Enum fields given as plain strings (front ends pass wire text) become enums."""
        return replace(
            p,
            side=_enum(Side, p.side, "type"),
            ordertype=_enum(OrderType, p.ordertype, "ordertype"),
            trigger=_enum(TriggerRef, p.trigger, "trigger"),
            timeinforce=_enum(TimeInForce, str(p.timeinforce).upper(), "timeinforce"),
            stptype=_enum(StpType, p.stptype, "stptype"),
        )

    def _set_prices(self, order: Order, p: OrderParams, pair: KrakenPair) -> None:
        kind = order.ordertype
        if kind is OrderType.MARKET:
            return
        if p.price is None:
            raise KrakenError("EGeneral:Invalid arguments:price")
        spec = parse_price_spec(p.price, "price")
        reference = self._trigger_reference(order)
        # Relative prices move from the trigger's reference for triggered types, else from last.
        base = reference if kind.is_triggered else self.last_price(pair.id)
        if kind.is_trailing:
            if spec.sign not in ("+", ""):
                raise KrakenError("EGeneral:Invalid arguments:price")
            order.trailing_offset, order.trailing_pct = spec.value, spec.percent
            if spec.value <= 0:
                raise KrakenError("EGeneral:Invalid arguments:price")
            order.price_text = "+" + spec.text().lstrip("+")
            trail(order, reference, pair)
        else:
            order.price = resolve_price(spec, base, order.side, kind, pair)
        if not kind.has_limit_after_trigger:
            return
        if p.price2 is None:
            raise KrakenError("EGeneral:Invalid arguments:price2")
        spec2 = parse_price_spec(p.price2, "price2")
        if kind is OrderType.TRAILING_STOP_LIMIT:
            if spec2.sign not in ("+", "-"):
                raise KrakenError("EGeneral:Invalid arguments:price2")
            order.limit_offset = spec2.value if spec2.sign == "+" else -spec2.value
            order.limit_offset_pct = spec2.percent
            order.price2_text = spec2.text()
        else:
            order.price2 = resolve_price(spec2, base, order.side, kind, pair)

    def _size_viqc(self, order: Order, pair: KrakenPair) -> None:
        """A viqc market buy spends a quote amount; its base volume is bounded by the best ask."""
        assert order.quote_volume is not None
        if order.quote_volume < pair.costmin:
            raise KrakenError(E.COST_MINIMUM)
        best = self._books[pair.id].best_price(Side.SELL) or self.reference[pair.id]
        order.volume = quantize_down(order.quote_volume / best, pair.lot_decimals)
        if order.volume <= 0:
            raise KrakenError(E.VOLUME_MINIMUM)

    def _would_take(self, order: Order) -> bool:
        limit = order.limit_price
        best = self._books[order.pair].best_price(order.side.opposite)
        if limit is None or best is None:
            return False
        return best <= limit if order.side is Side.BUY else best >= limit

    def _check_funds(self, account: AccountState, order: Order, pair: KrakenPair) -> None:
        asset, amount = hold_for(order, pair, self.directory.assets)
        if order.side is Side.BUY and order.ordertype is OrderType.MARKET:
            asset, amount = pair.quote, self._market_buy_estimate(order, pair)
        if account.available(asset) < amount:
            raise KrakenError(E.INSUFFICIENT_FUNDS)

    def _market_buy_estimate(self, order: Order, pair: KrakenPair) -> Decimal:
        """Quote a market buy would spend walking the current asks, fee included."""
        if order.quote_volume is not None:
            spend = order.quote_volume
        else:
            left, spend = order.volume, ZERO
            book = self._books[pair.id]
            for price in book.prices(Side.SELL):
                qty = book.level_qty(Side.SELL, price)
                take = min(left, qty)
                spend += price * take
                left -= take
                if left <= 0:
                    break
            spend += left * (book.best_price(Side.SELL) or self.reference[pair.id])
        rate = order.taker_pct / HUNDRED if not order.fee_in_base else ZERO
        return round_down(spend * (1 + rate), self.directory.assets[pair.quote].decimals)
