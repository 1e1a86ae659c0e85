"""Kraken Spot rate limits: the REST call counter, the per-pair trading counter, auth lockouts.

All counters decay linearly with the injected clock, so tests can drive them without sleeping.
Thresholds (wire 5.1, 5.2): a call is refused when it would take the counter above the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.accounts import KrakenTier
from simulator.engine.errors import KrakenError

REST_RATE_LIMIT = "EAPI:Rate limit exceeded"
TRADING_RATE_LIMIT = "EOrder:Rate limit exceeded"
ORDERS_LIMIT = "EOrder:Orders limit exceeded"
TEMPORARY_LOCKOUT = "EGeneral:Temporary lockout"


@dataclass(frozen=True)
class TierLimits:
    rest_max: float
    rest_decay: float  # per second
    trading_threshold: float
    trading_decay: float  # per second
    max_open_orders_per_pair: int


TIER_LIMITS: dict[KrakenTier, TierLimits] = {
    KrakenTier.STARTER: TierLimits(15, 0.33, 60, 1.0, 60),
    KrakenTier.INTERMEDIATE: TierLimits(20, 0.5, 125, 2.34, 80),
    KrakenTier.PRO: TierLimits(20, 1.0, 180, 3.75, 225),
}

# REST counter cost per private method (wire 5.1). Order entry is charged on the trading counter.
_REST_FREE = frozenset(
    {"AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder", "CancelOrderBatch"}
)
_REST_HISTORY = frozenset({"Ledgers", "QueryLedgers", "TradesHistory"})

# Order-age penalty columns of wire 5.2: (age upper bound in seconds, points), first match wins.
_AMEND_AGE = ((5.0, 3), (10.0, 2), (15.0, 1))
_EDIT_AGE = ((5.0, 6), (10.0, 5), (15.0, 4), (45.0, 2), (90.0, 1))
_CANCEL_AGE = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))


def _age_points(table: tuple[tuple[float, int], ...], age_s: float) -> int:
    return next((points for bound, points in table if age_s < bound), 0)


def add_order_cost() -> float:
    return 1


def amend_order_cost(age_s: float) -> float:
    return 1 + _age_points(_AMEND_AGE, age_s)


def edit_order_cost(age_s: float) -> float:
    return 1 + _age_points(_EDIT_AGE, age_s)


def cancel_order_cost(age_s: float) -> float:
    return _age_points(_CANCEL_AGE, age_s)


def batch_add_cost(n: int) -> float:
    return n / 2


def batch_cancel_cost(ages_s: list[float]) -> float:
    return float(sum(cancel_order_cost(age) for age in ages_s))


@dataclass
class DecayingCounter:
    """A counter that loses `decay` per second, never below zero."""

    decay: float
    value: float = 0.0
    at: float = 0.0

    def current(self, now: float) -> float:
        return max(0.0, self.value - self.decay * max(0.0, now - self.at))

    def add(self, amount: float, now: float) -> float:
        self.value = self.current(now) + amount
        self.at = max(self.at, now)
        return self.value


@dataclass
class AuthLockout:
    """`EGeneral:Temporary lockout` after `threshold` consecutive auth failures of one key id."""

    threshold: int = 10
    duration_s: float = 900.0
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def locked(self, key_id: str, now: float) -> bool:
        until = self._locked_until.get(key_id)
        if until is None:
            return False
        if now >= until:
            del self._locked_until[key_id]
            return False
        return True

    def failure(self, key_id: str, now: float) -> None:
        count = self._failures.get(key_id, 0) + 1
        if count >= self.threshold:
            self._locked_until[key_id] = now + self.duration_s
            count = 0
        self._failures[key_id] = count

    def success(self, key_id: str) -> None:
        self._failures.pop(key_id, None)


@dataclass
class LimitsConfig:
    history_call_cost: float = 2  # wire 5.1 CONFLICT: 2 or 4
    lockout_threshold: int = 10
    lockout_duration_s: float = 900.0
    enforce: bool = True


class KrakenLimits:
    """Every Spot budget of one simulator: REST counters per key, trading counters per pair."""

    def __init__(self, config: LimitsConfig | None = None) -> None:
        self.config = config or LimitsConfig()
        self.lockout = AuthLockout(self.config.lockout_threshold, self.config.lockout_duration_s)
        self._rest: dict[str, DecayingCounter] = {}
        self._trading: dict[tuple[str, str], DecayingCounter] = {}

    # REST call counter (per API key) ----------------------------------------------------------

    def rest_cost(self, method: str) -> float:
        if method in _REST_FREE:
            return 0
        return self.config.history_call_cost if method in _REST_HISTORY else 1

    def spend_rest(self, api_key: str, tier: KrakenTier, method: str, now: float) -> None:
        cost = self.rest_cost(method)
        if cost == 0 or not self.config.enforce:
            return
        limits = TIER_LIMITS[tier]
        counter = self._rest.setdefault(api_key, DecayingCounter(limits.rest_decay))
        over = counter.current(now) + cost > limits.rest_max
        # Calling while limited extends the restriction (wire 5.1), bounded so it always ends.
        counter.add(cost, now)
        counter.value = min(counter.value, 2 * limits.rest_max)
        if over:
            raise KrakenError(REST_RATE_LIMIT)

    def rest_counter(self, api_key: str, now: float) -> float:
        counter = self._rest.get(api_key)
        return counter.current(now) if counter else 0.0

    # Trading counter (per account and pair, shared by REST and WS) ----------------------------

    def spend_trading(
        self,
        account_id: str,
        pair: str,
        tier: KrakenTier,
        cost: float,
        now: float,
        *,
        force: bool = False,
    ) -> None:
        """Charge `cost` points; refuse with `EOrder:Rate limit exceeded` past the threshold.

        `force` charges without refusing (a batch cancel is accepted past the maximum).
        """
        limits = TIER_LIMITS[tier]
        counter = self._trading.setdefault(
            (account_id, pair), DecayingCounter(limits.trading_decay)
        )
        if (
            not force
            and self.config.enforce
            and counter.current(now) + cost > limits.trading_threshold
        ):
            raise KrakenError(TRADING_RATE_LIMIT)
        counter.add(cost, now)

    def trading_counter(self, account_id: str, pair: str, now: float) -> float:
        counter = self._trading.get((account_id, pair))
        return counter.current(now) if counter else 0.0

    @staticmethod
    def trading_threshold(tier: KrakenTier) -> float:
        """`maxratecount` of the WS executions subscribe ack."""
        return TIER_LIMITS[tier].trading_threshold

    def check_open_orders(self, tier: KrakenTier, open_in_pair: int, adding: int = 1) -> None:
        if (
            self.config.enforce
            and open_in_pair + adding > TIER_LIMITS[tier].max_open_orders_per_pair
        ):
            raise KrakenError(ORDERS_LIMIT)
