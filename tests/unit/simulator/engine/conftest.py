"""Fixtures for the pure engine: a manual clock and engines with or without the market maker."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import ManualClock, SpotEngine

START = {"ZUSD": "1000000", "XXBT": "10", "XETH": "100", "XXDG": "1000000", "USDT": "100000"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(Decimal("1700000000"))


@pytest.fixture
def engine(clock: ManualClock) -> SpotEngine:
    """No market maker: books contain only what a test puts there."""
    eng = SpotEngine(seed=7, clock=clock, market_maker=False)
    for account in ("A", "B", "C"):
        eng.create_account(account, START)
    eng.drain_events()
    return eng


@pytest.fixture
def mm_engine(clock: ManualClock) -> SpotEngine:
    eng = SpotEngine(seed=7, clock=clock)
    for account in ("A", "B"):
        eng.create_account(account, START)
    eng.drain_events()
    return eng
