"""`kraken-gateway`: serve the gateway, run the local Kraken simulator, or run the demo.

    kraken-gateway serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]
    kraken-gateway sim ...            (the simulator's own options; see `sim --help`)
    kraken-gateway demo

`serve` prints `listening on HOST:PORT` on stdout once it accepts calls (`--listen
127.0.0.1:0` picks a free port), and stops gracefully on SIGTERM/SIGINT: streams drain, sessions
end (cancel-on-disconnect applies), the journal is flushed and closed.

Without --config, `serve` runs a development setup on loopback only: one paper account and
one session `demo` whose token is $KRAKENGW_TOKEN or the documented `krakengw-dev-token`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import ipaddress
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gateway.config import (
    AccountConfig,
    ConfigError,
    GatewayConfig,
    ServerConfig,
    SessionConfig,
    load_config,
)
from gateway.core.model import Permission
from gateway.logging_setup import configure_logging

__all__ = ["DEV_TOKEN", "dev_config", "main"]

DEV_TOKEN = "krakengw-dev-token"  # noqa: S105 - documented development token, loopback only
DEV_TOKEN_ENV = "KRAKENGW_TOKEN"  # noqa: S105 - the name of an environment variable


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sim":
        # Only the CLI starts the simulator, and only on demand: the gateway never imports it.
        simulator_cli = importlib.import_module("simulator.cli")
        code: int = simulator_cli.main(args[1:])
        return code
    parsed = _parser().parse_args(args)
    if parsed.command == "serve":
        return _serve(parsed)
    if parsed.command == "demo":
        return _demo()
    _parser().print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kraken-gateway", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gRPC gateway")
    serve.add_argument("--config", type=Path, help="TOML config (see examples/gateway.toml)")
    serve.add_argument("--listen", help="HOST:PORT to listen on (port 0 = any free port)")
    serve.add_argument("--data-dir", type=Path, help="directory of the journal")
    serve.add_argument("--log-level", default=os.environ.get("KRAKENGW_LOG_LEVEL", "INFO"))
    sub.add_parser("sim", help="run the local Kraken simulator (options: sim --help)")
    sub.add_parser("demo", help="run the demo strategy against a local gateway")
    return parser


def dev_config(listen: str, data_dir: Path, token: str) -> GatewayConfig:
    everything = frozenset(Permission)
    account = AccountConfig(name="paper", subaccount=None, permissions=everything)
    session = SessionConfig(
        session_id="demo",
        account="paper",
        token_sha256=hashlib.sha256(token.encode()).digest(),
        permissions=everything,
    )
    return GatewayConfig(
        server=ServerConfig(listen=listen, data_dir=data_dir),
        accounts={"paper": account},
        sessions={"demo": session},
    )


def _resolve_config(args: argparse.Namespace) -> GatewayConfig:
    if args.config is not None:
        config = load_config(args.config)
        server = config.server
        if args.listen:
            server = replace(server, listen=args.listen)
        if args.data_dir:
            server = replace(server, data_dir=args.data_dir)
        return replace(config, server=server)
    listen = args.listen or "127.0.0.1:50051"
    if not _is_loopback(listen):
        raise ConfigError("without --config the gateway listens on loopback addresses only")
    token = os.environ.get(DEV_TOKEN_ENV, DEV_TOKEN)
    return dev_config(listen, args.data_dir or Path("data"), token)


def _is_loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    try:
        config = _resolve_config(args)
    except ConfigError as exc:
        print(f"kraken-gateway: config error: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level, secrets=_secrets_of(config))
    try:
        asyncio.run(_run(config))
    except (ConfigError, OSError) as exc:
        print(f"kraken-gateway: {exc}", file=sys.stderr)
        return 1
    return 0


def _secrets_of(config: GatewayConfig) -> list[str]:
    found: list[str] = []
    for account in config.accounts.values():
        for pair in (account.spot_key, account.futures_key):
            if pair is not None:
                found += [pair.key.reveal(), pair.secret.reveal()]
    return found


async def _run(config: GatewayConfig) -> None:
    from gateway.api.app import GatewayApp

    app = await GatewayApp.build(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        port = await app.start()
        host = config.server.listen.rpartition(":")[0]
        print(f"listening on {host}:{port}", flush=True)
        if app.metrics_port:
            print(f"metrics on http://{host}:{app.metrics_port}/metrics", flush=True)
        await stop.wait()
    finally:
        await app.stop()


def _demo() -> int:
    # The lead fills this in once the simulator and the Kraken adapter land (issue 4).
    print("kraken-gateway demo: not implemented yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
