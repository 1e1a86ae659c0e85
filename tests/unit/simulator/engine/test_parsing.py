"""Amount parsing: absurd magnitudes are Kraken's invalid-argument error, never a crash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine.errors import KrakenError
from simulator.engine.parsing import parse_decimal, quantize_down


@pytest.mark.parametrize("raw", ["1E100", "-1e16", Decimal("1E+40"), "NaN", "inf", "x"])
def test_unusable_amounts_are_invalid_arguments(raw: Decimal | str) -> None:
    with pytest.raises(KrakenError, match="EGeneral:Invalid arguments:volume"):
        parse_decimal(raw, "volume")


@pytest.mark.parametrize("raw", ["0", "0.00000001", "999999999999999.5", "-12.5"])
def test_usable_amounts_parse_and_quantize(raw: str) -> None:
    value = parse_decimal(raw, "volume")
    assert value == Decimal(raw)
    assert quantize_down(value, 8) == Decimal(raw)
