"""The fault plan's matching rules, counters and file format; the WS token registry."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from simulator.accounts import DEMO_SPOT_KEY, demo_accounts
from simulator.context import WsTokenRegistry
from simulator.faults import (
    FaultAction,
    FaultPlan,
    FaultPlanError,
    SystemStatus,
    cancel_refusal,
    order_entry_refusal,
)


def _plan(rules: list[dict[str, object]], status: str = "online") -> FaultPlan:
    plan = FaultPlan()
    plan.load_json({"rules": rules, "system_status": status})
    return plan


def test_http_and_ws_rules_are_kept_apart() -> None:
    plan = _plan([
        {"match": "ws:*", "action": "drop"},
        {"match": "/0/private/*", "action": "error", "error": "EService:Busy"},
    ])  # fmt: skip
    assert plan.http_action("ws:book") is None
    rule = plan.http_action("/0/private/AddOrder")
    assert rule is not None and rule.action is FaultAction.ERROR and rule.error == "EService:Busy"
    assert plan.http_action("/0/public/Time") is None
    ws = plan.ws_action("ws:book")
    assert ws is not None and ws.action is FaultAction.DROP
    assert plan.ws_action("fws:book") is None


def test_skip_then_times() -> None:
    plan = _plan([{"match": "ws:executions", "action": "duplicate", "skip": 2, "times": 2}])
    fired = [plan.ws_action("ws:executions") is not None for _ in range(6)]
    assert fired == [False, False, True, True, False, False]


def test_first_matching_rule_wins_and_exhausted_rules_fall_through() -> None:
    plan = _plan([
        {"match": "fws:book", "action": "disconnect", "times": 1},
        {"match": "fws:*", "action": "delay", "delay_s": 0.5},
    ])  # fmt: skip
    first, second = plan.ws_action("fws:book"), plan.ws_action("fws:book")
    assert first is not None and first.action is FaultAction.DISCONNECT
    assert second is not None and second.action is FaultAction.DELAY and second.delay_s == 0.5


def test_file_round_trip_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"system_status": "maintenance", "rules": [
        {"match": "ws:book", "action": "bad_checksum", "times": 1}]}))  # fmt: skip
    plan = FaultPlan()
    plan.load_file(path)
    assert plan.system_status is SystemStatus.MAINTENANCE
    assert plan.to_json()["rules"][0]["action"] == "bad_checksum"
    plan.clear()
    assert plan.to_json() == {"system_status": "online", "rules": []}


@pytest.mark.parametrize(
    "raw",
    [
        {"rules": [{"action": "drop"}]},
        {"rules": [{"match": "x", "action": "nuke"}]},
        {"rules": [{"match": "x", "action": "drop", "times": -1}]},
        {"rules": [{"match": "x", "action": "delay", "delay_s": "soon"}]},
        {"system_status": "asleep"},
        {"rules": ["nope"]},
    ],
)
def test_malformed_plans(raw: dict[str, object]) -> None:
    with pytest.raises(FaultPlanError):
        FaultPlan().load_json(raw)


def test_status_refusals() -> None:
    online, maint = SystemStatus.ONLINE, SystemStatus.MAINTENANCE
    assert order_entry_refusal(online, post_only=False) is None
    assert order_entry_refusal(maint, post_only=True) == "EService:Unavailable"
    assert order_entry_refusal(SystemStatus.CANCEL_ONLY, post_only=True) == (
        "EService:Market in cancel_only mode"
    )
    assert order_entry_refusal(SystemStatus.POST_ONLY, post_only=True) is None
    assert order_entry_refusal(SystemStatus.POST_ONLY, post_only=False) == (
        "EService:Market in post_only mode"
    )
    assert cancel_refusal(SystemStatus.CANCEL_ONLY) is None
    assert cancel_refusal(maint) == "EService:Unavailable"


def test_ws_token_expires_unused_but_lives_while_in_use() -> None:
    key = demo_accounts().key(DEMO_SPOT_KEY)
    assert key is not None
    registry = WsTokenRegistry(random.Random(1))
    unused, used = registry.issue(key, 0), registry.issue(key, 0)
    assert unused != used and len(used) >= 40
    assert registry.resolve(used, 899) == key  # first use inside 15 minutes
    assert registry.resolve(unused, 901) is None
    assert registry.resolve(used, 5000) == key  # kept alive by its subscription
    registry.release(used)
    assert registry.resolve(used, 5000) is None
    assert registry.resolve("forged", 0) is None
