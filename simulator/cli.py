"""`python -m simulator` / `kraken-gateway sim`: run the local Kraken on one port until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.accounts import AccountsFileError, demo_accounts, load_accounts
from simulator.app import SimulatorServer
from simulator.faults import FaultPlanError
from simulator.spot.limits import LimitsConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="A local Kraken Spot + Futures simulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--accounts", type=Path, help="accounts file (.toml or .json)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic market and ids")
    parser.add_argument("--faults", type=Path, help="fault plan file (JSON)")
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="do not enforce Kraken's rate counters (benchmarks); signatures and nonces still are",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https:// and wss:// with a self-signed certificate made at start "
        "(its path is printed as tls_cert; trust that file in the client)",
    )
    return parser


async def serve(args: argparse.Namespace, ready: asyncio.Event | None = None) -> None:
    accounts = load_accounts(args.accounts) if args.accounts else demo_accounts()
    limits = LimitsConfig(enforce=not args.no_rate_limits)
    server = SimulatorServer(
        args.host, args.port, accounts=accounts, seed=args.seed, limits=limits, tls=args.tls
    )
    if args.faults:
        server.ctx.faults.load_file(args.faults)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        for name, url in server.urls().items():
            print(f"{name:16} {url}", flush=True)
        if server.tls_cert_path is not None:
            print(f"{'tls_cert':16} {server.tls_cert_path}", flush=True)
        if not args.accounts:
            print(
                "accounts         built-in demo account (keys in simulator/README.md)", flush=True
            )
        if ready is not None:
            ready.set()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except (AccountsFileError, FaultPlanError, OSError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
