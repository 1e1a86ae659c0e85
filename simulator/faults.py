"""Scriptable fault injection for every front end of the simulator.

A plan is a list of rules plus the system status. Each rule matches a target with a shell glob:

* HTTP rules match the request path, e.g. `/0/private/AddOrder`, `/derivatives/api/v3/*`.
* Spot WS v2 rules match `ws:<method or channel>`, e.g. `ws:add_order`, `ws:book`, `ws:*`.
* Futures WS v1 rules match `fws:<event or feed>`, e.g. `fws:book`.

HTTP actions: `http_status` (reply with `status`, no body from the venue), `error` (the venue's
envelope carrying `error`, e.g. `EService:Unavailable` / `EService:Busy`), `delay` (wait
`delay_s`, then serve normally), `drop_after_accept` (serve the request, so an order is placed,
then close the connection without answering), `delay_after_accept` (serve the request, then
wait `delay_s` before answering: a client timeout after the order was placed).
WS actions: `disconnect`, `drop`, `duplicate`, `delay`, `bad_checksum`.

`times` limits how often a rule fires (null = always); `skip` lets the first N matches pass.
The plan is loaded from a JSON file (`--faults FILE`) or set at run time through the test-only
admin endpoint `POST /_sim/faults` (same JSON; `DELETE /_sim/faults` clears it)::

    {"system_status": "online",
     "rules": [{"match": "/0/private/AddOrder", "action": "drop_after_accept", "times": 1}]}
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class SystemStatus(StrEnum):
    ONLINE = "online"
    MAINTENANCE = "maintenance"
    CANCEL_ONLY = "cancel_only"
    POST_ONLY = "post_only"


class FaultAction(StrEnum):
    HTTP_STATUS = "http_status"
    ERROR = "error"
    DELAY = "delay"
    DROP_AFTER_ACCEPT = "drop_after_accept"
    DELAY_AFTER_ACCEPT = "delay_after_accept"
    DISCONNECT = "disconnect"
    DROP = "drop"
    DUPLICATE = "duplicate"
    BAD_CHECKSUM = "bad_checksum"


HTTP_ACTIONS = frozenset(
    {
        FaultAction.HTTP_STATUS,
        FaultAction.ERROR,
        FaultAction.DELAY,
        FaultAction.DROP_AFTER_ACCEPT,
        FaultAction.DELAY_AFTER_ACCEPT,
    }
)
WS_ACTIONS = frozenset(
    {
        FaultAction.DISCONNECT,
        FaultAction.DROP,
        FaultAction.DUPLICATE,
        FaultAction.DELAY,
        FaultAction.BAD_CHECKSUM,
    }
)


class FaultPlanError(ValueError):
    """A malformed fault plan; the message names the offending rule."""


@dataclass
class FaultRule:
    match: str
    action: FaultAction
    status: int = 503
    error: str = "EService:Unavailable"
    delay_s: float = 0.0
    times: int | None = None
    skip: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "action": self.action.value,
            "status": self.status,
            "error": self.error,
            "delay_s": self.delay_s,
            "times": self.times,
            "skip": self.skip,
        }


class FaultPlan:
    """The live plan; front ends ask it once per request or message."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.system_status = SystemStatus.ONLINE

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()
        self.system_status = SystemStatus.ONLINE

    def load_json(self, raw: Mapping[str, Any]) -> None:
        """Replace the plan with `raw` (the admin endpoint / file format)."""
        rules = [parse_rule(r, f"rules[{i}]") for i, r in enumerate(raw.get("rules", []))]
        status = raw.get("system_status", SystemStatus.ONLINE.value)
        try:
            system_status = SystemStatus(status)
        except ValueError as exc:
            raise FaultPlanError(f"unknown system_status {status!r}") from exc
        self.rules = rules
        self.system_status = system_status

    def load_file(self, path: Path) -> None:
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise FaultPlanError(f"{path}: {exc}") from exc
        if not isinstance(raw, Mapping):
            raise FaultPlanError(f"{path}: expected a JSON object")
        self.load_json(raw)

    def to_json(self) -> dict[str, Any]:
        return {
            "system_status": self.system_status.value,
            "rules": [r.to_json() for r in self.rules],
        }

    def http_action(self, path: str) -> FaultRule | None:
        """The rule to apply to this HTTP request, consuming one of its `times`."""
        return self._fire(path, HTTP_ACTIONS)

    def ws_action(self, target: str) -> FaultRule | None:
        """The rule to apply to one WS message, e.g. `ws_action("ws:book")`; None = deliver."""
        return self._fire(target, WS_ACTIONS)

    def _fire(self, target: str, allowed: frozenset[FaultAction]) -> FaultRule | None:
        for rule in self.rules:
            if rule.action not in allowed or not fnmatch.fnmatchcase(target, rule.match):
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            if rule.times is not None:
                if rule.times <= 0:
                    continue
                rule.times -= 1
            return rule
        return None


def parse_rule(raw: Any, where: str) -> FaultRule:
    if not isinstance(raw, Mapping):
        raise FaultPlanError(f"{where}: expected an object")
    match = raw.get("match")
    if not isinstance(match, str) or not match:
        raise FaultPlanError(f"{where}: `match` must be a non-empty string")
    try:
        action = FaultAction(str(raw.get("action")))
    except ValueError as exc:
        raise FaultPlanError(f"{where}: unknown action {raw.get('action')!r}") from exc
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 0):
        raise FaultPlanError(f"{where}: `times` must be a non-negative integer or null")
    try:
        return FaultRule(
            match=match,
            action=action,
            status=int(raw.get("status", 503)),
            error=str(raw.get("error", "EService:Unavailable")),
            delay_s=float(raw.get("delay_s", 0.0)),
            times=times,
            skip=int(raw.get("skip", 0)),
        )
    except (TypeError, ValueError) as exc:
        raise FaultPlanError(f"{where}: {exc}") from exc


def order_entry_refusal(status: SystemStatus, *, post_only: bool) -> str | None:
    """Kraken's error for a new order under this system status, None when it may proceed."""
    if status is SystemStatus.MAINTENANCE:
        return "EService:Unavailable"
    if status is SystemStatus.CANCEL_ONLY:
        return "EService:Market in cancel_only mode"
    if status is SystemStatus.POST_ONLY and not post_only:
        return "EService:Market in post_only mode"
    return None


def cancel_refusal(status: SystemStatus) -> str | None:
    """Cancels are allowed in every mode except maintenance."""
    return "EService:Unavailable" if status is SystemStatus.MAINTENANCE else None
