"""Overriding `kraken_simulator_options` sets the simulator for every test of its scope."""

from __future__ import annotations

from decimal import Decimal

import pytest

from krakengw import Client
from krakengw_testing import LocalSimulator, SimulatorOptions


@pytest.fixture
def kraken_simulator_options() -> SimulatorOptions:
    return SimulatorOptions(seed=3, accounts=["alice", "bob"])


def test_named_accounts_and_the_gateway_signs_as_the_first(
    kraken_simulator: LocalSimulator, krakengw_client: Client
) -> None:
    names = kraken_simulator.call(
        lambda: [a.name for a in kraken_simulator.server.ctx.accounts.accounts()]
    )
    assert names == ["alice", "bob"]
    usd = {b.asset: b.total for b in krakengw_client.list_balances()}["USD"]
    assert usd == Decimal("10000000")  # simulator.named_accounts.NAMED_BALANCES


@pytest.mark.kraken_simulator(seed=9)
def test_marker_keywords_override_the_fixture(kraken_simulator: LocalSimulator) -> None:
    assert kraken_simulator.options.seed == 9
    assert list(kraken_simulator.options.accounts or []) == ["alice", "bob"]
