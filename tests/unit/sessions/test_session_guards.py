"""Logon hooks of the registry and the app's mapping of key-leasing sessions onto SessionGuards
(the dead man's switch plugs in as one), with a fake guard and a manual clock."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.app import _guard_sessions
from gateway.config import AccountConfig, ApiKeyPair, Secret, SessionConfig
from gateway.core.model import Permission
from gateway.sessions.registry import ActiveSession, SessionRegistry
from gateway.startup import LiveSessionMarks

TRADE = frozenset({Permission.READ, Permission.TRADE})
KEY = ApiKeyPair(Secret("guard-key"), Secret("guard-secret"))
ACCOUNTS = {
    "kraken": AccountConfig("kraken", None, TRADE | {Permission.DROP_COPY}, spot_key=KEY),
    "other": AccountConfig("other", None, TRADE),
}


def _session(sid: str, account: str, perms: frozenset[Permission] = TRADE) -> SessionConfig:
    digest = hashlib.sha256(f"token-{sid}".encode()).digest()
    return SessionConfig(session_id=sid, account=account, token_sha256=digest, permissions=perms)


class FakeGuard:
    def __init__(self) -> None:
        self.events: list[str] = []

    def session_started(self) -> None:
        self.events.append("started")

    async def session_ended(self, clean: bool) -> None:
        self.events.append("clean" if clean else "lost")

    def restarted(self) -> None:
        self.events.append("restarted")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> SessionRegistry:
    return SessionRegistry(ACCOUNTS, heartbeat_interval_s=1.0, heartbeat_timeout_s=3.0, clock=clock)


@pytest.fixture
def marks(tmp_path: Path) -> LiveSessionMarks:
    return LiveSessionMarks(tmp_path)


@pytest.fixture
def guard(registry: SessionRegistry, marks: LiveSessionMarks) -> FakeGuard:
    guard = FakeGuard()
    _guard_sessions(registry, {"kraken": [guard]}, marks)
    return guard


def test_logon_hooks_run_before_logon_returns_and_a_failing_one_is_contained(
    registry: SessionRegistry,
) -> None:
    seen: list[str] = []

    def broken(active: ActiveSession) -> None:
        raise RuntimeError("boom")

    registry.add_logon_hook(broken)
    registry.add_logon_hook(lambda active: seen.append(active.session_id))
    active = registry.logon(_session("a", "kraken"))
    assert seen == ["a"] and registry.get("a") is active


async def test_trading_session_starts_and_logout_ends_cleanly(
    registry: SessionRegistry, guard: FakeGuard, marks: LiveSessionMarks
) -> None:
    registry.logon(_session("t", "kraken"))
    assert guard.events == ["started"]
    assert marks.were_live() == {"kraken"}  # what a restart after a crash would find
    await registry.logout("t")
    assert guard.events == ["started", "clean"]
    assert marks.were_live() == set()  # an ended session leaves nothing to re-arm


async def test_heartbeat_timeout_is_a_lost_session(
    registry: SessionRegistry, guard: FakeGuard, clock: Clock
) -> None:
    registry.logon(_session("t", "kraken"))
    clock.now += 10
    assert [s.session_id for s in await registry.end_idle()] == ["t"]
    assert guard.events == ["started", "lost"]


async def test_liveness_is_the_clients_traffic_not_its_open_streams(
    registry: SessionRegistry, guard: FakeGuard, clock: Clock
) -> None:
    active = registry.logon(_session("t", "kraken"))
    registry.stream_opened(active)  # e.g. an execution stream of a client that then hangs
    clock.now += 2.9
    assert await registry.end_idle() == []
    registry.require_active("t", active.logon_id)  # a heartbeat
    clock.now += 2.9
    assert await registry.end_idle() == []
    clock.now += 0.1  # 3 s (the timeout) without a word from the client, stream still open
    assert [s.session_id for s in await registry.end_idle()] == ["t"]
    assert guard.events == ["started", "lost"]


async def test_shutdown_ends_cleanly(registry: SessionRegistry, guard: FakeGuard) -> None:
    registry.logon(_session("t", "kraken"))
    await registry.end_all()
    assert guard.events == ["started", "clean"]


async def test_observers_touch_no_guard(
    registry: SessionRegistry, guard: FakeGuard, clock: Clock
) -> None:
    registry.logon(_session("dc", "kraken", frozenset({Permission.DROP_COPY})))
    registry.logon(_session("ro", "kraken", frozenset({Permission.READ})))
    await registry.logout("dc")
    clock.now += 10
    await registry.end_idle()
    assert guard.events == []


async def test_other_accounts_touch_no_guard(registry: SessionRegistry, guard: FakeGuard) -> None:
    registry.logon(_session("o", "other"))
    await registry.logout("o")
    assert guard.events == []
