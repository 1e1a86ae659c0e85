"""AssetPairs -> instruments and the symbol map; ticker, depth, book and trade messages -> core
market data."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.core.model import (
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Instrument,
    InstrumentStatus,
    ProductType,
    PublicTrade,
    Ticker,
)
from gateway.venues.kraken.common.symbols import (
    KrakenPairNames,
    KrakenSymbolMap,
    unified_asset,
    unified_from_wsname,
)
from gateway.venues.kraken.common.wire_scalars import dec, opt_dec, parse_rfc3339
from gateway.venues.kraken.spot.schemas import (
    KrakenSpotAssetPair,
    KrakenSpotDepthEntry,
    KrakenSpotTickerEntry,
    KrakenSpotWsBookData,
    KrakenSpotWsInstrumentPair,
    KrakenSpotWsTickerData,
    KrakenSpotWsTradeData,
)
from gateway.venues.kraken.spot.wire_values import INSTRUMENT_STATUS, SIDES, VENUE, lookup

# ---- instruments ----------------------------------------------------------------------------


def pair_names(pair_id: str, pair: KrakenSpotAssetPair) -> KrakenPairNames:
    base = unified_asset(pair.get("base") or "")
    quote = unified_asset(pair.get("quote") or "")
    if not base or not quote:
        wsname = pair.get("wsname", "")
        base, _, quote = unified_from_wsname(wsname).partition("/")
    altname = pair.get("altname", pair_id)
    return KrakenPairNames(
        pair_id=pair_id,
        altname=altname,
        wsname=pair.get("wsname", f"{base}/{quote}"),
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
    )


def pair_book_decimals(pair: KrakenSpotAssetPair) -> tuple[int, int]:
    """(price, qty) decimals the book checksum is printed with: pair_decimals / lot_decimals
    (equal to WS v2 instrument price_precision / qty_precision)."""
    return int(pair.get("pair_decimals", 8)), int(pair.get("lot_decimals", 8))


def parse_instrument(pair_id: str, pair: KrakenSpotAssetPair) -> Instrument:
    """One AssetPairs entry. tick = `tick_size` (else 10^-pair_decimals), lot = 10^-lot_decimals.

    An unknown pair status maps to MAINTENANCE (not tradable) rather than failing the list.
    """
    names = pair_names(pair_id, pair)
    pair_decimals = int(pair.get("pair_decimals", 8))
    lot_decimals = int(pair.get("lot_decimals", 8))
    tick = pair.get("tick_size")
    return Instrument(
        venue=VENUE,
        symbol=names.symbol,
        venue_symbol=pair_id,
        product_type=ProductType.SPOT,
        base=names.base,
        quote=names.quote,
        tick_size=dec(tick, "tick_size") if tick else Decimal(1).scaleb(-pair_decimals),
        lot_size=Decimal(1).scaleb(-lot_decimals),
        min_qty=dec(pair.get("ordermin", "0"), "ordermin"),
        min_cost=dec(pair.get("costmin", "0"), "costmin"),
        status=INSTRUMENT_STATUS.get(pair.get("status", "online"), InstrumentStatus.MAINTENANCE),
    )


def parse_asset_pairs(
    result: Mapping[str, KrakenSpotAssetPair],
) -> tuple[list[Instrument], KrakenSymbolMap]:
    """All AssetPairs entries (dark-pool `.d` pairs skipped) and the symbol map built from them."""
    instruments: list[Instrument] = []
    names: list[KrakenPairNames] = []
    for pair_id, pair in result.items():
        if pair_id.endswith(".d"):
            continue
        instruments.append(parse_instrument(pair_id, pair))
        names.append(pair_names(pair_id, pair))
    return instruments, KrakenSymbolMap(names)


# ---- market data ----------------------------------------------------------------------------


def parse_ws_instrument_pair(pair: KrakenSpotWsInstrumentPair) -> tuple[Instrument, int, int]:
    """One pair of the WS v2 `instrument` channel: the Instrument plus (price, qty) precision for
    the book checksum. `venue_symbol` is the WS v2 symbol here (no REST pair id on this channel)."""
    symbol = unified_from_wsname(pair.get("symbol", ""))
    base, _, quote = symbol.partition("/")
    price_precision = int(pair.get("price_precision", 8))
    qty_precision = int(pair.get("qty_precision", 8))
    tick = pair.get("price_increment", pair.get("tick_size"))
    lot = pair.get("qty_increment")
    instrument = Instrument(
        venue=VENUE,
        symbol=symbol,
        venue_symbol=pair.get("symbol", ""),
        product_type=ProductType.SPOT,
        base=base,
        quote=quote,
        tick_size=dec(tick, "price_increment") if tick else Decimal(1).scaleb(-price_precision),
        lot_size=dec(lot, "qty_increment") if lot else Decimal(1).scaleb(-qty_precision),
        min_qty=dec(pair.get("qty_min", 0), "qty_min"),
        min_cost=dec(pair.get("cost_min", 0), "cost_min"),
        status=INSTRUMENT_STATUS.get(pair.get("status", "online"), InstrumentStatus.MAINTENANCE),
    )
    return instrument, price_precision, qty_precision


def parse_ticker(pair: str, entry: KrakenSpotTickerEntry, symbols: KrakenSymbolMap) -> Ticker:
    """REST Ticker: a/b = [price, whole-lot vol, lot vol], c = [last, vol]; 24h = index 1."""

    def at(key: str, i: int) -> Decimal | None:
        values: Any = entry.get(key)
        return dec(values[i], key) if values and len(values) > i else None

    return Ticker(
        venue=VENUE,
        symbol=symbols.unified(pair),
        bid=at("b", 0),
        bid_qty=at("b", 2),
        ask=at("a", 0),
        ask_qty=at("a", 2),
        last=at("c", 0),
        last_qty=at("c", 1),
        # Not "o": that is today's (UTC) opening price, not the price 24 hours ago.
        volume_24h=at("v", 1),
        vwap_24h=at("p", 1),
        high_24h=at("h", 1),
        low_24h=at("l", 1),
    )


def parse_ws_ticker(data: KrakenSpotWsTickerData) -> Ticker:
    def get(key: str) -> Decimal | None:
        return opt_dec(data.get(key), key)

    return Ticker(
        venue=VENUE,
        symbol=unified_from_wsname(data.get("symbol", "")),
        bid=get("bid"),
        bid_qty=get("bid_qty"),
        ask=get("ask"),
        ask_qty=get("ask_qty"),
        last=get("last"),
        volume_24h=get("volume"),
        vwap_24h=get("vwap"),
        high_24h=get("high"),
        low_24h=get("low"),
        time=parse_rfc3339(data.get("timestamp")),
    )


def parse_depth(pair: str, entry: KrakenSpotDepthEntry, symbols: KrakenSymbolMap) -> BookSnapshot:
    """REST Depth -> snapshot, best first (Kraken already sorts asks up, bids down)."""

    def levels(rows: list[list[str | int]], name: str) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(dec(r[0], f"{name}.price"), dec(r[1], f"{name}.qty")) for r in rows)

    return BookSnapshot(
        venue=VENUE,
        symbol=symbols.unified(pair),
        bids=levels(entry.get("bids", []), "bids"),
        asks=levels(entry.get("asks", []), "asks"),
    )


def ws_book_levels(data: KrakenSpotWsBookData, side: str) -> list[tuple[Decimal, Decimal]]:
    """(price, qty) pairs of one side of a WS v2 book message, in wire order (for KrakenL2Book)."""
    rows: Any = data.get(side, [])
    return [(dec(r["price"], "price"), dec(r["qty"], "qty")) for r in rows]


def parse_ws_book(data: KrakenSpotWsBookData, *, snapshot: bool) -> BookSnapshot | BookUpdate:
    bids = tuple(BookLevel(p, q) for p, q in ws_book_levels(data, "bids"))
    asks = tuple(BookLevel(p, q) for p, q in ws_book_levels(data, "asks"))
    symbol = unified_from_wsname(data["symbol"])
    checksum = data.get("checksum")
    time = parse_rfc3339(data.get("timestamp"))
    if snapshot:
        return BookSnapshot(
            venue=VENUE, symbol=symbol, bids=bids, asks=asks, checksum=checksum, time=time
        )
    return BookUpdate(
        venue=VENUE, symbol=symbol, bids=bids, asks=asks, checksum=checksum, time=time
    )


def parse_ws_trade(data: KrakenSpotWsTradeData) -> PublicTrade:
    return PublicTrade(
        venue=VENUE,
        symbol=unified_from_wsname(data["symbol"]),
        trade_id=str(data["trade_id"]),
        side=lookup(SIDES, data["side"], "side"),
        price=dec(data["price"], "price"),
        qty=dec(data["qty"], "qty"),
        time=parse_rfc3339(data.get("timestamp")),
    )
