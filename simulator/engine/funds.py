"""Balances, holds and the ledger of every account, plus the fee and hold arithmetic.

Rounding (chosen so accounting is exact and balances can never go negative):
- a fill's cost is price * qty truncated to the quote asset's decimals; both sides book the same
  number, so the quote moved is conserved;
- fees accrue per order as an exact running sum (rate * cost, or rate * qty when the fee is taken
  in base) and each fill charges `ceil(running sum) - already charged`, rounded up to the fee
  asset's decimals: an order never pays more than ceil(rate * total), whatever its fill count;
- holds are recomputed after every fill from the same formulas, so reserved funds always cover
  what the order can still spend (see `hold_for`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from simulator.engine.model import ZERO, LedgerEntry, Order, Side
from simulator.engine.pairs import KrakenAsset, KrakenPair

HUNDRED = Decimal(100)


def round_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_CEILING)


def round_down(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)


@dataclass(slots=True)
class AccountState:
    """One trading account (master, subaccount, or an internal one)."""

    id: str
    master_id: str | None = None  # set for subaccounts
    fee_exempt: bool = False  # the built-in market maker and the fee collector
    fee_volume: Decimal = ZERO  # 30-day USD volume used to pick the fee tier
    username: str | None = None
    balances: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    holds: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    ledger: deque[LedgerEntry] = field(default_factory=deque)
    cancel_after: Decimal | None = None  # dead man's switch deadline

    @property
    def is_subaccount(self) -> bool:
        return self.master_id is not None

    def available(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO) - self.holds.get(asset, ZERO)  # reads add no keys


def charge_fee(order: Order, amount: Decimal, decimals: int) -> Decimal:
    """Accrue an exact fee on the order and return the part to charge now (rounded up)."""
    order.fee_exact += amount
    due = round_up(order.fee_exact, decimals) - order.fee
    order.fee += due
    return due


def hold_for(
    order: Order,
    pair: KrakenPair,
    assets: dict[str, KrakenAsset],
) -> tuple[str, Decimal]:
    """The asset and amount an open order must keep reserved for what it may still spend.

    Buy with a limit L and remaining R, fee in quote: ceil(L*R) + ceil(E + t*L*R) - F, where E/F
    are the order's accrued/charged fee and t its higher fee rate. Sell: R, plus ceil(E + t*R) - F
    when the fee is taken in base.
    Market buys hold nothing: they execute at once and each fill is checked against free funds.
    """
    rate = max(order.taker_pct, order.maker_pct) / HUNDRED  # the dearer side bounds all fills
    remaining = order.remaining
    if order.side is Side.SELL:
        base = assets[pair.base].decimals
        amount = remaining
        if order.fee_in_base:
            amount += round_up(order.fee_exact + rate * remaining, base) - order.fee
        return pair.base, amount
    limit = order.limit_price if order.limit_price is not None else order.price
    if limit is None or order.quote_volume is not None:
        return pair.quote, ZERO
    quote = assets[pair.quote].decimals
    notional = limit * remaining
    amount = round_up(notional, quote)
    if not order.fee_in_base:
        amount += round_up(order.fee_exact + rate * notional, quote) - order.fee
    return pair.quote, amount
