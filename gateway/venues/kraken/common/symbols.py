"""Kraken <-> unified (CCXT-style) symbols for Spot and Futures.

Spot: Kraken asset ids carry legacy X (crypto) / Z (fiat) prefixes (`XXBT`, `ZUSD`) and old
tickers (`XBT`, `XDG`); unified names drop both (`BTC`, `DOGE`, `USD`). Pairs appear as an id
(`XXBTZUSD`), an altname (`XBTUSD`), a WS v1 wsname (`XBT/USD`) and a WS v2 symbol (`BTC/USD`).
The exact mapping comes from AssetPairs (`KrakenSymbolMap`); the free functions are for names
met without metadata.

Futures: `PF_XBTUSD` -> `BTC/USD:USD` (linear perpetual), `PI_XBTUSD` -> `BTC/USD:BTC` (inverse
perpetual), `FI_XBTUSD_YYMMDD` -> `BTC/USD:BTC-YYMMDD`, `FF_XBTUSD_YYMMDD` -> `BTC/USD:USD-YYMMDD`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

# Legacy prefixed asset ids -> Kraken altname. Only these carry X/Z prefixes; newer assets
# (DOT, USDT, SOL, XTZ, ZRX...) do not, so stripping by rule would break e.g. `ZEUS` or `XCN`.
LEGACY_ASSET_IDS: Mapping[str, str] = {
    "XXBT": "XBT",
    "XETH": "ETH",
    "XETC": "ETC",
    "XLTC": "LTC",
    "XXDG": "XDG",
    "XXRP": "XRP",
    "XXLM": "XLM",
    "XXMR": "XMR",
    "XZEC": "ZEC",
    "XMLN": "MLN",
    "XREP": "REP",
    "ZUSD": "USD",
    "ZEUR": "EUR",
    "ZGBP": "GBP",
    "ZCAD": "CAD",
    "ZJPY": "JPY",
    "ZAUD": "AUD",
    "ZCHF": "CHF",
}

# Kraken altname -> unified code (CCXT commonCurrencies for the ones Kraken spells differently).
KRAKEN_TO_UNIFIED_ASSET: Mapping[str, str] = {"XBT": "BTC", "XDG": "DOGE"}
UNIFIED_TO_KRAKEN_ASSET: Mapping[str, str] = {v: k for k, v in KRAKEN_TO_UNIFIED_ASSET.items()}

# Quote currencies, longest first, to split altnames met without AssetPairs metadata.
_KNOWN_QUOTES: tuple[str, ...] = (
    "USDT", "USDC", "ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD", "ZCHF", "XXBT", "XETH",
    "PYUSD", "USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF", "XBT", "ETH", "DAI",
)  # fmt: skip


class KrakenSymbolError(ValueError):
    """A symbol that no rule or table maps."""


@lru_cache(maxsize=4096)  # hot on every executions message; the name set is small
def unified_asset(kraken_asset: str) -> str:
    """`XXBT`/`XBT` -> `BTC`, `ZUSD` -> `USD`, `XBT.M` -> `BTC.M`, `DOT` -> `DOT`."""
    base, dot, suffix = kraken_asset.partition(".")
    alt = LEGACY_ASSET_IDS.get(base, base)
    return KRAKEN_TO_UNIFIED_ASSET.get(alt, alt) + dot + suffix


def kraken_asset(unified: str) -> str:
    """Kraken's altname for a unified asset code: `BTC` -> `XBT`, `DOGE` -> `XDG`."""
    return UNIFIED_TO_KRAKEN_ASSET.get(unified, unified)


@lru_cache(maxsize=4096)
def unified_from_wsname(wsname: str) -> str:
    """`XBT/USD` (WS v1) or `BTC/USD` (WS v2) -> `BTC/USD`."""
    base, slash, quote = wsname.partition("/")
    if not slash or not base or not quote:
        raise KrakenSymbolError(f"not a slash pair name: {wsname!r}")
    return f"{unified_asset(base)}/{unified_asset(quote)}"


def unified_from_pair_name(name: str) -> str:
    """Best effort for a pair id or altname met without metadata: `XXBTZUSD`, `XBTUSD`, `XETHXXBT`.

    Prefer `KrakenSymbolMap` whenever AssetPairs is at hand.
    """
    if "/" in name:
        return unified_from_wsname(name)
    if len(name) == 8 and name[:4] in LEGACY_ASSET_IDS and name[4:] in LEGACY_ASSET_IDS:
        return f"{unified_asset(name[:4])}/{unified_asset(name[4:])}"
    for quote in _KNOWN_QUOTES:
        if name.endswith(quote) and len(name) > len(quote):
            return f"{unified_asset(name[: -len(quote)])}/{unified_asset(quote)}"
    raise KrakenSymbolError(f"cannot split Kraken pair name {name!r}")


def ws_v2_symbol(unified: str) -> str:
    """The WS v2 symbol of a unified spot symbol (v2 already uses BTC/DOGE)."""
    return unified


@dataclass(frozen=True, slots=True)
class KrakenPairNames:
    """Every spelling of one Kraken spot pair."""

    pair_id: str  # AssetPairs key / REST result key: XXBTZUSD
    altname: str  # XBTUSD
    wsname: str  # XBT/USD (WS v1)
    symbol: str  # unified and WS v2: BTC/USD
    base: str  # unified base: BTC
    quote: str  # unified quote: USD


class KrakenSymbolMap:
    """Exact two-way lookup from AssetPairs: any Kraken spelling or unified symbol -> names."""

    def __init__(self, pairs: Iterable[KrakenPairNames]) -> None:
        self._by_unified: dict[str, KrakenPairNames] = {}
        self._by_kraken: dict[str, KrakenPairNames] = {}
        for names in pairs:
            self._by_unified[names.symbol] = names
            for spelling in (names.pair_id, names.altname, names.wsname, names.symbol):
                self._by_kraken.setdefault(spelling, names)

    def by_unified(self, symbol: str) -> KrakenPairNames:
        try:
            return self._by_unified[symbol]
        except KeyError:
            raise KrakenSymbolError(f"unknown symbol {symbol!r}") from None

    def by_kraken(self, name: str) -> KrakenPairNames:
        """Look up by pair id, altname, wsname or WS v2 symbol."""
        try:
            return self._by_kraken[name]
        except KeyError:
            raise KrakenSymbolError(f"unknown Kraken pair {name!r}") from None

    def unified(self, name: str) -> str:
        """Unified symbol for any Kraken spelling; falls back to the naming rules."""
        names = self._by_kraken.get(name)
        return names.symbol if names is not None else unified_from_pair_name(name)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_unified

    def __len__(self) -> int:
        return len(self._by_unified)


# ---- Futures -------------------------------------------------------------------------------

# prefix -> (settlement is the quote (linear) rather than the base (inverse), dated)
_FUTURES_PREFIXES: Mapping[str, tuple[bool, bool]] = {
    "PF": (True, False),
    "PI": (False, False),
    "FF": (True, True),
    "FI": (False, True),
}


def _split_futures_pair(pair: str) -> tuple[str, str]:
    for quote in ("USDT", "USDC", "USD", "EUR", "GBP"):
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    raise KrakenSymbolError(f"cannot split futures pair {pair!r}")


def unified_from_futures(kraken_symbol: str) -> str:
    """`PF_XBTUSD` -> `BTC/USD:USD`; `pi_xbtusd` -> `BTC/USD:BTC`; dated `FI_` gets `-YYMMDD`."""
    parts = kraken_symbol.upper().split("_")
    flags = _FUTURES_PREFIXES.get(parts[0])
    if flags is None or len(parts) != (3 if flags[1] else 2):
        raise KrakenSymbolError(f"unsupported futures symbol {kraken_symbol!r}")
    linear, dated = flags
    base_k, quote_k = _split_futures_pair(parts[1])
    base, quote = unified_asset(base_k), unified_asset(quote_k)
    symbol = f"{base}/{quote}:{quote if linear else base}"
    if dated:
        expiry = parts[2]
        if len(expiry) != 6 or not expiry.isdigit():
            raise KrakenSymbolError(f"bad expiry in futures symbol {kraken_symbol!r}")
        symbol += f"-{expiry}"
    return symbol


def futures_from_unified(symbol: str) -> str:
    """Inverse of `unified_from_futures`: `BTC/USD:USD` -> `PF_XBTUSD`."""
    pair, colon, settle_part = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not colon or not slash or not base or not quote or not settle_part:
        raise KrakenSymbolError(f"not a unified derivative symbol: {symbol!r}")
    settle, dash, expiry = settle_part.partition("-")
    if settle == quote:
        prefix = "FF" if dash else "PF"
    elif settle == base:
        prefix = "FI" if dash else "PI"
    else:
        raise KrakenSymbolError(f"settlement {settle!r} is neither base nor quote in {symbol!r}")
    kraken = f"{prefix}_{kraken_asset(base)}{kraken_asset(quote)}"
    if dash:
        if len(expiry) != 6 or not expiry.isdigit():
            raise KrakenSymbolError(f"bad expiry in {symbol!r}")
        kraken += f"_{expiry}"
    return kraken
