"""The catalog of tradable instruments, identified by (venue, unified symbol)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import Instrument
from gateway.core.validation import check_symbol_text


class InstrumentCatalog:
    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Instrument] = {}
        self._by_symbol: defaultdict[str, list[Instrument]] = defaultdict(list)

    def add(self, instruments: Iterable[Instrument]) -> None:
        """Add or replace (same venue and symbol) instruments."""
        for inst in instruments:
            key = (inst.venue, inst.symbol)
            if key in self._by_key:
                self._by_symbol[inst.symbol].remove(self._by_key[key])
            self._by_key[key] = inst
            self._by_symbol[inst.symbol].append(inst)

    def list(self, venue: str | None = None) -> list[Instrument]:
        return [i for i in self._by_key.values() if venue is None or i.venue == venue]

    def get(self, symbol: str, venue: str = "") -> Instrument:
        """Raises InvalidArgument(UNKNOWN_VENUE) for a venue with no instruments here,
        UNKNOWN_SYMBOL, or INVALID_FIELD if the symbol is listed on several venues and none was
        named."""
        check_symbol_text(symbol)
        if venue:
            found = self._by_key.get((venue, symbol))
            if found is not None:
                return found
            if not any(v == venue for v, _ in self._by_key):
                raise InvalidArgument(
                    f"unknown venue {venue!r}: this gateway trades on "
                    f"{sorted({v for v, _ in self._by_key})}",
                    ErrorReason.UNKNOWN_VENUE,
                    metadata={"field": "venue"},
                )
        else:
            candidates = self._by_symbol.get(symbol, [])
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise InvalidArgument(
                    f"{symbol} trades on several venues; name one",
                    ErrorReason.INVALID_FIELD,
                    metadata={"field": "venue"},
                )
        raise InvalidArgument(
            f"unknown symbol {symbol}", ErrorReason.UNKNOWN_SYMBOL, metadata={"field": "symbol"}
        )
