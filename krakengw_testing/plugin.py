"""The krakengw pytest plugin: test a strategy against a local Kraken (see the README section
"Test your strategy against a local Kraken").

Installed with the `krakengw` package (entry point `pytest11`), so every project that has it
installed gets these fixtures; `-p no:krakengw_testing.plugin` turns it off.

- `kraken_simulator`: the simulator in-process on 127.0.0.1 (free port); a `LocalSimulator`.
- `krakengw_gateway`: a gateway in front of it, journal in a temporary directory; a
  `LocalGateway` (`target`, `token`, `tokens`, `data_dir`). It trades Kraken Spot (`BTC/USD`)
  and Kraken Futures (`BTC/USD:USD`, venue `krakenfutures`) with the demo or named accounts.
- `krakengw_client`: a `krakengw.Client` on that gateway, logged on; logged out at teardown.

Configure the simulator per test with the marker
`@pytest.mark.kraken_simulator(seed=7, market_maker=False, manual_clock=True, ...)`, or for a
whole directory by overriding the `kraken_simulator_options` fixture (returning
`krakengw_testing.SimulatorOptions`); marker keywords override the fixture's values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the gateway and simulator load only when a test asks for a fixture
    from krakengw import Client
    from krakengw_testing.local_kraken import LocalGateway, LocalSimulator, SimulatorOptions

MARKER = "kraken_simulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options of the local Kraken simulator for this test "
        "(krakengw_testing.SimulatorOptions fields: seed, accounts, gateway_key, "
        "gateway_futures_key, market_maker, "
        "manual_clock, clock_start, rate_limits, faults)",
    )


@pytest.fixture
def kraken_simulator_options() -> SimulatorOptions:
    """Override this fixture to change the defaults of every test in its scope."""
    from krakengw_testing.local_kraken import SimulatorOptions

    return SimulatorOptions()


@pytest.fixture
def kraken_simulator(
    request: pytest.FixtureRequest, kraken_simulator_options: SimulatorOptions
) -> Iterator[LocalSimulator]:
    from krakengw_testing.local_kraken import BackgroundLoop, LocalSimulator

    options = kraken_simulator_options
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        options = dataclasses.replace(options, **marker.kwargs)
    loop = BackgroundLoop()
    try:
        sim = LocalSimulator.start(options, loop)
        try:
            yield sim
        finally:
            sim.stop()
    finally:
        loop.close()


@pytest.fixture
def krakengw_gateway(
    kraken_simulator: LocalSimulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalGateway]:
    from krakengw_testing.local_kraken import LocalGateway

    data_dir: Path = tmp_path_factory.mktemp("krakengw-data")
    gateway = LocalGateway.start(kraken_simulator, data_dir)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def krakengw_client(krakengw_gateway: LocalGateway) -> Iterator[Client]:
    from krakengw import Client, KrakenGwError

    with Client(krakengw_gateway.target, krakengw_gateway.token) as client:
        client.logon()
        try:
            yield client
        finally:
            try:
                client.logout()
            except KrakenGwError as error:
                # The test may have logged out itself; anything else is a real failure.
                if error.reason not in {"NOT_LOGGED_ON", "SESSION_NOT_FOUND"}:
                    raise
