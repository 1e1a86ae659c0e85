"""Kraken <-> unified symbol mapping."""

from __future__ import annotations

import pytest

from gateway.venues.kraken.common.symbols import (
    KrakenPairNames,
    KrakenSymbolError,
    KrakenSymbolMap,
    futures_from_unified,
    kraken_asset,
    unified_asset,
    unified_from_futures,
    unified_from_pair_name,
    unified_from_wsname,
)


@pytest.mark.parametrize(
    ("kraken", "unified"),
    [("XXBT", "BTC"), ("XBT", "BTC"), ("XXDG", "DOGE"), ("XDG", "DOGE"), ("ZUSD", "USD"),
     ("XETH", "ETH"), ("USDT", "USDT"), ("DOT", "DOT"), ("XTZ", "XTZ"), ("ZEUS", "ZEUS"),
     ("XBT.M", "BTC.M"), ("DOT.S", "DOT.S")],
)  # fmt: skip
def test_assets(kraken: str, unified: str) -> None:
    assert unified_asset(kraken) == unified


def test_asset_reverse() -> None:
    assert kraken_asset("BTC") == "XBT"
    assert kraken_asset("DOGE") == "XDG"
    assert kraken_asset("ETH") == "ETH"


@pytest.mark.parametrize(
    ("name", "unified"),
    [("XXBTZUSD", "BTC/USD"), ("XETHXXBT", "ETH/BTC"), ("XBTUSD", "BTC/USD"),
     ("XBTUSDT", "BTC/USDT"), ("XDGUSD", "DOGE/USD"), ("ETHUSDT", "ETH/USDT"),
     ("XETHZUSD", "ETH/USD"), ("XBT/USD", "BTC/USD"), ("BTC/USD", "BTC/USD"),
     ("XDG/USD", "DOGE/USD")],
)  # fmt: skip
def test_pair_names_without_metadata(name: str, unified: str) -> None:
    assert unified_from_pair_name(name) == unified


def test_unsplittable_pair_raises() -> None:
    with pytest.raises(KrakenSymbolError):
        unified_from_pair_name("FOO")
    with pytest.raises(KrakenSymbolError):
        unified_from_wsname("XBT/")


def test_symbol_map_all_spellings() -> None:
    names = KrakenPairNames("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD", "BTC", "USD")
    sm = KrakenSymbolMap([names])
    for spelling in ("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD"):
        assert sm.by_kraken(spelling) is names
    assert sm.by_unified("BTC/USD").pair_id == "XXBTZUSD"
    assert sm.unified("XETHZUSD") == "ETH/USD"  # rule fallback
    assert "BTC/USD" in sm and len(sm) == 1
    with pytest.raises(KrakenSymbolError):
        sm.by_unified("ETH/USD")


@pytest.mark.parametrize(
    ("kraken", "unified"),
    [("PF_XBTUSD", "BTC/USD:USD"), ("PI_XBTUSD", "BTC/USD:BTC"), ("pi_xbtusd", "BTC/USD:BTC"),
     ("FI_XBTUSD_240628", "BTC/USD:BTC-240628"), ("FF_ETHUSD_241227", "ETH/USD:USD-241227"),
     ("PF_ETHUSD", "ETH/USD:USD"), ("PF_XDGUSD", "DOGE/USD:USD")],
)  # fmt: skip
def test_futures_round_trip(kraken: str, unified: str) -> None:
    assert unified_from_futures(kraken) == unified
    assert futures_from_unified(unified) == kraken.upper()


@pytest.mark.parametrize("bad", ["PX_XBTUSD", "PF_XBTUSD_240628", "FI_XBTUSD", "FI_XBTUSD_24"])
def test_futures_bad(bad: str) -> None:
    with pytest.raises(KrakenSymbolError):
        unified_from_futures(bad)


@pytest.mark.parametrize("bad", ["BTC/USD", "BTC/USD:EUR", "BTC/USD:USD-2406"])
def test_futures_unified_bad(bad: str) -> None:
    with pytest.raises(KrakenSymbolError):
        futures_from_unified(bad)
