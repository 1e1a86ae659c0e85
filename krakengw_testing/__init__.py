"""Test helpers for strategies written against krakengw: a local Kraken simulator and a gateway
in front of it, as pytest fixtures (`krakengw_testing.plugin`, loaded automatically through the
`pytest11` entry point) or directly (`krakengw_testing.local_kraken`).

The names below load on first use, so pytest loading the plugin does not import the gateway
and the simulator into test runs that never ask for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from krakengw_testing.local_kraken import (
        FaultPlanHandle,
        LocalGateway,
        LocalSimulator,
        SimulatorOptions,
    )

__all__ = ["FaultPlanHandle", "LocalGateway", "LocalSimulator", "SimulatorOptions"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("krakengw_testing.local_kraken"), name)
    raise AttributeError(name)
