"""The fleet client's decisions after a failed call (krakengw.failover), shared by `Client` and
`AsyncClient`: where to move, when to log on again, when to give up."""

from __future__ import annotations

import grpc

from krakengw import KrakenGwError, ReconnectPolicy
from krakengw.failover import Failover, SwitchingChannel

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def _failover(max_attempts: int = 3) -> Failover:
    channel = SwitchingChannel(["a:1", "b:2", "c:3"], lambda address: f"channel {address}")
    return Failover(channel, ReconnectPolicy(max_attempts=max_attempts))


def test_a_refusal_naming_the_serving_gateway_moves_there() -> None:
    failover = _failover()
    moved = KrakenGwError(
        UNAVAILABLE, "served elsewhere", reason="SESSION_MOVED", metadata={"address": "c:3"}
    )
    assert failover.retry_delay(moved, 0, 0, logged_on=True) is not None
    assert failover.channel.current == "c:3"


def test_a_dead_gateway_or_a_lost_lease_moves_to_the_next_address() -> None:
    failover = _failover()
    for reason, expected in (("", "b:2"), ("KEY_LEASED", "c:3"), ("GATEWAY_SHUTTING_DOWN", "a:1")):
        seen = failover.channel.generation
        failure = KrakenGwError(UNAVAILABLE, "gone", reason=reason)
        assert failover.retry_delay(failure, seen, 0, logged_on=True) is not None
        assert failover.channel.current == expected


def test_a_move_seen_by_an_older_call_does_not_move_again() -> None:
    failover = _failover()
    failure = KrakenGwError(UNAVAILABLE, "gone")
    failover.retry_delay(failure, 0, 0, logged_on=True)
    failover.retry_delay(failure, 0, 0, logged_on=True)  # made before the first move
    assert failover.channel.current == "b:2"


def test_not_logged_on_is_retried_after_a_relogon_only_when_logged_on() -> None:
    failover = _failover()
    lost = KrakenGwError(UNAVAILABLE, "not logged on", reason="NOT_LOGGED_ON")
    assert failover.retry_delay(lost, 0, 0, logged_on=True) is not None
    assert failover.channel.current == "a:1"  # the relogon tells where to go
    assert failover.retry_delay(lost, 0, 0, logged_on=False) is None
    assert failover.retry_delay(lost, 0, 0, logged_on=True, is_logon=True) is None
    assert failover.follows(lost, logged_on=True) and not failover.follows(lost, logged_on=False)
    # The relogon's refusal moves the client where the session is served.
    moved = KrakenGwError(
        UNAVAILABLE, "served elsewhere", reason="SESSION_MOVED", metadata={"address": "b:2"}
    )
    assert failover.relogon_failed(moved, 0) and failover.channel.current == "b:2"


def test_other_failures_and_the_last_attempt_give_up() -> None:
    failover = _failover(max_attempts=2)
    invalid = KrakenGwError(grpc.StatusCode.INVALID_ARGUMENT, "bad", reason="MISSING_FIELD")
    assert failover.retry_delay(invalid, 0, 0, logged_on=True) is None
    assert not failover.follows(invalid, logged_on=True)
    leased = KrakenGwError(grpc.StatusCode.ALREADY_EXISTS, "in use", reason="KEY_LEASED")
    assert failover.retry_delay(leased, 0, 0, logged_on=True) is None  # not UNAVAILABLE
    gone = KrakenGwError(UNAVAILABLE, "gone")
    assert failover.retry_delay(gone, 0, 2, logged_on=True) is None
    assert failover.channel.current == "a:1"


def test_a_connection_failure_reported_as_internal_moves_but_a_gateway_internal_does_not() -> None:
    failover = _failover()
    broken = KrakenGwError(grpc.StatusCode.INTERNAL, "Internal error from Core")
    assert failover.retry_delay(broken, 0, 0, logged_on=True) is not None
    assert failover.channel.current == "b:2"
    assert failover.follows(broken, logged_on=True)
    bug = KrakenGwError(grpc.StatusCode.INTERNAL, "internal error", reason="INTERNAL")
    assert failover.retry_delay(bug, 1, 0, logged_on=True) is None
    assert not failover.follows(bug, logged_on=True)
