"""Reconnect pacing: failed connects and early closes back off (jittered, doubling, capped);
a connection that lasted reconnects at once and starts the delays over."""

from __future__ import annotations

import random

from gateway.core.backoff import ReconnectPacer, backoff_delays


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_within_their_jitter_and_stop_at_the_cap() -> None:
    delays = backoff_delays(0.1, 1.0, random.Random(7))
    got = [next(delays) for _ in range(8)]
    for n, delay in enumerate(got):
        ceiling = min(1.0, 0.1 * 2**n)
        assert ceiling / 2 <= delay <= ceiling


def test_early_closes_back_off_and_a_stable_connection_starts_over() -> None:
    clock = Clock()
    pacer = ReconnectPacer(0.1, 5.0, stable_s=30.0, clock=clock, rng=random.Random(1))
    assert 0.05 <= pacer.failed() <= 0.1  # the connect failed
    pacer.opened()
    clock.now += 1.0
    assert 0.1 <= pacer.closed() <= 0.2  # closed after 1 s: early, the next delay
    pacer.opened()
    clock.now += 0.01
    assert 0.2 <= pacer.closed() <= 0.4
    pacer.opened()
    clock.now += 30.0
    assert pacer.closed() == 0.0  # it lasted: reconnect at once...
    assert 0.05 <= pacer.failed() <= 0.1  # ...and the delays start over


def test_a_close_without_an_open_connection_counts_as_early() -> None:
    pacer = ReconnectPacer(0.1, 0.1, stable_s=30.0, clock=Clock())
    assert pacer.closed() > 0
