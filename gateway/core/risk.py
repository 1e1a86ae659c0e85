"""Pre-trade risk per account (max order qty, max notional, price band, max open orders) and the
kill switch flag. The checks are pure; the service cancels open orders when the switch goes on.

Prices are measured against the market, not against the account's own fills: the band and the
notional of orders without a price of their own (market, trailing stop) use the venue's
reference price (core/reference_prices.py: ticker mark, else mid of best bid/ask, else last),
and so does the base quantity of a quote-quantity order under `max_order_qty`. An order that a
limit needs a reference for, when there is no fresh one, is refused RISK_NO_REFERENCE_PRICE
unless the account allows trading without one (the checks needing it are then skipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.core.errors import ErrorReason, FailedPrecondition, RiskRejected
from gateway.core.model import Instrument, KillSwitch, OrderRequest, OrderType
from gateway.core.ports import MarketDataPort, TickerFeedPort
from gateway.core.reference_prices import ReferencePrices

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """None disables a limit. Notional is in the instrument's quote currency (qty * price *
    contract size); the band is a percentage around the market reference price, for limit and
    stop prices. A reference counts when its feed confirmed it within `reference_max_age_s`;
    the first order of a symbol waits up to `reference_wait_s` for the first one."""

    max_order_qty: Decimal | None = None
    max_notional: Decimal | None = None
    price_band_pct: Decimal | None = None
    max_open_orders: int | None = None
    allow_no_reference_price: bool = False
    reference_max_age_s: float = 10.0
    reference_wait_s: float = 2.0


NO_LIMITS = RiskLimits()


class RiskEngine:
    """Holds the limits, reference prices and kill switches; `check` raises on a breach."""

    def __init__(self, references: ReferencePrices | None = None) -> None:
        self._limits: dict[str, RiskLimits] = {}
        self.references = references or ReferencePrices()
        self._killed: dict[str, KillSwitch] = {}

    def set_limits(self, account: str, limits: RiskLimits) -> None:
        self._limits[account] = limits

    def limits(self, account: str) -> RiskLimits:
        return self._limits.get(account, NO_LIMITS)

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

    async def reference_ready(
        self,
        account: str,
        request: OrderRequest,
        instrument: Instrument,
        market_data: MarketDataPort | None,
    ) -> None:
        """Call before `check` (it may wait): when the account's limits need a reference for
        this order and there is no fresh one, follow the symbol's ticker feed and, unless the
        account may trade without a reference, wait up to `reference_wait_s` for it."""
        limits = self.limits(account)
        if not needs_reference(limits, request, instrument):
            return
        venue, symbol, max_age = instrument.venue, instrument.symbol, limits.reference_max_age_s
        if self.references.get(venue, symbol, max_age) is not None:
            return
        if not isinstance(market_data, TickerFeedPort):
            return  # no feed on this venue: `check` finds no reference
        self.references.follow(venue, symbol, market_data, max_age)
        if not limits.allow_no_reference_price:
            await self.references.wait(venue, symbol, max_age, limits.reference_wait_s)

    async def close(self) -> None:
        await self.references.close()

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
        if request.qty is not None:
            _check_qty(request.qty, limits)
        reference = self._reference(limits, request, instrument)
        if request.quote_qty is not None and reference is not None:
            _check_qty(request.quote_qty / reference, limits, estimated=True)
        if limits.max_notional is not None:
            own = _own_price(request)
            notional = _notional(request, instrument, own or reference)
            if notional is not None and notional > limits.max_notional:
                used = None if own is not None or request.quote_qty is not None else reference
                raise RiskRejected(
                    f"order notional {notional} exceeds limit {limits.max_notional}",
                    ErrorReason.RISK_MAX_NOTIONAL,
                    metadata=_with_reference(
                        {"limit": str(limits.max_notional), "notional": str(notional)}, used
                    ),
                )
        band = limits.price_band_pct
        if band is None or reference is None:
            return
        for field, price in (("price", request.price), ("stop_price", request.stop_price)):
            if price is None:
                continue
            distance = abs(price - reference) * _HUNDRED / reference
            if distance > band:
                raise RiskRejected(
                    f"{field} {price} is {distance:.2f}% from the market reference "
                    f"{reference}, band {band}%",
                    ErrorReason.RISK_PRICE_BAND,
                    metadata=_with_reference({"band_pct": str(band), "field": field}, reference),
                )

    def _reference(
        self, limits: RiskLimits, request: OrderRequest, instrument: Instrument
    ) -> Decimal | None:
        """The fresh reference when the order needs one; raises RISK_NO_REFERENCE_PRICE when
        there is none and the account does not allow that."""
        if not needs_reference(limits, request, instrument):
            return None
        venue, symbol = instrument.venue, instrument.symbol
        found = self.references.get(venue, symbol, limits.reference_max_age_s)
        if found is not None:
            return found.price
        if limits.allow_no_reference_price:
            return None
        raise RiskRejected(
            f"no market reference price for {symbol} on {venue} within the last "
            f"{limits.reference_max_age_s:g} s; the account's price limits need one",
            ErrorReason.RISK_NO_REFERENCE_PRICE,
            metadata={"symbol": symbol, "venue": venue},
        )


def needs_reference(limits: RiskLimits, request: OrderRequest, instrument: Instrument) -> bool:
    """Whether one of the limits measures this order against the market reference."""
    if limits.price_band_pct is not None and (
        request.price is not None or request.stop_price is not None
    ):
        return True
    if limits.max_order_qty is not None and request.quote_qty is not None:
        return True  # its base quantity is quote_qty / reference
    return (
        limits.max_notional is not None
        and request.qty is not None
        and not _inverse(instrument)
        and _own_price(request) is None
    )


def _check_qty(qty: Decimal, limits: RiskLimits, *, estimated: bool = False) -> None:
    if limits.max_order_qty is not None and qty > limits.max_order_qty:
        what = f"estimated order qty {qty:.8g}" if estimated else f"order qty {qty}"
        raise RiskRejected(
            f"{what} exceeds limit {limits.max_order_qty}",
            ErrorReason.RISK_MAX_ORDER_QTY,
            metadata={"limit": str(limits.max_order_qty)},
        )


def _with_reference(metadata: dict[str, str], reference: Decimal | None) -> dict[str, str]:
    if reference is not None:
        metadata["reference_price"] = str(reference)
    return metadata


def _own_price(request: OrderRequest) -> Decimal | None:
    # The price the order can trade at by itself: its limit, else its trigger.
    if request.order_type is OrderType.MARKET:
        return None
    return request.price if request.price is not None else request.stop_price


def _inverse(instrument: Instrument) -> bool:
    return instrument.settle is not None and instrument.settle == instrument.base


def _notional(
    request: OrderRequest, instrument: Instrument, price: Decimal | None
) -> Decimal | None:
    if request.quote_qty is not None:
        return request.quote_qty
    if request.qty is None:
        return None
    if _inverse(instrument):
        return request.qty * instrument.contract_size  # inverse contract: sized in quote units
    if price is None:
        return None  # no reference, and the account allows that: nothing to measure against
    return request.qty * price * instrument.contract_size
