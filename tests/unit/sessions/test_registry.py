from __future__ import annotations

import hashlib

import pytest

from gateway.config import AccountConfig, ApiKeyPair, Secret, SessionConfig
from gateway.core.errors import AlreadyExists, ErrorReason, FailedPrecondition
from gateway.core.model import Permission
from gateway.sessions.auth import TokenAuthenticator, parse_bearer
from gateway.sessions.registry import ActiveSession, EndReason, SessionRegistry

TRADER = frozenset({Permission.READ, Permission.TRADE})
KEY = ApiKeyPair(Secret("shared-key"), Secret("shared-secret"))


def _session(sid: str, account: str, perms: frozenset[Permission] = TRADER) -> SessionConfig:
    digest = hashlib.sha256(f"token-{sid}".encode()).digest()
    return SessionConfig(session_id=sid, account=account, token_sha256=digest, permissions=perms)


ACCOUNTS = {
    "acct1": AccountConfig("acct1", None, TRADER | {Permission.DROP_COPY}, spot_key=KEY),
    # Same key as acct1, configured under another profile: still one key, one lease.
    "acct1-alias": AccountConfig("acct1-alias", None, TRADER, spot_key=KEY),
    "paper": AccountConfig("paper", None, TRADER),
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> SessionRegistry:
    return SessionRegistry(ACCOUNTS, heartbeat_interval_s=1.0, heartbeat_timeout_s=3.0, clock=clock)


def test_second_logon_same_session_refused(registry: SessionRegistry) -> None:
    registry.logon(_session("a", "acct1"))
    with pytest.raises(AlreadyExists) as err:
        registry.logon(_session("a", "acct1"))
    assert err.value.reason is ErrorReason.SESSION_ALREADY_ACTIVE


def test_second_session_on_same_key_refused_until_logout(registry: SessionRegistry) -> None:
    registry.logon(_session("a", "acct1"))
    with pytest.raises(AlreadyExists) as err:
        registry.logon(_session("b", "acct1-alias"))
    assert err.value.reason is ErrorReason.KEY_LEASED
    assert "shared-key" not in str(err.value)


async def test_logout_frees_the_lease(registry: SessionRegistry) -> None:
    registry.logon(_session("a", "acct1"))
    await registry.logout("a")
    registry.logon(_session("b", "acct1-alias"))


def test_observer_takes_no_lease(registry: SessionRegistry) -> None:
    registry.logon(_session("a", "acct1"))
    obs = registry.logon(_session("audit", "acct1", frozenset({Permission.DROP_COPY})))
    assert obs.lease_key is None and obs.drop_copy


def test_paper_account_leases_by_account(registry: SessionRegistry) -> None:
    registry.logon(_session("p1", "paper"))
    with pytest.raises(AlreadyExists):
        registry.logon(_session("p2", "paper"))


def test_not_logged_on(registry: SessionRegistry) -> None:
    with pytest.raises(FailedPrecondition):
        registry.require_active("a", None)


async def test_heartbeat_timeout_ends_idle_session_and_runs_hooks(
    registry: SessionRegistry, clock: Clock
) -> None:
    ended: list[tuple[str, EndReason, bool]] = []

    async def hook(s: ActiveSession, reason: EndReason) -> None:
        ended.append((s.session_id, reason, s.cancel_on_disconnect))

    registry.add_end_hook(hook)
    a = registry.logon(_session("a", "acct1"), cancel_on_disconnect=True)
    p = registry.logon(_session("p", "paper"))
    clock.now += 2.9
    registry.require_active("p", p.logon_id)  # activity keeps p alive
    assert await registry.end_idle() == []
    clock.now += 0.2
    assert await registry.end_idle() == [a]
    assert ended == [("a", EndReason.TIMEOUT, True)]
    assert a.ended.is_set()
    registry.logon(_session("b", "acct1-alias"))  # lease was freed


async def test_an_open_stream_alone_does_not_keep_the_session_alive(
    registry: SessionRegistry, clock: Clock
) -> None:
    a = registry.logon(_session("a", "acct1"))
    registry.stream_opened(a)
    clock.now += 2.9
    assert await registry.end_idle() == []
    registry.touch(a)  # a request on the stream counts as the client's traffic
    clock.now += 2.9
    assert await registry.end_idle() == []
    clock.now += 0.1
    assert await registry.end_idle() == [a]  # stream still open: timed out all the same


async def test_stated_heartbeat_interval_sets_the_timeout_to_two_intervals(
    registry: SessionRegistry, clock: Clock
) -> None:
    a = registry.logon(_session("a", "acct1"), heartbeat_interval_s=10)
    assert a.heartbeat_timeout_s == 20
    clock.now += 19.9
    assert await registry.end_idle() == []
    clock.now += 0.1
    assert await registry.end_idle() == [a]


async def test_failing_hook_still_frees_lease(registry: SessionRegistry) -> None:
    async def broken(s: ActiveSession, reason: EndReason) -> None:
        raise RuntimeError("venue down")

    registry.add_end_hook(broken)
    registry.logon(_session("a", "acct1"))
    await registry.end_all()
    registry.logon(_session("b", "acct1-alias"))


async def test_end_of_old_logon_does_not_end_new_one(registry: SessionRegistry) -> None:
    old = registry.logon(_session("a", "acct1"))
    await registry.logout("a")
    new = registry.logon(_session("a", "acct1"))
    await registry.end(old, EndReason.TIMEOUT)
    assert registry.get("a") is new


def test_authenticator_constant_time_lookup() -> None:
    auth = TokenAuthenticator([_session("a", "acct1"), _session("b", "paper")])
    found = auth.authenticate("token-b")
    assert found is not None and found.session_id == "b"
    assert auth.authenticate("token-c") is None
    assert auth.authenticate("") is None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        (None, None),
        ("Bearer " + "x" * 5000, None),
    ],
)
def test_parse_bearer(header: str | None, token: str | None) -> None:
    assert parse_bearer(header) == token


async def test_accounts_another_gateway_serves_are_refused_live(clock: Clock) -> None:
    refused: dict[str, str] = {"paper": "account 'paper' is served by another gateway"}
    registry = SessionRegistry(
        ACCOUNTS,
        heartbeat_interval_s=1.0,
        heartbeat_timeout_s=3.0,
        clock=clock,
        refused_accounts=refused,
    )
    with pytest.raises(AlreadyExists) as err:
        registry.logon(_session("p", "paper", frozenset({Permission.READ})))
    assert err.value.reason is ErrorReason.KEY_LEASED
    assert "another gateway" in err.value.message
    del refused["paper"]  # this gateway took the account over
    active = registry.logon(_session("p", "paper"))
    other = registry.logon(_session("a", "acct1"))
    await registry.end_account("paper")  # and lost it again
    assert active.ended.is_set() and registry.get("p") is None
    assert registry.get("a") is other
