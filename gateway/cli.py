"""`kraken-gateway`: serve the gateway, run the local Kraken simulator, or run the demo.

    kraken-gateway serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]
                         [--metrics HOST:PORT] [--console HOST:PORT]
                         [--log-format text|json] [--tracing console|otlp]
                         [--tracing-endpoint URL] [--sim-port PORT] [--sim-seed N]
    kraken-gateway health [--target HOST:PORT] [--service NAME] [--timeout S]
    kraken-gateway sim ...            (the simulator's own options; see `sim --help`)
    kraken-gateway demo
    kraken-gateway check-config FILE [--json]
    kraken-gateway --version
    kraken-gateway db migrate|status --config FILE

`serve` prints `listening on HOST:PORT` on stdout once it accepts calls (`--listen
127.0.0.1:0` picks a free port), then the embedded simulator's URLs if it runs one, then
`serving HOST:PORT` once every account is reconciled with its venues (until then health is
NOT_SERVING and new orders are refused UNAVAILABLE with reason RECONCILING), and stops
gracefully on SIGTERM/SIGINT: streams drain, sessions end (cancel-on-disconnect applies), the
journal is flushed and closed.

Without --config, `serve` runs a development setup on loopback only, with no Kraken credentials:
it starts the local Kraken simulator in-process (127.0.0.1, a free port unless --sim-port) and
trades on it through the Kraken Spot and Kraken Futures adapters with the simulator's documented
demo keys. One session `demo` whose token is $KRAKENGW_TOKEN or the documented
`krakengw-dev-token`; the journal lives in a temporary directory (the simulator forgets
everything at exit) unless --data-dir is given. With --config, accounts trade where their
`venue` says (see gateway/config.py): real Kraken with keys, the embedded simulator, or the
paper venue.

`check-config` validates a config file and prints the effective accounts, sessions and server
settings with every secret masked (gateway/check_config.py); it exits 1 on any problem.

`db` manages the PostgreSQL journal's schema (`[journal] url`): `migrate` applies missing
migrations (the gateway also does at start), `status` exits 0 only when it is current.

`--metrics` serves Prometheus metrics at http://HOST:PORT/metrics and `--console` the operator
console at http://HOST:PORT/ (both override the config: `[server] metrics_listen`,
`[console] listen`; without --config both must be loopback addresses). `--log-format json`
(or $KRAKENGW_LOG_FORMAT) writes one JSON object per log line. `serve` prints `metrics on URL`
and `console on URL` for each one it serves. The console's admin token comes from `[console]`
in the config, or without --config from $KRAKENGW_CONSOLE_TOKEN (no token: read-only).

`--tracing console|otlp` (or `[tracing]`) records OpenTelemetry spans of the order path
(gateway/observability/tracing.py); off by default.

`health` asks a running gateway's gRPC health service whether the order service is SERVING
(exit 0) or not (exit 1): a container HEALTHCHECK that proves more than an open port.

`demo` runs the simulator, the gateway and the demo strategy (gateway/demo.py) in one process
and exits 0 only if every expected execution report arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import importlib
import importlib.metadata
import ipaddress
import logging
import os
import secrets
import signal
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gateway.config import (
    AccountConfig,
    AccountVenue,
    ConfigError,
    ConsoleConfig,
    GatewayConfig,
    ServerConfig,
    SessionConfig,
    TracingConfig,
    load_config,
)
from gateway.core.errors import GatewayError
from gateway.core.model import Permission
from gateway.logging_setup import LOG_FORMATS, LogFormat, MaskingFormatter, configure_logging

log = logging.getLogger(__name__)

__all__ = [
    "DEV_ACCOUNT",
    "DEV_TOKEN",
    "EmbeddedSimulator",
    "attach_simulator",
    "dev_config",
    "main",
    "running_gateway",
]

DEV_TOKEN = "krakengw-dev-token"  # noqa: S105 - documented development token, loopback only
DEV_TOKEN_ENV = "KRAKENGW_TOKEN"  # noqa: S105 - the name of an environment variable
CONSOLE_TOKEN_ENV = "KRAKENGW_CONSOLE_TOKEN"  # noqa: S105 - the name of an environment variable
DEV_ACCOUNT = "demo"
DEV_SESSION = "demo"


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
        return _demo(parsed)
    if parsed.command == "check-config":
        from gateway.check_config import check_config

        return check_config(parsed.file, sys.stdout, sys.stderr, as_json=parsed.json)
    if parsed.command == "db":
        return _db(parsed)
    if parsed.command == "health":
        return _health(parsed)
    _parser().print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kraken-gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"kraken-gateway {_version()}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gRPC gateway")
    serve.add_argument("--config", type=Path, help="TOML config (see examples/gateway.toml)")
    serve.add_argument("--listen", help="HOST:PORT to listen on (port 0 = any free port)")
    serve.add_argument("--data-dir", type=Path, help="directory of the journal")
    serve.add_argument("--log-level", default=os.environ.get("KRAKENGW_LOG_LEVEL", "INFO"))
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("KRAKENGW_LOG_FORMAT", "text"),
        help="text (default) or json: one JSON object per line, UTC timestamps",
    )
    serve.add_argument("--metrics", help="serve Prometheus metrics on HOST:PORT (/metrics)")
    serve.add_argument("--console", help="serve the operator console on HOST:PORT")
    serve.add_argument("--tracing", choices=("console", "otlp"), help="OpenTelemetry exporter")
    serve.add_argument("--tracing-endpoint", help="OTLP/HTTP traces URL (with --tracing otlp)")
    serve.add_argument(
        "--debug", action="store_true", help="print the traceback of a start-up failure"
    )
    _simulator_options(serve)
    health = sub.add_parser("health", help="exit 0 if a running gateway's order service is up")
    health.add_argument("--target", default="127.0.0.1:50051", help="gateway HOST:PORT")
    health.add_argument("--service", default="krakengw.v1.OrderService")
    health.add_argument("--timeout", type=float, default=5.0)
    sub.add_parser("sim", help="run the local Kraken simulator (options: sim --help)")
    demo = sub.add_parser("demo", help="run the demo strategy against a local gateway")
    demo.add_argument("--log-level", default=os.environ.get("KRAKENGW_LOG_LEVEL", "WARNING"))
    _simulator_options(demo)
    check = sub.add_parser("check-config", help="validate a config; print it, secrets masked")
    check.add_argument("file", type=Path, help="TOML config (see examples/gateway.toml)")
    check.add_argument("--json", action="store_true", help="print the effective config as JSON")
    db = sub.add_parser("db", help="the PostgreSQL journal's schema: migrate or status")
    db.add_argument("action", choices=["migrate", "status"])
    db.add_argument("--config", type=Path, required=True, help="TOML config with [journal] url")
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("krakengw")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _simulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sim-port", type=int, default=0, help="port of the embedded simulator (0 = any free)"
    )
    parser.add_argument("--sim-seed", type=int, default=0, help="seed of the simulated market")


def dev_config(listen: str, data_dir: Path, token: str) -> GatewayConfig:
    """No credentials: one account on the embedded simulator, one session with every right."""
    everything = frozenset(Permission)
    account = AccountConfig(
        name=DEV_ACCOUNT, subaccount=None, permissions=everything, venue=AccountVenue.SIMULATOR
    )
    session = SessionConfig(
        session_id=DEV_SESSION,
        account=DEV_ACCOUNT,
        token_sha256=hashlib.sha256(token.encode()).digest(),
        permissions=everything,
    )
    return GatewayConfig(
        server=ServerConfig(listen=listen, data_dir=data_dir),
        accounts={DEV_ACCOUNT: account},
        sessions={DEV_SESSION: session},
    )


def _resolve_config(args: argparse.Namespace, scratch: Path) -> GatewayConfig:
    """The config to serve (with --metrics/--console applied)."""
    config = _base_config(args, scratch)
    metrics, console = getattr(args, "metrics", None), getattr(args, "console", None)
    if args.config is None:
        for flag, value in (("--metrics", metrics), ("--console", console)):
            if value and not _is_loopback(value):
                raise ConfigError(f"without --config, {flag} takes loopback addresses only")
        token = os.environ.get(CONSOLE_TOKEN_ENV, "").strip()
        if token:
            digest = hashlib.sha256(token.encode()).digest()
            config = replace(config, console=ConsoleConfig(admin_token_sha256=digest))
    if metrics:
        config = replace(config, server=replace(config.server, metrics_listen=metrics))
    if console:
        config = replace(config, console=replace(config.console, listen=console))
    exporter = getattr(args, "tracing", None)
    if exporter:
        endpoint = getattr(args, "tracing_endpoint", None) or config.tracing.endpoint
        config = replace(config, tracing=TracingConfig(exporter=exporter, endpoint=endpoint))
    return config


def _base_config(args: argparse.Namespace, scratch: Path) -> GatewayConfig:
    """The config file's, or the no-config setup's; `scratch` is the latter's journal dir."""
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
    return dev_config(listen, args.data_dir or scratch, token)


def _is_loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="krakengw-") as scratch:
        try:
            config = _resolve_config(args, Path(scratch))
        except ConfigError as exc:
            print(f"kraken-gateway: config error: {exc}", file=sys.stderr)
            return 2
        formatter = _logging(args.log_level, config, args.log_format)
        try:
            asyncio.run(_run(config, formatter, args))
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            # Every start-up (or run) failure: one line and a non-zero exit; the traceback
            # only with --debug, where it is what the operator asked for.
            if args.debug:
                traceback.print_exc()
            print(f"kraken-gateway: {_one_line(exc, formatter)}", file=sys.stderr)
            return 1
    return 0


def _one_line(exc: Exception, formatter: MaskingFormatter) -> str:
    if isinstance(exc, GatewayError):  # e.g. the data_dir is in use, the venue unreachable
        text = exc.message
    elif isinstance(exc, ConfigError | OSError):
        text = str(exc)
    else:
        text = f"start-up failed: {type(exc).__name__}: {exc} (run with --debug for details)"
    # The masking formatter knows the configured secrets: none reach the terminal.
    return formatter.mask(" ".join(text.split()))


def _logging(level: str, config: GatewayConfig, fmt: LogFormat = "text") -> MaskingFormatter:
    formatter = configure_logging(level, secrets=_secrets_of(config), fmt=fmt)
    for notice in config.kraken.deprecations:
        log.warning("config: %s", notice)
    # One INFO line per venue HTTP request drowns the gateway's own lines; DEBUG keeps them.
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    return formatter


def _secrets_of(config: GatewayConfig) -> list[str]:
    found: list[str] = []
    for account in config.accounts.values():
        for pair in (account.spot_key, account.futures_key):
            if pair is not None:
                found += [pair.key.reveal(), pair.secret.reveal()]
    if config.journal.password is not None:
        found.append(config.journal.password.reveal())
    return found


@dataclass
class EmbeddedSimulator:
    """The local Kraken simulator running in this process (None fields: not running)."""

    server: Any  # simulator.app.SimulatorServer, imported lazily
    link: Any  # gateway.venues.factory.SimulatorLink

    def urls(self) -> dict[str, str]:
        urls: dict[str, str] = self.server.urls()
        return urls


@contextlib.asynccontextmanager
async def embedded_simulator(
    config: GatewayConfig, *, port: int = 0, seed: int = 0
) -> AsyncIterator[EmbeddedSimulator | None]:
    """Start the simulator when an account trades on it: the first such account signs with
    the documented demo keys (Spot and Futures), any further one with keys of its own (fresh
    random secrets)."""
    names = [a.name for a in config.accounts.values() if a.trades_on is AccountVenue.SIMULATOR]
    if not names:
        yield None
        return
    sim_accounts = importlib.import_module("simulator.accounts")
    sim_app = importlib.import_module("simulator.app")
    accounts = sim_accounts.demo_accounts()
    keys = {names[0]: (sim_accounts.DEMO_SPOT_KEY, sim_accounts.DEMO_SPOT_SECRET)}
    futures_keys = {names[0]: (sim_accounts.DEMO_FUTURES_KEY, sim_accounts.DEMO_FUTURES_SECRET)}
    for i, name in enumerate(names[1:], start=1):
        account_id = f"AA00GWSIM{i:05d}"
        accounts.add_account(
            sim_accounts.KrakenAccount(
                account_id=account_id,
                name=name,
                tier=sim_accounts.KrakenTier.INTERMEDIATE,
                balances=dict(sim_accounts.DEMO_BALANCES),
                futures_balances=dict(sim_accounts.DEMO_FUTURES_BALANCES),
            )
        )
        for venue, table in (("spot", keys), ("futures", futures_keys)):
            key = f"krakengw-sim-{name}-{venue}-key"
            secret = base64.b64encode(secrets.token_bytes(64)).decode()
            accounts.add_key(
                sim_accounts.KrakenApiKey(
                    key, secret, account_id, sim_accounts.KEY_PERMISSIONS, venue=venue
                )
            )
            table[name] = (key, secret)
    server = sim_app.SimulatorServer("127.0.0.1", port, accounts=accounts, seed=seed)
    async with server:
        yield attach_simulator(server, keys, futures_keys)


def attach_simulator(
    server: Any,
    keys: dict[str, tuple[str, str]],
    futures_keys: dict[str, tuple[str, str]] | None = None,
) -> EmbeddedSimulator:
    """A running `simulator.app.SimulatorServer` as the gateway's simulator venue: `keys` maps
    each gateway account that trades on it to the (api key, secret) it signs with on Spot,
    `futures_keys` (optional) to the one it signs with on Futures."""
    from gateway.venues.factory import SimulatorLink

    link = SimulatorLink(
        rest_url=server.base_url,
        ws_public_url=server.spot_ws_public_url,
        ws_private_url=server.spot_ws_private_url,
        keys=keys,
        futures_ws_url=server.futures_ws_url,
        futures_keys=dict(futures_keys or {}),
    )
    return EmbeddedSimulator(server=server, link=link)


@contextlib.asynccontextmanager
async def running_gateway(
    config: GatewayConfig,
    formatter: MaskingFormatter | None,
    *,
    sim_port: int = 0,
    sim_seed: int = 0,
    simulator: EmbeddedSimulator | None = None,
    wait_serving: bool = True,
) -> AsyncIterator[tuple[Any, EmbeddedSimulator | None]]:
    """The simulator (if an account needs it) and the started gateway, stopped in reverse.
    With `simulator` (one the caller runs, see `attach_simulator`), the gateway trades on it
    and starts none of its own."""
    from gateway.app import GatewayApp
    from gateway.observability.endpoints import OperatorEndpoints
    from gateway.venues.factory import GatewayVenues

    async with contextlib.AsyncExitStack() as stack:
        sim = simulator
        if sim is None:
            sim = await stack.enter_async_context(
                embedded_simulator(config, port=sim_port, seed=sim_seed)
            )
        if sim is not None and formatter is not None:
            formatter.add_secrets(secret for _, secret in sim.link.keys.values())
        if config.tracing.exporter is not None:
            from gateway.observability.tracing import configure_tracing

            stop_tracing = configure_tracing(config.tracing.exporter, config.tracing.endpoint)
            stack.push_async_callback(stop_tracing)
        venues = GatewayVenues(
            config.kraken, sim.link if sim is not None else None, journal=config.journal
        )
        endpoints = OperatorEndpoints(config)
        venues.telemetry = endpoints.telemetry
        app = await GatewayApp.build(
            config, venues=venues, journal_factory=venues.open_journal, endpoints=endpoints
        )
        try:
            await app.start(wait_serving=wait_serving)
            yield app, sim
        finally:
            await app.stop()


async def _run(
    config: GatewayConfig, formatter: MaskingFormatter, args: argparse.Namespace
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_gateway(
        config, formatter, sim_port=args.sim_port, sim_seed=args.sim_seed, wait_serving=False
    ) as (app, sim):
        host = config.server.listen.rpartition(":")[0]
        print(f"listening on {host}:{app.port}", flush=True)
        if app.metrics_port:
            metrics_host = (config.server.metrics_listen or "").rpartition(":")[0] or host
            print(f"metrics on http://{metrics_host}:{app.metrics_port}/metrics", flush=True)
        if app.console_port:
            console_host = (config.console.listen or "").rpartition(":")[0] or host
            print(f"console on http://{console_host}:{app.console_port}/", flush=True)
        if sim is not None:
            print("embedded Kraken simulator (no Kraken credentials configured):", flush=True)
            for name, url in sim.urls().items():
                print(f"  {name:16} {url}", flush=True)
            if config.sessions.get(DEV_SESSION) is not None and args.config is None:
                print(
                    f"session {DEV_SESSION!r}: token from ${DEV_TOKEN_ENV} or the documented "
                    "development token",
                    flush=True,
                )
        serving = asyncio.ensure_future(app.serving.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            print(f"serving {host}:{app.port}", flush=True)
        else:
            serving.cancel()
        await stopped


def _db(args: argparse.Namespace) -> int:
    from gateway.journal import admin

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"kraken-gateway: config error: {exc}", file=sys.stderr)
        return 2
    if config.journal.url is None:
        print(
            "kraken-gateway db: the config has no [journal] url; its journal is SQLite in "
            "data_dir, which the gateway migrates itself when it opens it",
            file=sys.stderr,
        )
        return 2
    action = admin.db_migrate if args.action == "migrate" else admin.db_status
    try:
        code, line = asyncio.run(action(config.journal))
    except GatewayError as exc:
        print(f"kraken-gateway db: {exc.message}", file=sys.stderr)
        return 1
    print(line, flush=True)
    return code


def _demo(args: argparse.Namespace) -> int:
    demo = importlib.import_module("gateway.demo")
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="krakengw-demo-") as scratch:
        config = dev_config("127.0.0.1:0", Path(scratch), token)
        formatter = _logging(args.log_level, config)

        async def run() -> int:
            async with running_gateway(
                config, formatter, sim_port=args.sim_port, sim_seed=args.sim_seed
            ) as (app, sim):
                assert sim is not None
                print(f"simulator  {sim.server.base_url}", flush=True)
                print(f"gateway    127.0.0.1:{app.port}", flush=True)
                code: int = await demo.run_demo(f"127.0.0.1:{app.port}", token)
                return code

        try:
            return asyncio.run(run())
        except (ConfigError, OSError) as exc:
            print(f"kraken-gateway demo: {exc}", file=sys.stderr)
            return 1


def _health(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    request = health_pb2.HealthCheckRequest(service=args.service)
    try:
        with grpc.insecure_channel(args.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(request, timeout=args.timeout)
    except grpc.RpcError as exc:
        print(f"kraken-gateway health: {exc.code().name}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.service}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
