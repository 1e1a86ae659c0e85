"""Kraken Futures `instruments` (and `tickers`) -> core Instruments and Tickers.

Unified symbols follow CCXT: `PF_XBTUSD` -> `BTC/USD:USD` (linear perpetual), `PI_XBTUSD` ->
`BTC/USD:BTC` (inverse perpetual), `FI_XBTUSD_YYMMDD` / `FF_..._YYMMDD` -> `...-YYMMDD` (dated).
Rows the gateway cannot trade (options, index rows, unknown prefixes) are left out.

Per instrument: tick size `tickSize`; quantities in contracts with `contractValueTradePrecision`
decimals (negative: multiples of 10^-precision), so lot size = min qty = 10^-precision;
`contractSize` as published; max leverage = 1 / the lowest tier's initial margin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.core.model import Instrument, InstrumentStatus, ProductType, Ticker
from gateway.venues.kraken.common.symbols import KrakenSymbolError, unified_from_futures
from gateway.venues.kraken.common.wire_scalars import KrakenParseError, dec, opt_dec
from gateway.venues.kraken.futures.wire_values import VENUE, as_bool, parse_time

log = logging.getLogger(__name__)

# `type` of tradable rows; anything else (options, spot index rows) is skipped.
PRODUCT_TYPES: Mapping[str, ProductType] = {
    "flexible_futures": ProductType.PERPETUAL,
    "futures_inverse": ProductType.PERPETUAL,
    "futures_vanilla": ProductType.PERPETUAL,
}


@dataclass(frozen=True, slots=True)
class KrakenFuturesSymbols:
    """Kraken Futures symbols (upper case, e.g. `PF_XBTUSD`) <-> unified symbols."""

    to_unified: Mapping[str, str]
    to_kraken: Mapping[str, str]

    def unified(self, kraken_symbol: str) -> str:
        try:
            return self.to_unified[kraken_symbol.upper()]
        except KeyError:
            raise KrakenParseError(f"unknown Kraken Futures symbol {kraken_symbol!r}") from None

    def kraken(self, unified: str) -> str:
        try:
            return self.to_kraken[unified]
        except KeyError:
            raise KrakenParseError(f"no Kraken Futures symbol for {unified!r}") from None

    @classmethod
    def of(cls, instruments: Iterable[Instrument]) -> KrakenFuturesSymbols:
        items = [(i.venue_symbol.upper(), i.symbol) for i in instruments]
        return cls(dict(items), {u: k for k, u in items})


def _max_leverage(row: Mapping[str, Any]) -> Decimal | None:
    levels = row.get("marginLevels") or []
    if not levels:
        return None
    initial = dec(levels[0].get("initialMargin"), "initialMargin")
    return (Decimal(1) / initial).normalize() if initial > 0 else None


def _status(row: Mapping[str, Any]) -> InstrumentStatus:
    if not as_bool(row.get("tradeable", True)):
        return InstrumentStatus.CANCEL_ONLY
    if as_bool(row.get("postOnly", False)):
        return InstrumentStatus.POST_ONLY
    return InstrumentStatus.ONLINE


def parse_instrument(row: Mapping[str, Any]) -> Instrument | None:
    """One `instruments[]` row, or None when the gateway does not trade its kind."""
    kraken_symbol = str(row.get("symbol", ""))
    kind = str(row.get("type", ""))
    if kind not in PRODUCT_TYPES:
        return None
    try:
        symbol = unified_from_futures(kraken_symbol)
    except KrakenSymbolError:
        return None
    pair, _, settle_part = symbol.partition(":")
    base, _, quote = pair.partition("/")
    settle, dash, _ = settle_part.partition("-")
    precision = int(dec(row.get("contractValueTradePrecision", 0), "precision"))
    lot = Decimal(1).scaleb(-precision)
    return Instrument(
        venue=VENUE,
        symbol=symbol,
        venue_symbol=kraken_symbol.upper(),
        product_type=ProductType.FUTURE if dash else PRODUCT_TYPES[kind],
        base=base,
        quote=quote,
        settle=settle,
        tick_size=dec(row["tickSize"], "tickSize"),
        lot_size=lot,
        min_qty=lot,
        status=_status(row),
        contract_size=dec(row.get("contractSize", 1), "contractSize"),
        expiry=parse_time(row.get("lastTradingTime")) if dash else None,
        max_leverage=_max_leverage(row),
    )


def parse_instruments(payload: Mapping[str, Any]) -> tuple[list[Instrument], KrakenFuturesSymbols]:
    """The `instruments` response -> tradable instruments and the symbol map."""
    out: list[Instrument] = []
    for row in payload.get("instruments", []):
        inst = parse_instrument(row)
        if inst is None:
            log.debug("futures instrument not traded", extra={"venue_symbol": row.get("symbol")})
            continue
        out.append(inst)
    return out, KrakenFuturesSymbols.of(out)


def parse_ticker(row: Mapping[str, Any], symbols: KrakenFuturesSymbols) -> Ticker:
    """One `tickers[]` row (REST) -> core Ticker."""
    return Ticker(
        venue=VENUE,
        symbol=symbols.unified(str(row["symbol"])),
        bid=opt_dec(row.get("bid"), "bid"),
        bid_qty=opt_dec(row.get("bidSize"), "bidSize"),
        ask=opt_dec(row.get("ask"), "ask"),
        ask_qty=opt_dec(row.get("askSize"), "askSize"),
        last=opt_dec(row.get("last"), "last"),
        last_qty=opt_dec(row.get("lastSize"), "lastSize"),
        open_24h=opt_dec(row.get("open24h"), "open24h"),
        volume_24h=opt_dec(row.get("vol24h"), "vol24h"),
        high_24h=opt_dec(row.get("high24h"), "high24h"),
        low_24h=opt_dec(row.get("low24h"), "low24h"),
        mark_price=opt_dec(row.get("markPrice"), "markPrice"),
        index_price=opt_dec(row.get("indexPrice"), "indexPrice"),
        funding_rate=opt_dec(row.get("fundingRate"), "fundingRate"),
        open_interest=opt_dec(row.get("openInterest"), "openInterest"),
        time=parse_time(row.get("lastTime")),
    )


def parse_ws_ticker(msg: Mapping[str, Any], symbols: KrakenFuturesSymbols) -> Ticker:
    """A WS v1 `ticker` message -> core Ticker."""
    return Ticker(
        venue=VENUE,
        symbol=symbols.unified(str(msg["product_id"])),
        bid=opt_dec(msg.get("bid"), "bid"),
        bid_qty=opt_dec(msg.get("bid_size"), "bid_size"),
        ask=opt_dec(msg.get("ask"), "ask"),
        ask_qty=opt_dec(msg.get("ask_size"), "ask_size"),
        last=opt_dec(msg.get("last"), "last"),
        open_24h=opt_dec(msg.get("open"), "open"),
        volume_24h=opt_dec(msg.get("volume"), "volume"),
        high_24h=opt_dec(msg.get("high"), "high"),
        low_24h=opt_dec(msg.get("low"), "low"),
        mark_price=opt_dec(msg.get("markPrice"), "markPrice"),
        index_price=opt_dec(msg.get("index"), "index"),
        funding_rate=opt_dec(msg.get("funding_rate"), "funding_rate"),
        open_interest=opt_dec(msg.get("openInterest"), "openInterest"),
        time=parse_time(msg.get("time")),
    )


def tickers_by_symbol(
    payload: Mapping[str, Any], symbols: KrakenFuturesSymbols
) -> Sequence[Ticker]:
    """The `tickers` response, rows of traded instruments only."""
    return [
        parse_ticker(row, symbols)
        for row in payload.get("tickers", [])
        if str(row.get("symbol", "")).upper() in symbols.to_unified
    ]
