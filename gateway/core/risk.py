"""Pre-trade risk per account (max order qty, max notional, price band, max open orders) and the
kill switch flag. Pure checks: the service cancels open orders when the switch goes on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.core.errors import ErrorReason, FailedPrecondition, RiskRejected
from gateway.core.model import Instrument, KillSwitch, OrderRequest, OrderType

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """None disables a limit. Notional is in the instrument's quote currency (qty * price *
    contract size); the band is a percentage around the last traded price."""

    max_order_qty: Decimal | None = None
    max_notional: Decimal | None = None
    price_band_pct: Decimal | None = None
    max_open_orders: int | None = None


NO_LIMITS = RiskLimits()


class RiskEngine:
    """Holds the limits, last prices and kill switches; `check` raises on a breach."""

    def __init__(self) -> None:
        self._limits: dict[str, RiskLimits] = {}
        self._last_price: dict[tuple[str, str], Decimal] = {}
        self._killed: dict[str, KillSwitch] = {}

    def set_limits(self, account: str, limits: RiskLimits) -> None:
        self._limits[account] = limits

    def limits(self, account: str) -> RiskLimits:
        return self._limits.get(account, NO_LIMITS)

    def update_last_price(self, venue: str, symbol: str, price: Decimal) -> None:
        self._last_price[(venue, symbol)] = price

    def last_price(self, venue: str, symbol: str) -> Decimal | None:
        return self._last_price.get((venue, symbol))

    def set_kill_switch(self, account: str, engaged: KillSwitch | None) -> None:
        """Engage (with its details) or release (None) the account's kill switch."""
        if engaged is not None:
            self._killed[account] = engaged
        else:
            self._killed.pop(account, None)

    def kill_switch(self, account: str) -> KillSwitch | None:
        return self._killed.get(account)

    def kill_switch_active(self, account: str) -> bool:
        return account in self._killed

    def check(
        self, account: str, request: OrderRequest, instrument: Instrument, open_orders: int
    ) -> None:
        """Raise FailedPrecondition(KILL_SWITCH_ACTIVE) or RiskRejected on a breach."""
        if account in self._killed:
            raise FailedPrecondition(
                "kill switch is active for this account", ErrorReason.KILL_SWITCH_ACTIVE
            )
        limits = self.limits(account)
        if limits.max_open_orders is not None and open_orders >= limits.max_open_orders:
            raise RiskRejected(
                f"account has {open_orders} open orders, limit {limits.max_open_orders}",
                ErrorReason.RISK_MAX_OPEN_ORDERS,
                metadata={"limit": str(limits.max_open_orders)},
            )
        qty = request.qty
        if limits.max_order_qty is not None and qty is not None and qty > limits.max_order_qty:
            raise RiskRejected(
                f"order qty {qty} exceeds limit {limits.max_order_qty}",
                ErrorReason.RISK_MAX_ORDER_QTY,
                metadata={"limit": str(limits.max_order_qty)},
            )
        last = self.last_price(instrument.venue, instrument.symbol)
        price = _reference_price(request) or last
        if limits.max_notional is not None:
            notional = _notional(request, instrument, price)
            if notional is not None and notional > limits.max_notional:
                raise RiskRejected(
                    f"order notional {notional} exceeds limit {limits.max_notional}",
                    ErrorReason.RISK_MAX_NOTIONAL,
                    metadata={"limit": str(limits.max_notional)},
                )
        band = limits.price_band_pct
        limit_price = request.price
        if band is not None and limit_price is not None and last is not None:
            distance = abs(limit_price - last) * _HUNDRED / last
            if distance > band:
                raise RiskRejected(
                    f"price {limit_price} is {distance:.2f}% from last {last}, band {band}%",
                    ErrorReason.RISK_PRICE_BAND,
                    metadata={"band_pct": str(band), "last_price": str(last)},
                )


def _reference_price(request: OrderRequest) -> Decimal | None:
    # The price the order can trade at: its limit, else its trigger.
    if request.order_type is OrderType.MARKET:
        return None
    return request.price if request.price is not None else request.stop_price


def _notional(
    request: OrderRequest, instrument: Instrument, price: Decimal | None
) -> Decimal | None:
    if request.quote_qty is not None:
        return request.quote_qty
    if request.qty is None:
        return None
    if instrument.settle is not None and instrument.settle == instrument.base:
        return request.qty * instrument.contract_size  # inverse contract: sized in quote units
    if price is None:
        return None  # market order without any known price: nothing to measure against
    return request.qty * price * instrument.contract_size
