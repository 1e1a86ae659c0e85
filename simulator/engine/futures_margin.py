"""Margin, PnL and position arithmetic for linear and inverse perpetuals (pure functions).

Linear (PF_): value of n contracts at price p is n*p USD; PnL = n*(mark - entry) USD.
Inverse (PI_): a contract is worth 1 USD, so n contracts at p are worth n/p XBT and
PnL = n*(1/entry - 1/mark) XBT; the average entry of an inverse position is therefore harmonic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from simulator.engine.futures_instruments import KrakenFuturesInstrument

# Settlement amounts (fees, realised PnL, margin) are kept to 10 decimals so account balances
# never accumulate the 28-digit tails of inverse 1/price arithmetic.
_AMOUNT_QUANTUM = Decimal("1e-10")


def settle(amount: Decimal) -> Decimal:
    return amount.quantize(_AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)


def notional(inst: KrakenFuturesInstrument, size: Decimal, price: Decimal) -> Decimal:
    """Value of `size` (>= 0) contracts at `price`, in the settlement currency."""
    if inst.inverse:
        return size * inst.contract_size / price
    return size * inst.contract_size * price


def usd_exposure(inst: KrakenFuturesInstrument, size: Decimal, price: Decimal) -> Decimal:
    """What the margin tiers are keyed on: contracts for inverse, USD notional for linear."""
    return size if inst.inverse else size * inst.contract_size * price


def initial_margin(inst: KrakenFuturesInstrument, size: Decimal, price: Decimal) -> Decimal:
    level = inst.margin_level(usd_exposure(inst, size, price))
    return settle(notional(inst, size, price) * level.initial)


def maintenance_margin(inst: KrakenFuturesInstrument, size: Decimal, price: Decimal) -> Decimal:
    level = inst.margin_level(usd_exposure(inst, size, price))
    return settle(notional(inst, size, price) * level.maintenance)


def trade_fee(inst: KrakenFuturesInstrument, size: Decimal, price: Decimal, maker: bool) -> Decimal:
    rate = inst.maker_fee if maker else inst.taker_fee
    return settle(notional(inst, size, price) * rate)


def unrealised_pnl(
    inst: KrakenFuturesInstrument, signed_size: Decimal, entry: Decimal, mark: Decimal
) -> Decimal:
    if signed_size == 0:
        return Decimal(0)
    if inst.inverse:
        return settle(signed_size * inst.contract_size * (1 / entry - 1 / mark))
    return settle(signed_size * inst.contract_size * (mark - entry))


@dataclass(frozen=True)
class KrakenPositionChange:
    size: Decimal  # new signed size
    entry_price: Decimal  # new average entry (unchanged on a pure reduction)
    realised_pnl: Decimal  # on the closed part, settlement currency


def apply_fill(
    inst: KrakenFuturesInstrument,
    size: Decimal,
    entry: Decimal,
    fill_signed: Decimal,
    price: Decimal,
) -> KrakenPositionChange:
    """The position after a fill of `fill_signed` contracts (+ buy, - sell) at `price`."""
    new_size = size + fill_signed
    if size == 0 or (size > 0) == (fill_signed > 0):
        return KrakenPositionChange(
            new_size, _average_entry(inst, size, entry, fill_signed, price), Decimal(0)
        )
    closed = min(abs(size), abs(fill_signed))
    closed_signed = closed if size > 0 else -closed
    realised = unrealised_pnl(inst, closed_signed, entry, price)
    if new_size == 0:
        return KrakenPositionChange(Decimal(0), Decimal(0), realised)
    if (new_size > 0) == (size > 0):
        return KrakenPositionChange(new_size, entry, realised)
    return KrakenPositionChange(new_size, price, realised)  # flipped: remainder opens at price


def _average_entry(
    inst: KrakenFuturesInstrument, size: Decimal, entry: Decimal, add: Decimal, price: Decimal
) -> Decimal:
    old, new = abs(size), abs(add)
    if old == 0:
        return price
    if inst.inverse:
        return (old + new) / (old / entry + new / price)
    return (old * entry + new * price) / (old + new)
