"""What Spot REST and Spot WS v2 check before a trading request reaches the engine: one policy.

Both front ends parse their own wire spelling, then ask this module, in this order:

1. **Permission** of the key (`METHOD_PERMISSIONS` in simulator.spot.auth, keyed by the REST
   method name; a WS method uses its REST twin's entry): `EGeneral:Permission denied`.
2. **System status** (simulator.faults): new orders, amends and edits are refused under
   maintenance and cancel_only (and non-post-only ones under post_only); cancels, CancelAll and
   the dead man's switch are refused only under maintenance.
3. **Rate charge** on the per-pair trading counter, shared by REST and WS (wire 5.2): the fixed
   part of an add (+1, or n/2 for a batch) on receipt, so also for `validate` requests and for
   requests that then fail; amend/edit/cancel charges depend on the target's **age** (seconds since
   it was created or last amended, never negative) and apply when the target order is found; a
   cancel charges every target before any is cancelled; a batch cancel is accepted past the
   threshold.
4. **Deadline** (`deadline`, RFC3339) on add, batch add, amend and edit, the requests Kraken
   documents it for: `EService:Deadline elapsed` once the clock is past it.
5. **Open-order limit** per pair and tier for orders that would rest (not for `validate`):
   `EOrder:Orders limit exceeded`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from simulator.accounts import KrakenApiKey
from simulator.context import SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.model import Order
from simulator.faults import cancel_refusal, order_entry_refusal
from simulator.spot.auth import require_permission
from simulator.spot.limits import (
    add_order_cost,
    amend_order_cost,
    batch_add_cost,
    batch_cancel_cost,
    cancel_order_cost,
    edit_order_cost,
)

DEADLINE_ELAPSED = "EService:Deadline elapsed"
INVALID_DEADLINE = "EGeneral:Invalid arguments:deadline"


class TradingAction(StrEnum):
    """A trading request, named by its REST method (the WS method is its snake_case twin)."""

    ADD = "AddOrder"
    BATCH_ADD = "AddOrderBatch"
    AMEND = "AmendOrder"
    EDIT = "EditOrder"
    CANCEL = "CancelOrder"
    BATCH_CANCEL = "CancelOrderBatch"
    CANCEL_ALL = "CancelAll"
    CANCEL_AFTER = "CancelAllOrdersAfter"


_ENTRY_ACTIONS = frozenset({TradingAction.ADD, TradingAction.BATCH_ADD})
_CHANGE_ACTIONS = frozenset({TradingAction.AMEND, TradingAction.EDIT})


def parse_deadline(value: object) -> float | None:
    """A `deadline` parameter (RFC3339 text) as unix seconds; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise KrakenError(INVALID_DEADLINE)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise KrakenError(INVALID_DEADLINE) from None


class SpotTradingPolicy:
    """The checks and charges of one simulator's Spot trading front ends (module docstring)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    # -- 1 + 2: who may do what, now ------------------------------------------------------

    def admit(self, key: KrakenApiKey, action: TradingAction, *, post_only: bool = False) -> None:
        """Permission, then system status, for `action` (`post_only`: every new order is)."""
        self.permit(key, action)
        self.check_status(action, post_only=post_only)

    def permit(self, key: KrakenApiKey, action: TradingAction) -> None:
        require_permission(key, action.value)

    def check_status(self, action: TradingAction, *, post_only: bool = False) -> None:
        """Adds check it after their on-receipt charge (step 3), everything else before it."""
        status = self.ctx.faults.system_status
        if action in _ENTRY_ACTIONS or action in _CHANGE_ACTIONS:
            refusal = order_entry_refusal(status, post_only=post_only)
        else:
            refusal = cancel_refusal(status)
        if refusal is not None:
            raise KrakenError(refusal)

    # -- 3: the per-pair trading counter --------------------------------------------------

    def charge_add(self, account_id: str, pair_id: str, orders: int = 1) -> None:
        """The fixed part of an add (batch: n/2), charged on receipt."""
        cost = add_order_cost() if orders == 1 else batch_add_cost(orders)
        self._charge(account_id, pair_id, cost)

    def charge_change(self, account_id: str, action: TradingAction, order: Order | None) -> None:
        """An amend's or edit's charge, fixed + by the target's age; nothing when not found."""
        if order is None:
            return
        cost_of = amend_order_cost if action is TradingAction.AMEND else edit_order_cost
        self._charge(account_id, order.pair, cost_of(self.age(order)))

    def charge_cancels(self, account_id: str, orders: Iterable[Order], *, batch: bool) -> None:
        """Every target's cancel charge, per pair, before any is cancelled."""
        ages: dict[str, list[float]] = {}
        for order in orders:
            ages.setdefault(order.pair, []).append(self.age(order))
        for pair_id, pair_ages in ages.items():
            if batch:
                # A batch cancel is accepted even past the threshold (wire 5.2).
                self._charge(account_id, pair_id, batch_cancel_cost(pair_ages), force=True)
            else:
                self._charge(account_id, pair_id, sum(map(cancel_order_cost, pair_ages)))

    def age(self, order: Order) -> float:
        """Seconds since the order was created or last amended (wire 5.2 penalty columns)."""
        return max(0.0, self.ctx.now() - float(order.last_modified or order.opentm))

    def _charge(self, account_id: str, pair_id: str, cost: float, force: bool = False) -> None:
        tier = self.ctx.accounts.tier_of(account_id)
        self.ctx.limits.spend_trading(account_id, pair_id, tier, cost, self.ctx.now(), force=force)

    # -- 4 + 5: last checks before the engine ---------------------------------------------

    def check_deadline(self, deadline: float | None) -> None:
        if deadline is not None and deadline < self.ctx.now():
            raise KrakenError(DEADLINE_ELAPSED)

    def check_open_orders(self, account_id: str, pair_id: str, adding: int, validate: bool) -> None:
        """`EOrder:Orders limit exceeded` past the tier's open orders per pair (wire 5.2)."""
        if validate or not self.ctx.limits.config.enforce:
            return
        open_in_pair = self.ctx.spot().open_order_count(account_id, pair_id)
        self.ctx.limits.check_open_orders(
            self.ctx.accounts.tier_of(account_id), open_in_pair, adding
        )
