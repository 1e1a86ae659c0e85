"""Turning AddOrder/AmendOrder wire values into Decimals, with Kraken's error strings.

Rounding choices (documented for users of the simulator):
- volume with more decimals than the pair's `lot_decimals` is truncated (toward zero);
- a price with more decimals than `pair_decimals` is refused with Kraken's
  `EOrder:Invalid price:<pair> price can only be specified up to N decimals.`, and a price off
  `tick_size` with `EOrder:Tick size check failed`;
- relative prices (`+`, `-`, `#`, `%`) resolve against the reference and are then rounded to the
  pair's tick (half-even), as Kraken does for computed prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from simulator.engine.errors import KrakenError
from simulator.engine.model import OrderType, Side
from simulator.engine.pairs import KrakenPair

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_MAGNITUDE = 15  # the largest decimal exponent an amount may have (below 10^16)


def parse_decimal(value: Decimal | str | int, field: str) -> Decimal:
    """A finite Decimal or `EGeneral:Invalid arguments:<field>`."""
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise KrakenError(f"EGeneral:Invalid arguments:{field}") from None
    # Past 10^15 no Kraken amount is meaningful, and quantizing it to a pair's decimals would
    # overflow Decimal's 28-digit context: refuse it as Kraken refuses any unparsable number.
    if not number.is_finite() or (number and number.adjusted() > MAX_MAGNITUDE):
        raise KrakenError(f"EGeneral:Invalid arguments:{field}")
    return number


def quantize_down(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True, slots=True)
class PriceSpec:
    """A parsed `price`/`price2`: absolute, or relative with a sign (`+`, `-`, `#`) and `%`."""

    value: Decimal
    sign: str = ""  # "" absolute, "+", "-", "#"
    percent: bool = False

    @property
    def relative(self) -> bool:
        return self.sign != "" or self.percent

    def text(self) -> str:
        return f"{self.sign}{self.value}{'%' if self.percent else ''}"


def parse_price_spec(value: Decimal | str, field: str) -> PriceSpec:
    if isinstance(value, Decimal):
        return PriceSpec(parse_decimal(value, field))
    text = value.strip()
    sign = ""
    if text[:1] in ("+", "-", "#"):
        sign, text = text[0], text[1:]
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    number = parse_decimal(text, field)
    if number < 0 or (not sign and not percent and number == 0):
        raise KrakenError(f"EGeneral:Invalid arguments:{field}")
    return PriceSpec(number, sign, percent)


def offset_amount(spec: PriceSpec, reference: Decimal) -> Decimal:
    return reference * spec.value / HUNDRED if spec.percent else spec.value


def auto_sign(side: Side, ordertype: OrderType) -> int:
    """Direction `#` picks: away from the market on the side where the order makes sense."""
    above = {
        OrderType.LIMIT: side is Side.SELL,
        OrderType.ICEBERG: side is Side.SELL,
        OrderType.STOP_LOSS: side is Side.BUY,
        OrderType.STOP_LOSS_LIMIT: side is Side.BUY,
        OrderType.TAKE_PROFIT: side is Side.SELL,
        OrderType.TAKE_PROFIT_LIMIT: side is Side.SELL,
    }.get(ordertype, side is Side.BUY)
    return 1 if above else -1


def resolve_price(
    spec: PriceSpec, reference: Decimal, side: Side, ordertype: OrderType, pair: KrakenPair
) -> Decimal:
    """An absolute price on the pair's tick (relative forms resolved against `reference`)."""
    if not spec.relative:
        return check_price(spec.value, pair)
    amount = offset_amount(spec, reference)
    # A bare "5%" has no sign: treat it like "#" (direction chosen by side and type).
    direction = {"+": 1, "-": -1}.get(spec.sign) or auto_sign(side, ordertype)
    price = round_to_tick(reference + direction * amount, pair)
    if price <= 0:
        raise KrakenError("EOrder:Invalid price")
    return price


def round_to_tick(price: Decimal, pair: KrakenPair) -> Decimal:
    ticks = (price / pair.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (ticks * pair.tick_size).quantize(Decimal(1).scaleb(-pair.pair_decimals))


def check_price(price: Decimal, pair: KrakenPair) -> Decimal:
    """Refuse a price Kraken would refuse; return it at the pair's price precision."""
    if price <= 0:
        raise KrakenError("EOrder:Invalid price")
    if decimals_of(price) > pair.pair_decimals:
        raise KrakenError(
            f"EOrder:Invalid price:{pair.wsname} price can only be specified up to "
            f"{pair.pair_decimals} decimals."
        )
    if price % pair.tick_size != 0:
        raise KrakenError("EOrder:Tick size check failed")
    return price.quantize(Decimal(1).scaleb(-pair.pair_decimals))


def parse_time_spec(value: Decimal | str | None, now: Decimal, field: str) -> Decimal:
    """`0`/absent -> 0, `+<n>` -> now + n, else an absolute unix time."""
    if value is None:
        return ZERO
    if isinstance(value, str) and value.strip().startswith("+"):
        return now + parse_decimal(value.strip()[1:], field)
    number = parse_decimal(value, field)
    if number < 0:
        raise KrakenError(f"EGeneral:Invalid arguments:{field}")
    return number
