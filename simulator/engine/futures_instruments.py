"""Kraken Futures perpetual contracts the simulator lists, with their real metadata (wire 8.5).

PI_ = inverse (contract worth 1 USD, margined and settled in XBT); PF_ = linear multi-collateral
("flexible_futures", contract worth 1 unit of base, margined in USD from the flex wallet).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class KrakenFuturesKind(StrEnum):
    INVERSE = "futures_inverse"
    LINEAR = "flexible_futures"


@dataclass(frozen=True)
class KrakenMarginLevel:
    """From this threshold on (contracts for inverse, USD notional for linear) these rates apply."""

    threshold: Decimal
    initial: Decimal
    maintenance: Decimal


@dataclass(frozen=True)
class KrakenFuturesInstrument:
    symbol: str
    kind: KrakenFuturesKind
    base: str
    quote: str
    tick_size: Decimal
    contract_value_precision: int  # contractValueTradePrecision: decimals of the order size
    margin_levels: tuple[KrakenMarginLevel, ...]
    max_position_size: Decimal
    opening_date: str
    isin: str
    fee_schedule_uid: str
    impact_mid_size: Decimal
    reference_price: Decimal  # starting index (the spot simulator's start price of the pair)
    underlying: str | None = None
    contract_size: Decimal = Decimal(1)
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")

    @property
    def inverse(self) -> bool:
        return self.kind is KrakenFuturesKind.INVERSE

    @property
    def size_step(self) -> Decimal:
        return Decimal(1).scaleb(-self.contract_value_precision)

    @property
    def settlement_currency(self) -> str:
        """Currency of PnL, fees and margin: XBT for the inverse XBT contract, USD for linear."""
        return "XBT" if self.inverse else "USD"

    @property
    def margin_wallet(self) -> str:
        """The `accounts` wallet name that margins this contract."""
        return f"fi_{self.base.lower()}{self.quote.lower()}" if self.inverse else "flex"

    def margin_level(self, exposure: Decimal) -> KrakenMarginLevel:
        """The tier for `exposure` (contracts for inverse, USD notional for linear)."""
        chosen = self.margin_levels[0]
        for level in self.margin_levels:
            if exposure >= level.threshold:
                chosen = level
        return chosen

    def on_tick(self, price: Decimal) -> bool:
        return _on_grid(price, self.tick_size)

    def on_step(self, size: Decimal) -> bool:
        return _on_grid(size, self.size_step)


def _on_grid(value: Decimal, step: Decimal) -> bool:
    """A positive multiple of `step`; absurd magnitudes (1e999999) are simply off the grid."""
    try:
        return value > 0 and value % step == 0
    except InvalidOperation:
        return False


_LINEAR_LEVELS = (
    KrakenMarginLevel(Decimal(0), Decimal("0.02"), Decimal("0.01")),
    KrakenMarginLevel(Decimal(2_000_000), Decimal("0.04"), Decimal("0.02")),
)

KRAKEN_FUTURES_INSTRUMENTS: tuple[KrakenFuturesInstrument, ...] = (
    KrakenFuturesInstrument(
        symbol="PI_XBTUSD",
        kind=KrakenFuturesKind.INVERSE,
        base="XBT",
        quote="USD",
        underlying="rr_xbtusd",
        tick_size=Decimal("0.5"),
        contract_value_precision=0,
        margin_levels=(
            KrakenMarginLevel(Decimal(0), Decimal("0.02"), Decimal("0.01")),
            KrakenMarginLevel(Decimal(500_000), Decimal("0.04"), Decimal("0.02")),
        ),
        max_position_size=Decimal(75_000_000),
        opening_date="2018-08-31T00:00:00Z",
        isin="GB00J62YGL67",
        fee_schedule_uid="a6cbc326-9477-4a6c-911a-d4cb3ed7481e",
        impact_mid_size=Decimal(1000),
        reference_price=Decimal(100000),
    ),
    KrakenFuturesInstrument(
        symbol="PF_XBTUSD",
        kind=KrakenFuturesKind.LINEAR,
        base="XBT",
        quote="USD",
        tick_size=Decimal(1),
        contract_value_precision=4,
        margin_levels=_LINEAR_LEVELS,
        max_position_size=Decimal(1_000_000),
        opening_date="2022-03-22T13:18:45Z",
        isin="GB00M6CV7Y12",
        fee_schedule_uid="723888f7-0a8e-4183-8648-f920a22339e3",
        impact_mid_size=Decimal(1),
        reference_price=Decimal(100000),
    ),
    KrakenFuturesInstrument(
        symbol="PF_ETHUSD",
        kind=KrakenFuturesKind.LINEAR,
        base="ETH",
        quote="USD",
        tick_size=Decimal("0.1"),
        contract_value_precision=3,
        margin_levels=_LINEAR_LEVELS,
        max_position_size=Decimal(16000),
        opening_date="2022-03-22T13:18:45Z",
        isin="GB00BQ84K502",
        fee_schedule_uid="723888f7-0a8e-4183-8648-f920a22339e3",
        impact_mid_size=Decimal("1.5"),
        reference_price=Decimal(3500),
    ),
)

_BY_SYMBOL = {i.symbol: i for i in KRAKEN_FUTURES_INSTRUMENTS}


def find_instrument(symbol: str) -> KrakenFuturesInstrument | None:
    """Symbols are case-insensitive on the wire (`pi_xbtusd` is common in responses)."""
    return _BY_SYMBOL.get(symbol.upper())
