"""Decimal <-> wire string conversion. Floats are refused: they cannot carry exact prices."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["DecimalLike", "from_wire", "from_wire_or_zero", "to_wire"]

DecimalLike = Decimal | int | str


def to_wire(value: DecimalLike | None) -> str:
    """The contract's decimal string for `value`; "" (unset) for None."""
    if value is None:
        return ""
    # bool is an int subclass, and float would silently round: both are refused.
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"expected Decimal, int or str, got {type(value).__name__}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    # Fixed-point notation: the gateway rejects exponents like "1E+2".
    return format(number, "f")


def from_wire(text: str) -> Decimal | None:
    """The Decimal of a wire string; None for "" (unset)."""
    return Decimal(text) if text else None


def from_wire_or_zero(text: str) -> Decimal:
    """The Decimal of a wire string; 0 for "" (quantities the gateway leaves unset when zero)."""
    return Decimal(text) if text else Decimal(0)
