"""WS v2 trading methods (wire 6.5) translated to engine calls.

Each method takes the request `params` and returns the `result` objects to acknowledge (one for
most methods, one per cancelled order for `cancel_order`), or raises `KrakenError` with the
wire error. What is checked and charged before the engine is touched (permission, system status,
the per-pair trading counter, deadline, open-order limit) is simulator.spot.trading_policy,
shared with REST.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.model import (
    CloseParams,
    Order,
    OrderParams,
    OrderType,
    Side,
    StpType,
    TimeInForce,
    TriggerRef,
)
from simulator.engine.pairs import KrakenPair
from simulator.spot.dead_man import arm_dead_man_switch
from simulator.spot.trading_policy import SpotTradingPolicy, TradingAction, parse_deadline
from simulator.spot.ws_engine import SpotEngineLike
from simulator.wire.json_codec import JsonObject

INVALID = "EGeneral:Invalid arguments"
UNKNOWN_ORDER = "EOrder:Unknown order"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
BATCH_ADD_MAX = 15
BATCH_CANCEL_MAX = 50
# The `result` values to acknowledge: one per response message.
Results = list[Any]
TRADING_METHODS = frozenset(
    {
        "add_order",
        "amend_order",
        "edit_order",
        "cancel_order",
        "cancel_all",
        "cancel_all_orders_after",
        "batch_add",
        "batch_cancel",
    }
)


def invalid(name: str | None = None) -> KrakenError:
    return KrakenError(f"{INVALID}:{name}" if name else INVALID)


def _text(value: Any, name: str) -> str:
    """A decimal param (JSON number or string) as wire text for the engine's parser."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise invalid(name)
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _signed(value: Any, name: str, pct: bool) -> str:
    """A relative price (trailing offsets, pct/quote triggers) in REST's `+x` / `-x%` form."""
    text = _text(value, name)
    if not text.startswith(("+", "-")):
        text = "+" + text
    return text + "%" if pct else text


def _bool(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise invalid(name)
    return value


def _opt_str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(name)
    return value


def _opt_int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise invalid(name)
    return value


def _unix(value: Any, name: str) -> Decimal:
    if not isinstance(value, str):
        raise invalid(name)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(name) from exc
    return Decimal(str(when.timestamp()))


@dataclass
class Caller:
    """Who is trading: the key behind the request's token and its account."""

    key: KrakenApiKey
    account_id: str


class SpotWsTrading:
    """The trading methods of the auth endpoint."""

    def __init__(
        self,
        ctx: SimContext,
        engine: Callable[[], SpotEngineLike],
        pairs_by_symbol: dict[str, KrakenPair],
    ) -> None:
        self.ctx = ctx
        self.policy = SpotTradingPolicy(ctx)
        self._engine = engine
        self.pairs_by_symbol = pairs_by_symbol
        self._methods: dict[str, Callable[[Caller, dict[str, Any]], Results]] = {
            "add_order": self.add_order,
            "amend_order": self.amend_order,
            "edit_order": self.edit_order,
            "cancel_order": self.cancel_order,
            "cancel_all": self.cancel_all,
            "cancel_all_orders_after": self.cancel_all_orders_after,
            "batch_add": self.batch_add,
            "batch_cancel": self.batch_cancel,
        }

    def call(self, method: str, caller: Caller, params: dict[str, Any]) -> Results:
        return self._methods[method](caller, params)

    # -- policy --------------------------------------------------------------------------

    def _deadline(self, params: dict[str, Any]) -> None:
        self.policy.check_deadline(parse_deadline(params.get("deadline")))

    def _pair(self, symbol: Any) -> KrakenPair:
        if not isinstance(symbol, str):
            raise invalid("symbol")
        pair = self.pairs_by_symbol.get(symbol)
        if pair is None:
            raise KrakenError(UNKNOWN_PAIR)
        return pair

    def _open_orders(self, caller: Caller) -> Sequence[Order]:
        return self._engine().open_orders(caller.account_id)

    def _find(self, caller: Caller, ref: Any, field: str) -> list[Order]:
        orders = self._open_orders(caller)
        if field == "order_id":
            if isinstance(ref, str):
                return [o for o in orders if o.txid == ref]
            raise invalid("order_id")
        if field == "cl_ord_id":
            if isinstance(ref, str):
                return [o for o in orders if o.cl_ord_id == ref]
            raise invalid("cl_ord_id")
        if isinstance(ref, bool) or not isinstance(ref, int):
            raise invalid("order_userref")
        return [o for o in orders if o.userref == ref]

    # -- add -----------------------------------------------------------------------------

    def order_params(self, raw: dict[str, Any], symbol: Any) -> OrderParams:
        """WS v2 add_order fields -> the engine's REST-spelled `OrderParams`."""
        pair = self._pair(symbol)
        try:
            ordertype = OrderType(str(raw.get("order_type")))
            side = Side(str(raw.get("side")))
        except ValueError as exc:
            field = "order_type" if raw.get("order_type") not in set(OrderType) else "side"
            raise invalid(field) from exc
        oflags: set[str] = set()
        if _bool(raw, "post_only"):
            oflags.add("post")
        fee_preference = raw.get("fee_preference")
        if fee_preference is not None:
            if fee_preference not in ("base", "quote"):
                raise invalid("fee_preference")
            oflags.add("fcib" if fee_preference == "base" else "fciq")
        if "cash_order_qty" in raw:
            volume = _text(raw["cash_order_qty"], "cash_order_qty")
            oflags.add("viqc")
        elif "order_qty" in raw:
            volume = _text(raw["order_qty"], "order_qty")
        else:
            raise invalid("order_qty")
        price, price2, trigger = self._prices(ordertype, raw)
        tif_raw = raw.get("time_in_force", "gtc")
        try:
            tif = TimeInForce(str(tif_raw).upper())
        except ValueError as exc:
            raise invalid("time_in_force") from exc
        try:
            stp = StpType(str(raw.get("stp_type", "cancel_newest")).replace("_", "-"))
        except ValueError as exc:
            raise invalid("stp_type") from exc
        return OrderParams(
            pair=pair.id,
            side=side,
            ordertype=ordertype,
            volume=volume,
            price=price,
            price2=price2,
            displayvol=_text(raw["display_qty"], "display_qty") if "display_qty" in raw else None,
            trigger=trigger,
            oflags=frozenset(oflags),
            timeinforce=tif,
            starttm=_unix(raw["effective_time"], "effective_time")
            if "effective_time" in raw
            else None,
            expiretm=_unix(raw["expire_time"], "expire_time") if "expire_time" in raw else None,
            userref=_opt_int(raw, "order_userref"),
            cl_ord_id=_opt_str(raw, "cl_ord_id"),
            stptype=stp,
            leverage="2" if _bool(raw, "margin") else None,
            reduce_only=_bool(raw, "reduce_only"),
            close=self._conditional(raw.get("conditional")),
            validate=_bool(raw, "validate"),
        )

    @staticmethod
    def _prices(
        ordertype: OrderType, raw: dict[str, Any]
    ) -> tuple[str | None, str | None, TriggerRef]:
        """(price, price2, trigger) in REST terms: price = limit or trigger, price2 = limit."""
        limit = raw.get("limit_price")
        limit_type = raw.get("limit_price_type", "quote" if ordertype.is_trailing else "static")
        triggers = raw.get("triggers")
        if ordertype in (OrderType.MARKET, OrderType.LIMIT, OrderType.ICEBERG):
            price = _text(limit, "limit_price") if limit is not None else None
            return price, None, TriggerRef.LAST
        if not isinstance(triggers, dict) or "price" not in triggers:
            # deprecated flat form: stop_price / trigger
            if "stop_price" not in raw:
                raise invalid("triggers")
            triggers = {"price": raw["stop_price"], "reference": raw.get("trigger", "last")}
        try:
            reference = TriggerRef(triggers.get("reference", "last"))
        except ValueError as exc:
            raise invalid("triggers") from exc
        price_type = triggers.get("price_type", "static")
        if ordertype.is_trailing or price_type in ("pct", "quote"):
            trigger = _signed(triggers["price"], "triggers", price_type == "pct")
        else:
            trigger = _text(triggers["price"], "triggers")
        price2 = None
        if ordertype.has_limit_after_trigger:
            if limit is None:
                raise invalid("limit_price")
            if limit_type == "static":
                price2 = _text(limit, "limit_price")
            else:
                price2 = _signed(limit, "limit_price", limit_type == "pct")
        return trigger, price2, reference

    @staticmethod
    def _conditional(raw: Any) -> CloseParams | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise invalid("conditional")
        try:
            ordertype = OrderType(str(raw.get("order_type")))
        except ValueError as exc:
            raise invalid("conditional") from exc
        trigger = raw.get("trigger_price", raw.get("stop_price"))
        limit = raw.get("limit_price")
        if ordertype.is_triggered:
            price = _text(trigger, "conditional") if trigger is not None else None
            price2 = _text(limit, "conditional") if limit is not None else None
        else:
            price = _text(limit, "conditional") if limit is not None else None
            price2 = None
        return CloseParams(ordertype, price, price2)

    def _add_result(self, order_id: str | None, params: OrderParams) -> JsonObject:
        result: JsonObject = {}
        if order_id is not None:
            result["order_id"] = order_id
        if params.cl_ord_id is not None:
            result["cl_ord_id"] = params.cl_ord_id
        result["order_userref"] = params.userref or 0
        return result

    def add_order(self, caller: Caller, params: dict[str, Any]) -> Results:
        self.policy.permit(caller.key, TradingAction.ADD)
        # The fixed +1 applies on receipt, even when the request then fails validation (wire 5.2).
        self.policy.charge_add(caller.account_id, self._pair(params.get("symbol")).id)
        order = self.order_params(params, params.get("symbol"))
        self.policy.check_status(TradingAction.ADD, post_only="post" in order.oflags)
        self._deadline(params)
        self.policy.check_open_orders(caller.account_id, order.pair, 1, order.validate)
        added = self._engine().add_order(caller.account_id, order)
        return [self._add_result(added.txid, order)]

    def batch_add(self, caller: Caller, params: dict[str, Any]) -> Results:
        raw_orders = params.get("orders")
        self.policy.permit(caller.key, TradingAction.BATCH_ADD)
        pair_id = self._pair(params.get("symbol")).id
        if not isinstance(raw_orders, list) or not 2 <= len(raw_orders) <= BATCH_ADD_MAX:
            raise invalid("orders")
        self.policy.charge_add(caller.account_id, pair_id, len(raw_orders))
        if not all(isinstance(o, dict) for o in raw_orders):
            raise invalid("orders")
        batch_validate = _bool(params, "validate")
        orders = [self.order_params(o, params.get("symbol")) for o in raw_orders]
        all_post = all("post" in o.oflags for o in orders)
        self.policy.check_status(TradingAction.BATCH_ADD, post_only=all_post)
        self._deadline(params)
        self.policy.check_open_orders(caller.account_id, pair_id, len(orders), batch_validate)
        # The engine validates the whole batch first; a later reject (funds) fills its slot.
        placed = self._engine().add_order_batch(
            caller.account_id, pair_id, orders, validate=batch_validate
        )
        results: list[JsonObject] = []
        for order, outcome in zip(orders, placed, strict=True):
            if isinstance(outcome, KrakenError):
                failed = self._add_result(None, order)
                failed["error"] = outcome.code
                results.append(failed)
            else:
                results.append(self._add_result(outcome.txid, order))
        return [results]

    # -- amend / edit --------------------------------------------------------------------

    def _target(self, caller: Caller, params: dict[str, Any]) -> Order | None:
        """The open order `order_id` (or `cl_ord_id`) names; None when there is none."""
        if "order_id" in params:
            found = self._find(caller, params["order_id"], "order_id")
        elif "cl_ord_id" in params:
            found = self._find(caller, params["cl_ord_id"], "cl_ord_id")
        else:
            raise invalid("order_id")
        return found[0] if found else None

    def amend_order(self, caller: Caller, params: dict[str, Any]) -> Results:
        post_only = params.get("post_only")
        if post_only is not None and not isinstance(post_only, bool):
            raise invalid("post_only")
        self.policy.admit(caller.key, TradingAction.AMEND, post_only=bool(post_only))
        found = self._target(caller, params)
        self.policy.charge_change(caller.account_id, TradingAction.AMEND, found)
        self._deadline(params)
        if found is None:
            raise KrakenError(UNKNOWN_ORDER)
        order = found

        # A trailing-stop-limit's limit is an offset from the trigger until it fires: like
        # add_order, an amend without `limit_price_type` then means `quote` (docs are silent).
        limit_default = (
            "quote"
            if order.ordertype is OrderType.TRAILING_STOP_LIMIT and not order.triggered
            else "static"
        )

        def opt(name: str, relative_type: str | None = None, default: str = "static") -> str | None:
            if name not in params:
                return None
            value_type = params.get(relative_type, default) if relative_type else default
            if value_type not in ("static", "pct", "quote"):
                raise invalid(relative_type)
            if value_type in ("pct", "quote"):
                return _signed(params[name], name, value_type == "pct")
            return _text(params[name], name)

        amended = self._engine().amend_order(
            caller.account_id,
            txid=order.txid,
            order_qty=opt("order_qty"),
            display_qty=opt("display_qty"),
            limit_price=opt("limit_price", "limit_price_type", limit_default),
            trigger_price=opt("trigger_price", "trigger_price_type"),
            post_only=bool(post_only),
        )
        result: JsonObject = {"amend_id": amended.amend_id}
        if "order_id" in params:
            result["order_id"] = order.txid
        if order.cl_ord_id is not None and "cl_ord_id" in params:
            result["cl_ord_id"] = order.cl_ord_id
        return [result]

    def edit_order(self, caller: Caller, params: dict[str, Any]) -> Results:
        if "order_id" not in params or "symbol" not in params:
            raise invalid("order_id" if "order_id" not in params else "symbol")
        pair = self._pair(params["symbol"])
        found = self._target(caller, {"order_id": params["order_id"]})
        if found is not None and found.pair != pair.id:
            raise invalid("symbol")
        post_only = _bool(params, "post_only", found is not None and found.post_only)
        self.policy.admit(caller.key, TradingAction.EDIT, post_only=post_only)
        self.policy.charge_change(caller.account_id, TradingAction.EDIT, found)
        self._deadline(params)
        if found is None:
            raise KrakenError(UNKNOWN_ORDER)
        order = found
        oflags = set(order.oflags) - {"post"}
        if post_only:
            oflags.add("post")
        limit = params.get("limit_price", params.get("price"))
        edited = self._engine().edit_order(
            caller.account_id,
            order.txid,
            pair.id,
            volume=_text(params["order_qty"], "order_qty") if "order_qty" in params else None,
            price=_text(limit, "limit_price") if limit is not None else None,
            displayvol=_text(params["display_qty"], "display_qty")
            if "display_qty" in params
            else None,
            userref=_opt_int(params, "order_userref"),
            oflags=frozenset(oflags),
            validate=_bool(params, "validate"),
        )
        result: JsonObject = {"original_order_id": edited.originaltxid}
        if edited.txid is not None:  # None for validate=true
            result = {"order_id": edited.txid, **result}
        return [result]

    # -- cancels -------------------------------------------------------------------------

    def cancel_order(self, caller: Caller, params: dict[str, Any]) -> Results:
        self.policy.admit(caller.key, TradingAction.CANCEL)
        targets: list[Order] = []
        refs = 0
        for field in ("order_id", "cl_ord_id", "order_userref"):
            values = params.get(field)
            if values is None:
                continue
            if not isinstance(values, list):
                values = [values]
            for ref in values:
                refs += 1
                found = self._find(caller, ref, field)
                if not found:
                    raise KrakenError(UNKNOWN_ORDER)
                targets.extend(o for o in found if o not in targets)
        if refs == 0:
            raise invalid("order_id")
        self.policy.charge_cancels(caller.account_id, targets, batch=False)
        results: list[JsonObject] = []
        engine = self._engine()
        for order in targets:
            engine.cancel_order(caller.account_id, order.txid)
            result: JsonObject = {"order_id": order.txid}
            if order.cl_ord_id is not None:
                result["cl_ord_id"] = order.cl_ord_id
            results.append(result)
        return results

    def cancel_all(self, caller: Caller, params: dict[str, Any]) -> Results:
        self.policy.admit(caller.key, TradingAction.CANCEL_ALL)
        return [{"count": self._engine().cancel_all(caller.account_id)}]

    def cancel_all_orders_after(self, caller: Caller, params: dict[str, Any]) -> Results:
        self.policy.admit(caller.key, TradingAction.CANCEL_AFTER)
        timeout = params.get("timeout")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout < 86400:
            raise invalid("timeout")
        # The same per-account timer as REST CancelAllOrdersAfter.
        return [arm_dead_man_switch(self.ctx, caller.account_id, timeout)]

    def batch_cancel(self, caller: Caller, params: dict[str, Any]) -> Results:
        self.policy.admit(caller.key, TradingAction.BATCH_CANCEL)
        refs = params.get("orders", [])
        cl_ids = params.get("cl_ord_id", [])
        if not isinstance(refs, list) or not isinstance(cl_ids, list):
            raise invalid("orders")
        if not 1 <= len(refs) + len(cl_ids) <= BATCH_CANCEL_MAX:
            raise invalid("orders")
        targets: list[Order] = []
        for ref in refs:
            if isinstance(ref, str) and not ref.lstrip("-").isdigit():
                found = self._find(caller, ref, "order_id")
            else:
                found = self._find(caller, _userref(ref), "order_userref")
            targets.extend(o for o in found if o not in targets)
        for cl_id in cl_ids:
            targets.extend(o for o in self._find(caller, cl_id, "cl_ord_id") if o not in targets)
        self.policy.charge_cancels(caller.account_id, targets, batch=True)
        engine = self._engine()
        count = sum(engine.cancel_order(caller.account_id, o.txid) for o in targets)
        return [{"count": count}]


def _userref(ref: Any) -> int:
    try:
        return int(ref)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise invalid("orders") from exc
