"""Futures wallets of one account (cash, flex multi-collateral, inverse margin) and positions.

Seeding rule (documented in the README's accounts section): an account's `futures_balances`
go to the flex wallet, except XBT, which funds the inverse `fi_xbtusd` margin wallet that
PI_XBTUSD trades against. `transfer` moves funds between the wallets afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.futures_margin import (
    initial_margin,
    maintenance_margin,
    settle,
    unrealised_pnl,
)
from simulator.engine.futures_orders import KrakenFuturesOrder

ZERO = Decimal(0)
CASH_WALLET = "cash"
FLEX_WALLET = "flex"
INVERSE_XBT_WALLET = "fi_xbtusd"
CASH_CURRENCIES = ("xbt", "usd", "eur", "gbp", "eth", "usdt", "usdc")


@dataclass
class KrakenFuturesPosition:
    symbol: str
    size: Decimal  # signed: + long, - short
    entry_price: Decimal
    fill_time_ms: int
    unrealized_funding: Decimal = ZERO

    @property
    def side(self) -> str:
        return "long" if self.size > 0 else "short"


@dataclass
class KrakenFuturesAccount:
    account_id: str
    cash: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CASH_CURRENCIES, ZERO))
    flex: dict[str, Decimal] = field(default_factory=dict)  # currency (upper) -> quantity
    margin: dict[str, Decimal] = field(default_factory=lambda: {INVERSE_XBT_WALLET: ZERO})
    positions: dict[str, KrakenFuturesPosition] = field(default_factory=dict)

    @classmethod
    def seeded(cls, account_id: str, balances: Mapping[str, Decimal]) -> KrakenFuturesAccount:
        account = cls(account_id)
        for currency, amount in balances.items():
            code = currency.upper()
            if code in ("XBT", "BTC"):
                account.margin[INVERSE_XBT_WALLET] += amount
            else:
                account.flex[code] = account.flex.get(code, ZERO) + amount
        account.flex.setdefault("USD", ZERO)
        return account

    def wallet_balance(self, wallet: str, unit: str) -> Decimal | None:
        """Balance of `unit` in `wallet`, or None when that wallet/unit does not exist."""
        if wallet == CASH_WALLET:
            return self.cash.get(unit.lower())
        if wallet == FLEX_WALLET:
            return self.flex.get(unit.upper(), ZERO)
        if wallet in self.margin and unit.lower() == "xbt":
            return self.margin[wallet]
        return None

    def credit(self, wallet: str, unit: str, amount: Decimal) -> None:
        """Add (or with a negative amount, take) funds; the caller checked the wallet exists."""
        if wallet == CASH_WALLET:
            self.cash[unit.lower()] = self.cash.get(unit.lower(), ZERO) + amount
        elif wallet == FLEX_WALLET:
            self.flex[unit.upper()] = self.flex.get(unit.upper(), ZERO) + amount
        else:
            self.margin[wallet] += amount

    def settle_pnl(self, inst: KrakenFuturesInstrument, amount: Decimal) -> None:
        """Book realised PnL or a fee (negative) in the contract's margin wallet."""
        self.credit(inst.margin_wallet, inst.settlement_currency, amount)


@dataclass(frozen=True, slots=True)
class KrakenTradeLogDetails:
    """What an `account-log` row of a trade adds (the fill's cash leg)."""

    fee: Decimal
    realized_pnl: Decimal
    trade_price: Decimal
    mark_price: Decimal
    contract: str  # lowercase symbol
    execution: str  # fill id


@dataclass(frozen=True, slots=True)
class KrakenAccountLogEntry:
    """One `account-log` row: a balance change of one wallet currency."""

    id: int  # per account, from 1
    time_ms: int
    info: str  # "futures trade" or "transfer"
    margin_account: str  # flex, fi_xbtusd or cash
    asset: str  # lowercase currency
    old_balance: Decimal
    new_balance: Decimal
    booking_uid: str
    trade: KrakenTradeLogDetails | None = None


@dataclass(frozen=True)
class KrakenMarginSummary:
    """Figures of one margin wallet in its currency (USD for flex, XBT for fi_xbtusd)."""

    balance_value: Decimal  # wallet balance (flex: collateral value of all currencies)
    pnl: Decimal  # unrealised
    initial_margin: Decimal
    initial_margin_with_orders: Decimal
    maintenance_margin: Decimal

    @property
    def portfolio_value(self) -> Decimal:
        return self.balance_value + self.pnl

    @property
    def available_margin(self) -> Decimal:
        return self.portfolio_value - self.initial_margin_with_orders


def order_initial_margin(
    inst: KrakenFuturesInstrument, order: KrakenFuturesOrder, mark: Decimal
) -> Decimal:
    """Margin an open order reserves: IM of its open size at its limit (or trigger, or mark).

    Reduce-only orders reserve nothing: they can only shrink a position.
    """
    if order.reduce_only or not order.is_open:
        return ZERO
    price = order.limit_price or order.stop_price or mark
    return initial_margin(inst, order.remaining, price)


def margin_summary(
    account: KrakenFuturesAccount,
    wallet: str,
    instruments: Iterable[KrakenFuturesInstrument],
    mark: Callable[[str], Decimal],
    usd_price: Callable[[str], Decimal],
    order_margin: Decimal,
) -> KrakenMarginSummary:
    """Margin figures of `wallet`; `order_margin` is what its open orders reserve."""
    members = {i.symbol: i for i in instruments if i.margin_wallet == wallet}
    pnl = im = mm = ZERO
    for symbol, pos in account.positions.items():
        inst = members.get(symbol)
        if inst is None or pos.size == 0:
            continue
        price = mark(symbol)
        pnl += unrealised_pnl(inst, pos.size, pos.entry_price, price)
        im += initial_margin(inst, abs(pos.size), price)
        mm += maintenance_margin(inst, abs(pos.size), price)
    if wallet == FLEX_WALLET:
        balance = settle(sum((q * usd_price(c) for c, q in account.flex.items()), ZERO))
    else:
        balance = account.margin.get(wallet, ZERO)
    return KrakenMarginSummary(balance, pnl, im, im + order_margin, mm)
