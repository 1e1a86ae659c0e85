"""Shared helpers of the benchmarks: percentiles, summaries, ratio formatting, interleaved rounds.

The machine the benches run on is shared and noisy, so every bench measures its baseline in the
same run as its subject and alternates them round by round: `interleaved` runs A B, then B A,
then A B..., so a slow drift of the machine (another job starting, CPU frequency) falls on both
sides alike. Figures are medians and p99 over rounds or samples, never means, and the headline
is a ratio against the baseline.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench.stats import Summary, format_ratio, format_seconds, percentile, summarize
from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.events import SubmitAck
from gateway.core.model import Instrument, OrderRequest
from gateway.core.ports import AccountVenues, VenueEventSink, VenuePorts
from gateway.venues.paper import PaperMarket, PaperVenue

__all__ = [
    "BenchGateway",
    "Summary",
    "TappedPaperVenue",
    "format_ratio",
    "format_seconds",
    "interleaved",
    "interleaved_async",
    "percentile",
    "round_order",
    "start_gateway",
    "summarize",
    "trading_session",
]

T = TypeVar("T")


def round_order(names: Sequence[str], index: int) -> list[str]:
    """The variants' order in round `index`: as given in even rounds, reversed in odd ones
    (A B, B A, A B, ...), so each variant runs first as often as last."""
    return list(names) if index % 2 == 0 else list(reversed(names))


def interleaved(rounds: int, variants: Mapping[str, Callable[[], T]]) -> dict[str, list[T]]:
    """Run every variant once per round, alternating their order; results per variant."""
    results: dict[str, list[T]] = {name: [] for name in variants}
    for index in range(rounds):
        for name in round_order(list(variants), index):
            results[name].append(variants[name]())
    return results


async def interleaved_async(
    rounds: int, variants: Mapping[str, Callable[[], Awaitable[T]]]
) -> dict[str, list[T]]:
    """`interleaved` for coroutines (one variant at a time, never concurrently)."""
    results: dict[str, list[T]] = {name: [] for name in variants}
    for index in range(rounds):
        for name in round_order(list(variants), index):
            results[name].append(await variants[name]())
    return results


# -- the real gateway, in process ---------------------------------------------------------------

GATEWAY_CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 300
heartbeat_timeout_s = 900
shutdown_grace_s = 1

[accounts.bench]
permissions = ["read", "trade", "cancel_only", "drop_copy"]

[sessions.bench]
account = "bench"
token_env = "BENCH_TOKEN"
"""


class TappedPaperVenue(PaperVenue):
    """The shipped paper venue (acks at once, or after `latency` seconds per submit, as a
    network round trip would), keeping the core's event sink so a bench can push venue events
    (fills) the way an adapter's feed does."""

    sink: VenueEventSink | None = None
    latency: float = 0.0

    def set_event_sink(self, sink: VenueEventSink) -> None:
        super().set_event_sink(sink)
        self.sink = sink

    async def submit(self, request: OrderRequest, instrument: Instrument) -> SubmitAck:
        if self.latency:
            await asyncio.sleep(self.latency)
        return await super().submit(request, instrument)


@dataclass
class BenchGateway:
    """A real GatewayApp (SQLite journal in `directory`, core, sessions, grpc.aio server with its
    interceptors) on 127.0.0.1, one account `bench` on the paper venue, one session `bench`
    (plus any `extra_sessions`: read-only observers of the same account, with their tokens in
    `tokens`)."""

    app: GatewayApp
    target: str
    token: str
    venue: TappedPaperVenue
    session: str = "bench"
    tokens: dict[str, str] = field(default_factory=dict)


def trading_session(index: int) -> str:
    """The name of the `index`th extra trading session (and of its own account)."""
    return f"load{index}"


async def start_gateway(
    directory: Path, extra_sessions: Sequence[str] = (), *, trading_sessions: int = 0
) -> BenchGateway:
    """`extra_sessions`: read-only observers of `bench`; `trading_sessions`: that many more
    trading sessions (`trading_session(i)`), each on its own paper account, since a trading
    session leases its account exclusively."""
    token = f"bench-{secrets.token_urlsafe(24)}"
    names = [*extra_sessions, *(trading_session(i) for i in range(trading_sessions))]
    tokens = {name: f"bench-{secrets.token_urlsafe(24)}" for name in names}
    environ = {"BENCH_TOKEN": token}
    body = GATEWAY_CONFIG
    for i, name in enumerate(extra_sessions):
        environ[f"BENCH_TOKEN_{i}"] = tokens[name]
        # Read-only observers: they take no lease on the account's key.
        body += (
            f'\n[sessions.{name}]\naccount = "bench"\ntoken_env = "BENCH_TOKEN_{i}"\n'
            'permissions = ["read"]\n'
        )
    for i in range(trading_sessions):
        name = trading_session(i)
        environ[f"LOAD_TOKEN_{i}"] = tokens[name]
        body += (
            f'\n[accounts.{name}]\npermissions = ["read", "trade", "cancel_only"]\n'
            f'\n[sessions.{name}]\naccount = "{name}"\ntoken_env = "LOAD_TOKEN_{i}"\n'
        )
    path = directory / "gateway.toml"
    path.write_text(body)
    config = load_config(path, environ=environ)
    market = PaperMarket()
    venues: list[TappedPaperVenue] = []

    async def build(account: AccountConfig) -> AccountVenues:
        venue = TappedPaperVenue(market, account.name)
        venues.append(venue)
        return AccountVenues.of(
            VenuePorts(order_entry=venue, account=venue, instruments=market, market_data=market),
            closers=[venue.close],
        )

    app = await GatewayApp.build(config, venues=build, metrics=False)
    port = await app.start()
    return BenchGateway(
        app=app, target=f"127.0.0.1:{port}", token=token, venue=venues[0], tokens=tokens
    )


async def start_simulator(
    accounts: Path, *, wanted: tuple[str, ...] = ("spot_rest",)
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """`python -m simulator` on a free port without rate limits, as its own process (so the
    bench does not share an event loop with it); returns it and the printed URLs in `wanted`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--no-rate-limits",
        "--accounts",
        str(accounts),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    while not all(name in urls for name in wanted):
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("simulator exited before printing its URLs")
        parts = line.split()
        if len(parts) >= 2:
            urls[parts[0]] = parts[1]
    return proc, urls
