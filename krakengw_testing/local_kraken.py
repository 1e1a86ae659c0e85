"""A local Kraken (the simulator) and a gateway in front of it, run from synchronous code.

Both run on one asyncio loop in a background thread, so they serve while the test's own code
blocks (the sync `krakengw.Client`) and whatever event loop the test itself runs (pytest-asyncio,
anyio or none) is never touched. Everything goes through the project's own code paths:
`simulator.app.SimulatorServer` for the venue, and `gateway.cli.running_gateway` with
`gateway.cli.dev_config` (what `kraken-gateway serve` runs without a config) for the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from gateway.cli import DEV_ACCOUNT, DEV_SESSION, attach_simulator, dev_config, running_gateway
from simulator.accounts import (
    DEMO_FUTURES_KEY,
    DEMO_FUTURES_SECRET,
    DEMO_SPOT_KEY,
    DEMO_SPOT_SECRET,
    KrakenAccounts,
    demo_accounts,
    load_accounts,
)
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from simulator.named_accounts import named_accounts, named_futures_key, named_key
from simulator.spot.limits import LimitsConfig

__all__ = [
    "BackgroundLoop",
    "FaultPlanHandle",
    "LocalGateway",
    "LocalSimulator",
    "SimulatorOptions",
]

T = TypeVar("T")
START_TIMEOUT_S = 60.0


class BackgroundLoop:
    """An asyncio event loop running in a daemon thread; `run` blocks for a coroutine's result."""

    def __init__(self, name: str = "krakengw-local-kraken") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = START_TIMEOUT_S) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def wait(self, awaitable: Awaitable[T], timeout: float = START_TIMEOUT_S) -> T:
        async def finish() -> T:
            return await awaitable

        return self.run(finish(), timeout)

    def call(self, fn: Callable[[], T], timeout: float = START_TIMEOUT_S) -> T:
        """Runs `fn` on the loop's thread (the simulator's state is not thread-safe)."""

        async def invoke() -> T:
            return fn()

        return self.run(invoke(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self.loop.close()


@dataclass(frozen=True)
class SimulatorOptions:
    """How the `kraken_simulator` fixture starts the simulator.

    - `seed`: seed of the synthetic market (same seed + same requests = same answers).
    - `accounts`: None for the simulator's demo account (documented demo keys); a list of names
      for one funded account per name with keys derived from the name
      (`simulator.named_accounts`); a path to an accounts file (`simulator/README.md`); or a
      ready `KrakenAccounts`.
    - `gateway_key`: the (api key, secret) the gateway signs with. Default: the demo spot key,
      or the first named account's key when `accounts` is a list of names.
    - `gateway_futures_key`: the (api key, secret) the gateway signs with on Kraken Futures.
      Default: the demo futures key, or the first named account's futures key; with custom
      accounts and no futures key given, the gateway trades Spot only.
    - `market_maker`: False leaves the spot books empty (the test makes every price).
    - `manual_clock`: True runs the simulator on a `ManualClock` starting at `clock_start`;
      nothing time-driven moves until the test calls `kraken_simulator.advance(seconds)`.
    - `rate_limits`: False turns the simulated spot rate counters off.
    - `faults`: a fault plan (the JSON shape of `/_sim/faults`) loaded before the first request.
    """

    seed: int = 0
    accounts: Sequence[str] | Path | str | KrakenAccounts | None = None
    gateway_key: tuple[str, str] | None = None
    gateway_futures_key: tuple[str, str] | None = None
    market_maker: bool = True
    manual_clock: bool = False
    clock_start: Decimal | int | str = Decimal("1700000000")
    rate_limits: bool = True
    faults: Mapping[str, Any] | None = None

    def kraken_accounts(self) -> KrakenAccounts:
        if self.accounts is None:
            return demo_accounts()
        if isinstance(self.accounts, KrakenAccounts):
            return self.accounts
        if isinstance(self.accounts, Path | str):
            return load_accounts(Path(self.accounts))
        return named_accounts(list(self.accounts))

    def signing_key(self) -> tuple[str, str]:
        if self.gateway_key is not None:
            return self.gateway_key
        if self.accounts is None:
            return DEMO_SPOT_KEY, DEMO_SPOT_SECRET
        if isinstance(self.accounts, Sequence) and not isinstance(self.accounts, str):
            return named_key(self.accounts[0])
        raise ValueError("SimulatorOptions: give gateway_key=(key, secret) with custom accounts")

    def futures_signing_key(self) -> tuple[str, str] | None:
        if self.gateway_futures_key is not None:
            return self.gateway_futures_key
        if self.accounts is None:
            return DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
        if isinstance(self.accounts, Sequence) and not isinstance(self.accounts, str):
            return named_futures_key(self.accounts[0])
        return None


class FaultPlanHandle:
    """The simulator's fault plan (rules as in simulator/README.md, the `/_sim/faults` JSON)."""

    def __init__(self, sim: LocalSimulator) -> None:
        self._sim = sim

    def set(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        """Replaces the plan; returns it as the simulator now holds it."""
        faults = self._sim.server.ctx.faults

        def replace() -> dict[str, Any]:
            faults.load_json(plan)
            return faults.to_json()

        return self._sim.loop.call(replace)

    def get(self) -> dict[str, Any]:
        faults = self._sim.server.ctx.faults
        result: dict[str, Any] = self._sim.loop.call(faults.to_json)
        return result

    def clear(self) -> None:
        self._sim.loop.call(self._sim.server.ctx.faults.clear)


@dataclass
class LocalSimulator:
    """The running simulator: its URLs, its clock, its fault plan."""

    options: SimulatorOptions
    loop: BackgroundLoop
    server: SimulatorServer
    clock: ManualClock | None
    faults: FaultPlanHandle = field(init=False)

    def __post_init__(self) -> None:
        self.faults = FaultPlanHandle(self)

    @classmethod
    def start(cls, options: SimulatorOptions, loop: BackgroundLoop) -> LocalSimulator:
        clock = ManualClock(options.clock_start) if options.manual_clock else None

        async def build() -> SimulatorServer:
            server = SimulatorServer(
                "127.0.0.1",
                0,
                accounts=options.kraken_accounts(),
                seed=options.seed,
                clock=clock,
                limits=None if options.rate_limits else LimitsConfig(enforce=False),
                market_maker=options.market_maker,
            )
            if options.faults is not None:
                server.ctx.faults.load_json(options.faults)
            await server.start()
            return server

        return cls(options=options, loop=loop, server=loop.run(build()), clock=clock)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def urls(self) -> dict[str, str]:
        return self.server.urls()

    def advance(self, seconds: Decimal | int | str) -> Decimal:
        """Moves the manual clock and runs every timer now due; returns the new time."""
        clock = self.clock
        if clock is None:
            raise RuntimeError("advance() needs a simulator started with manual_clock=True")

        def step() -> Decimal:
            now = clock.advance(seconds)
            self.server.ctx.tick()
            return now

        return self.loop.call(step)

    def call(self, fn: Callable[[], T]) -> T:
        """Runs `fn` on the simulator's thread, e.g. to read `server.ctx` consistently."""
        return self.loop.call(fn)

    def stop(self) -> None:
        self.loop.run(self.server.stop())


@dataclass
class LocalGateway:
    """A gateway on 127.0.0.1 (free port) trading on a `LocalSimulator` (Spot, and Futures when
    the options give a futures key): one session `demo` with every permission, its journal in
    `data_dir`."""

    target: str
    token: str
    data_dir: Path
    session_id: str
    _stop: Callable[[], Awaitable[None]] = field(repr=False)
    _loop: BackgroundLoop = field(repr=False)

    def __repr__(self) -> str:  # the token stays out of test output
        return f"LocalGateway(target={self.target!r}, session_id={self.session_id!r})"

    @property
    def tokens(self) -> dict[str, str]:
        """Session id -> bearer token."""
        return {self.session_id: self.token}

    @property
    def port(self) -> int:
        return int(self.target.rpartition(":")[2])

    @classmethod
    def start(cls, sim: LocalSimulator, data_dir: Path) -> LocalGateway:
        # Never a leading '-': a user pasting it after `krakengw --token` would hit a flag.
        token = "t" + secrets.token_urlsafe(24)
        config = dev_config("127.0.0.1:0", data_dir, token)
        futures_key = sim.options.futures_signing_key()
        embedded = attach_simulator(
            sim.server,
            {DEV_ACCOUNT: sim.options.signing_key()},
            {DEV_ACCOUNT: futures_key} if futures_key is not None else None,
        )

        async def up() -> tuple[int, Callable[[], Awaitable[None]]]:
            stack = contextlib.AsyncExitStack()
            app, _ = await stack.enter_async_context(
                running_gateway(config, None, simulator=embedded)
            )
            return int(app.port), stack.aclose

        port, stop = sim.loop.run(up())
        return cls(f"127.0.0.1:{port}", token, data_dir, DEV_SESSION, stop, sim.loop)

    def stop(self) -> None:
        self._loop.wait(self._stop())
