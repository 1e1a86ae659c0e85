"""Static Kraken Spot metadata: the assets and pairs the simulator lists (AssetPairs / Assets).

Values are Kraken's published ones; XBTUSDT is byte-for-byte the recorded `http_asset_pairs.json`
fixture. The simulator serves these through `/0/public/AssetPairs` and the engine uses them for
decimals, minimums, tick sizes and fee schedules.

Provenance of the other pairs' pair_decimals / lot_decimals / cost_decimals / ordermin / costmin /
tick_size (public recorded AssetPairs responses; each pair's comment below names its sources):
  [BYTEX] BYTEX-TRADE/bytex tests/Bytex.Adapters.Tests/Fixtures/KrakenPayloads.cs
          (@f17aa94a, "recorded from the live venue on 2026-09-25": XXBTZUSD, XDGUSD, XETHXXBT)
  [DRIFT] samuel-fonseca/driftwatch internal/source/kraken/kraken_test.go
          (@fac6a298, "trimmed capture of the real AssetPairs response": XXBTZUSD, XETHZUSD,
          first fee tier only)
USDTZUSD: no recorded modern response found; its values stay unverified (from memory).
Fee schedules: the full tiers are verified for XBTUSDT only (our fixture); [DRIFT] confirms the
first tier (0.4 / 0.25) for XXBTZUSD and XETHZUSD. [BYTEX] shows `fees: []` on every pair,
which contradicts our own fixture and [DRIFT]; the schedules are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

D = Decimal
_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class KrakenAsset:
    """One row of `/0/public/Assets`."""

    id: str  # "XXBT"
    altname: str  # "XBT"
    decimals: int  # precision balances are kept in
    display_decimals: int
    ws_name: str  # WS v2 spelling ("BTC", "DOGE", "USD")
    aclass: str = "currency"
    status: str = "enabled"
    collateral_value: Decimal | None = None

    @property
    def unit(self) -> Decimal:
        """Smallest representable amount, e.g. 0.0001 for ZUSD."""
        return Decimal(1).scaleb(-self.decimals)

    def as_wire(self) -> dict[str, Any]:
        """The object Kraken returns for this asset in `/0/public/Assets`."""
        out: dict[str, Any] = {
            "aclass": self.aclass,
            "altname": self.altname,
            "decimals": self.decimals,
            "display_decimals": self.display_decimals,
        }
        if self.collateral_value is not None:
            out["collateral_value"] = float(self.collateral_value)
        out["status"] = self.status
        return out


FeeSchedule = tuple[tuple[Decimal, Decimal], ...]  # (30-day USD volume, percent) ascending


@dataclass(frozen=True, slots=True)
class KrakenPair:
    """One row of `/0/public/AssetPairs` plus the simulator's synthetic-market settings."""

    id: str  # "XXBTZUSD" (REST key)
    altname: str  # "XBTUSD"
    wsname: str  # "XBT/USD" (WS v1)
    base: str  # asset id "XXBT"
    quote: str  # asset id "ZUSD"
    pair_decimals: int
    cost_decimals: int
    lot_decimals: int
    ordermin: Decimal
    costmin: Decimal
    tick_size: Decimal
    fees: FeeSchedule
    fees_maker: FeeSchedule
    ws_symbol: str  # WS v2 symbol "BTC/USD"
    leverage_buy: tuple[int, ...] = ()
    leverage_sell: tuple[int, ...] = ()
    margin_call: int = 80
    margin_stop: int = 40
    long_position_limit: int | None = None
    short_position_limit: int | None = None
    status: str = "online"
    fee_volume_currency: str = "ZUSD"
    # Synthetic market: initial reference price and the market maker's size per level (base).
    start_price: Decimal = _ONE
    mm_level_qty: Decimal = _ONE
    has_index: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lot_unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)

    def taker_fee_pct(self, volume_usd: Decimal = _ZERO) -> Decimal:
        return _tier(self.fees, volume_usd)

    def maker_fee_pct(self, volume_usd: Decimal = _ZERO) -> Decimal:
        return _tier(self.fees_maker, volume_usd)

    def names(self) -> tuple[str, ...]:
        """Every spelling clients use for this pair (id, altname, v1 and v2 slash names)."""
        return (self.id, self.altname, self.wsname, self.ws_symbol)

    def as_wire(self) -> dict[str, Any]:
        """The object Kraken returns for this pair in `/0/public/AssetPairs` (info=info)."""
        out: dict[str, Any] = {
            "altname": self.altname,
            "wsname": self.wsname,
            "aclass_base": "currency",
            "base": self.base,
            "aclass_quote": "currency",
            "quote": self.quote,
            "lot": "unit",
            "cost_decimals": self.cost_decimals,
            "pair_decimals": self.pair_decimals,
            "lot_decimals": self.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": list(self.leverage_buy),
            "leverage_sell": list(self.leverage_sell),
            "fees": [[_num(v), _num(p)] for v, p in self.fees],
            "fees_maker": [[_num(v), _num(p)] for v, p in self.fees_maker],
            "fee_volume_currency": self.fee_volume_currency,
            "margin_call": self.margin_call,
            "margin_stop": self.margin_stop,
            "ordermin": str(self.ordermin),
            "costmin": str(self.costmin),
            "tick_size": str(self.tick_size),
            "status": self.status,
        }
        if self.long_position_limit is not None:
            out["long_position_limit"] = self.long_position_limit
        if self.short_position_limit is not None:
            out["short_position_limit"] = self.short_position_limit
        return out


def _num(value: Decimal) -> int | float:
    """JSON number as Kraken prints it in fee arrays (ints stay ints: `[0, 0.4]`)."""
    return int(value) if value == value.to_integral_value() and value >= 1 else float(value)


def _tier(schedule: FeeSchedule, volume: Decimal) -> Decimal:
    pct = schedule[0][1]
    for threshold, tier_pct in schedule:
        if volume >= threshold:
            pct = tier_pct
    return pct


def _schedule(rows: Iterable[tuple[str, str]]) -> FeeSchedule:
    return tuple((D(v), D(p)) for v, p in rows)


# Kraken's standard crypto schedule (taker / maker), identical across the crypto pairs.
_CRYPTO_TAKER = _schedule(
    [
        ("0", "0.4"),
        ("10000", "0.35"),
        ("50000", "0.24"),
        ("100000", "0.22"),
        ("250000", "0.2"),
        ("500000", "0.18"),
        ("1000000", "0.16"),
        ("2500000", "0.14"),
        ("5000000", "0.12"),
        ("10000000", "0.1"),
    ]
)
_CRYPTO_MAKER = _schedule(
    [
        ("0", "0.25"),
        ("10000", "0.2"),
        ("50000", "0.14"),
        ("100000", "0.12"),
        ("250000", "0.1"),
        ("500000", "0.08"),
        ("1000000", "0.06"),
        ("2500000", "0.04"),
        ("5000000", "0.02"),
        ("10000000", "0.0"),
    ]
)
# Kraken's stablecoin/FX schedule (USDT/USD): maker == taker per tier.
_STABLE = _schedule(
    [
        ("0", "0.2"),
        ("50000", "0.16"),
        ("100000", "0.12"),
        ("250000", "0.08"),
        ("500000", "0.04"),
        ("1000000", "0.0"),
    ]
)
_LEV_2_10 = tuple(range(2, 11))

ASSETS: dict[str, KrakenAsset] = {
    a.id: a
    for a in (
        KrakenAsset("XXBT", "XBT", 10, 5, "BTC", collateral_value=D(1)),
        KrakenAsset("XETH", "ETH", 10, 5, "ETH", collateral_value=D(1)),
        KrakenAsset("XXDG", "XDG", 8, 2, "DOGE", collateral_value=D("0.9")),
        KrakenAsset("ZUSD", "USD", 4, 2, "USD", collateral_value=D(1)),
        KrakenAsset("USDT", "USDT", 8, 4, "USDT", collateral_value=D(1)),
    )
}

PAIRS: dict[str, KrakenPair] = {
    p.id: p
    for p in (
        # Decimals, minimums, tick: match [BYTEX] and [DRIFT]. ([BYTEX] has position limits
        # 350/250, kept at 250/200 here: not verified.)
        KrakenPair(
            id="XXBTZUSD",
            altname="XBTUSD",
            wsname="XBT/USD",
            ws_symbol="BTC/USD",
            base="XXBT",
            quote="ZUSD",
            pair_decimals=1,
            cost_decimals=5,
            lot_decimals=8,
            ordermin=D("0.00005"),
            costmin=D("0.5"),
            tick_size=D("0.1"),
            fees=_CRYPTO_TAKER,
            fees_maker=_CRYPTO_MAKER,
            leverage_buy=_LEV_2_10,
            leverage_sell=_LEV_2_10,
            long_position_limit=250,
            short_position_limit=200,
            start_price=D("100000.0"),
            mm_level_qty=D("0.50000000"),
        ),
        # Decimals, minimums, tick: match [DRIFT] (not in [BYTEX]).
        KrakenPair(
            id="XETHZUSD",
            altname="ETHUSD",
            wsname="ETH/USD",
            ws_symbol="ETH/USD",
            base="XETH",
            quote="ZUSD",
            pair_decimals=2,
            cost_decimals=5,
            lot_decimals=8,
            ordermin=D("0.002"),
            costmin=D("0.5"),
            tick_size=D("0.01"),
            fees=_CRYPTO_TAKER,
            fees_maker=_CRYPTO_MAKER,
            leverage_buy=_LEV_2_10,
            leverage_sell=_LEV_2_10,
            long_position_limit=3000,
            short_position_limit=2500,
            start_price=D("3500.00"),
            mm_level_qty=D("10.00000000"),
        ),
        # [BYTEX]: pair_decimals 6 (was 5), ordermin 0.001 (was 0.002), tick_size 0.000001 (was
        # 0.00001); cost_decimals 10 and costmin 0.00002 matched. ([BYTEX] position limits
        # 1000/800, kept at 1100/400 here: not verified.)
        KrakenPair(
            id="XETHXXBT",
            altname="ETHXBT",
            wsname="ETH/XBT",
            ws_symbol="ETH/BTC",
            base="XETH",
            quote="XXBT",
            pair_decimals=6,
            cost_decimals=10,
            lot_decimals=8,
            ordermin=D("0.001"),
            costmin=D("0.00002"),
            tick_size=D("0.000001"),
            fees=_CRYPTO_TAKER,
            fees_maker=_CRYPTO_MAKER,
            leverage_buy=(2, 3, 4, 5),
            leverage_sell=(2, 3, 4, 5),
            long_position_limit=1100,
            short_position_limit=400,
            start_price=D("0.035000"),
            mm_level_qty=D("10.00000000"),
        ),
        # [BYTEX]: cost_decimals 9 (was 5); the rest matched. ([BYTEX] leverage 2..10 and
        # position limits 30000000/30000000, kept at 2..3 and 5000000/2000000: not verified.)
        KrakenPair(
            id="XDGUSD",
            altname="XDGUSD",
            wsname="XDG/USD",
            ws_symbol="DOGE/USD",
            base="XXDG",
            quote="ZUSD",
            pair_decimals=7,
            cost_decimals=9,
            lot_decimals=8,
            ordermin=D("50"),
            costmin=D("0.5"),
            tick_size=D("0.0000001"),
            fees=_CRYPTO_TAKER,
            fees_maker=_CRYPTO_MAKER,
            leverage_buy=(2, 3),
            leverage_sell=(2, 3),
            long_position_limit=5000000,
            short_position_limit=2000000,
            start_price=D("0.1500000"),
            mm_level_qty=D("200000.00000000"),
        ),
        # UNVERIFIED: no recorded AssetPairs response with these fields found.
        KrakenPair(
            id="USDTZUSD",
            altname="USDTUSD",
            wsname="USDT/USD",
            ws_symbol="USDT/USD",
            base="USDT",
            quote="ZUSD",
            pair_decimals=5,
            cost_decimals=5,
            lot_decimals=8,
            ordermin=D("5"),
            costmin=D("0.5"),
            tick_size=D("0.00001"),
            fees=_STABLE,
            fees_maker=_STABLE,
            leverage_buy=(2, 3, 4, 5),
            leverage_sell=(2, 3, 4, 5),
            long_position_limit=1000000,
            short_position_limit=1000000,
            start_price=D("1.00000"),
            mm_level_qty=D("50000.00000000"),
            has_index=False,
        ),
        KrakenPair(
            id="XBTUSDT",
            altname="XBTUSDT",
            wsname="XBT/USDT",
            ws_symbol="BTC/USDT",
            base="XXBT",
            quote="USDT",
            pair_decimals=1,
            cost_decimals=5,
            lot_decimals=8,
            ordermin=D("0.00005"),
            costmin=D("0.5"),
            tick_size=D("0.1"),
            fees=_CRYPTO_TAKER,
            fees_maker=_CRYPTO_MAKER,
            leverage_buy=_LEV_2_10,
            leverage_sell=_LEV_2_10,
            long_position_limit=80,
            short_position_limit=80,
            start_price=D("100000.0"),
            mm_level_qty=D("0.50000000"),
        ),
    )
}


class PairDirectory:
    """Finds pairs and assets by any spelling clients send (id, altname, XBT/USD, BTC/USD)."""

    def __init__(
        self,
        pairs: Mapping[str, KrakenPair] = PAIRS,
        assets: Mapping[str, KrakenAsset] = ASSETS,
    ) -> None:
        self.pairs: dict[str, KrakenPair] = dict(pairs)
        self.assets: dict[str, KrakenAsset] = dict(assets)
        self._pair_alias: dict[str, KrakenPair] = {}
        for pair in self.pairs.values():
            for name in pair.names():
                self._pair_alias[name.upper()] = pair
        self._asset_alias: dict[str, KrakenAsset] = {}
        for asset in self.assets.values():
            for name in (asset.id, asset.altname, asset.ws_name):
                self._asset_alias.setdefault(name.upper(), asset)

    def pair(self, name: str) -> KrakenPair | None:
        """The pair for any accepted spelling, or None."""
        return self._pair_alias.get(name.strip().upper())

    def asset(self, name: str) -> KrakenAsset | None:
        """The asset for id (`XXBT`), altname (`XBT`) or WS v2 name (`BTC`), or None."""
        return self._asset_alias.get(name.strip().upper())
