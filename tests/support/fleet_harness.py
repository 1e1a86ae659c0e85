"""A fleet on real processes for tests in other languages (the Node client's): one PostgreSQL,
the Kraken simulator (in this process), and N `kraken-gateway serve` child processes sharing
the journal, with K accounts (each its own simulator key) and one session per account.

    python -m tests.support.fleet_harness --gateways 2 --accounts 2 --ttl 2

prints one JSON line once every account is served:
    {"gateways": {"gw-0": "127.0.0.1:PORT", ...}, "tokens": {"acct0": TOKEN, ...},
     "serving": {"acct0": "gw-0", ...}}
then answers one JSON line per command read from stdin:
    kill NAME            kill -9 that gateway          -> {"killed": NAME}
    stop NAME / cont NAME  SIGSTOP / SIGCONT it        -> {"stopped": NAME} / {"continued": NAME}
    restart NAME         kill -9 it, start it again on its port -> {"restarted": NAME, "target": T}
    await NAME ACCOUNT   wait until NAME serves ACCOUNT  -> {"serving": ACCOUNT, "by": NAME}
    lost NAME ACCOUNT    wait until NAME says it lost ACCOUNT -> {"lost": ACCOUNT, "by": NAME}
    journal ACCOUNT      the account's journaled reports -> {"reports": [[seq, exec_id], ...]}
    fills ACCOUNT        trade ids of its journaled fills -> {"fills": [...]}
    trades ACCOUNT       its trade ids at the simulator -> {"trades": [...]}
    open ACCOUNT         its open orders at the venue  -> {"open": [txid, ...]}
    signed ACCOUNT       requests made with its key at the simulator, in arrival order: signed
                         REST ones and WS trading ones
                         -> {"signed": [[sim time, lease, via, owner]]}
                         (lease: the KrakenGW-Lease header, or for WS the one the token was
                         requested under; via: "rest AddOrder", "ws add_order", ...; owner:
                         with --owners, "pid PID" of the gateway process whose socket sent
                         it, found by the operating system (Linux /proc) as it arrived, else
                         "unknown"; without, "")
    nonces               EAPI:Invalid nonce refusals per key -> {"invalid_nonce": {...}}
`--rest-orders` makes the gateways place orders over REST (every order a signed request);
`--owners` makes the simulator note the process behind each request with a key (see `signed`);
`--no-rate-limits` turns the simulator's off (a takeover's new holder starts with an empty
governor while the key's counter at the venue may still be high from the old holder's calls).
and stops everything at end of input. Test tokens and keys only: nothing here is a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from simulator.accounts import (
    DEMO_BALANCES,
    KEY_PERMISSIONS,
    KrakenAccount,
    KrakenAccounts,
    KrakenApiKey,
    KrakenTier,
    demo_accounts,
)
from simulator.app import SimulatorServer
from simulator.spot.limits import LimitsConfig
from tests.e2e.test_fleet import Gateway
from tests.support.postgres import PostgresServer

__all__ = [
    "FleetAccount",
    "fleet_accounts",
    "fleet_config",
    "serving_gateway",
    "simulator_accounts",
]


@dataclass(frozen=True)
class FleetAccount:
    name: str
    account_id: str  # at the simulator
    key: str
    secret: str
    token: str


def fleet_accounts(count: int) -> list[FleetAccount]:
    return [
        FleetAccount(
            name=f"acct{i}",
            account_id=f"AA00FLEET{i:05d}",
            key=f"krakengw-sim-fleet-key-{i}",
            secret=base64.b64encode(
                f"fleet-secret-{i}-tests-only".encode().ljust(64, b".")
            ).decode(),
            token=f"token-of-fleet-session-{i}-0123456789abcdef",
        )
        for i in range(count)
    ]


def simulator_accounts(accounts: list[FleetAccount]) -> KrakenAccounts:
    """The simulator's demo accounts plus one account and key per fleet account."""
    registry = demo_accounts()
    for a in accounts:
        registry.add_account(
            KrakenAccount(
                account_id=a.account_id,
                name=a.name,
                tier=KrakenTier.INTERMEDIATE,
                balances=dict(DEMO_BALANCES),
            )
        )
        registry.add_key(KrakenApiKey(a.key, a.secret, a.account_id, KEY_PERMISSIONS))
    return registry


def _secret(path: Path, value: str) -> str:
    path.write_text(value)
    path.chmod(0o600)
    return str(path)


def fleet_config(
    workdir: Path,
    *,
    rest_url: str,
    ws_public_url: str,
    ws_private_url: str,
    journal_url: str,
    password_file: Path,
    accounts: list[FleetAccount],
    instance: str,
    ttl_s: float,
    serves: list[str] | None = None,
    max_accounts: int | None = None,
    ws_trading: bool = True,
) -> Path:
    """One gateway's config: every account and session, this instance's [fleet] section."""
    fleet = f'instance = "{instance}"\nlease_ttl_s = {ttl_s}\n'
    if serves is not None:
        fleet += f"accounts = {json.dumps(serves)}\n"
    if max_accounts is not None:
        fleet += f"max_accounts = {max_accounts}\n"
    text = f"""
[server]
data_dir = "data"
shutdown_grace_s = 2
heartbeat_timeout_s = 60

[kraken]
dead_man_switch = false

[kraken.spot]
rest_url = "{rest_url}"
ws_public_url = "{ws_public_url}"
ws_private_url = "{ws_private_url}"
tier = "intermediate"
ws_trading = {"true" if ws_trading else "false"}

[journal]
url = "{journal_url}"
password_file = "{password_file}"

[fleet]
{fleet}
"""
    for a in accounts:
        text += f"""
[accounts.{a.name}]
permissions = ["read", "trade"]
[accounts.{a.name}.spot]
key_file = "{_secret(workdir / f"{a.name}.key", a.key)}"
secret_file = "{_secret(workdir / f"{a.name}.secret", a.secret)}"

[sessions.{a.name}]
account = "{a.name}"
token_file = "{_secret(workdir / f"{a.name}.token", a.token)}"
"""
    path = workdir / f"{instance}.toml"
    path.write_text(text)
    return path


async def _main(args: argparse.Namespace) -> None:
    accounts = fleet_accounts(args.accounts)
    pg = PostgresServer.start()
    gateways: dict[str, Gateway] = {}
    configs: dict[str, Path] = {}
    try:
        url = pg.create_database()
        registry = simulator_accounts(accounts)
        limits = LimitsConfig(enforce=not args.no_rate_limits)
        async with SimulatorServer(
            host="127.0.0.1", port=0, seed=5, accounts=registry, limits=limits
        ) as sim:
            if args.owners:
                sim.ctx.spot_auth.peer_owner = _socket_owner(sim.port)
            with tempfile.TemporaryDirectory(prefix="krakengw-fleet-") as tmp:
                work = Path(tmp)
                # Room for the accounts of one dead gateway among the others: a cap of
                # ceil(K / (N - 1)). Started in order, so the first ones fill up first.
                cap = -(-len(accounts) // max(1, args.gateways - 1))
                for i in range(args.gateways):
                    name = f"gw-{i}"
                    config = fleet_config(
                        work,
                        rest_url=sim.base_url,
                        ws_public_url=sim.spot_ws_public_url,
                        ws_private_url=sim.spot_ws_private_url,
                        journal_url=url,
                        password_file=pg.password_file,
                        accounts=accounts,
                        instance=name,
                        ttl_s=args.ttl,
                        max_accounts=cap,
                        ws_trading=not args.rest_orders,
                    )
                    configs[name] = config
                    gateways[name] = await Gateway.start(name, config, work / name)
                serving = {a.name: await serving_gateway(gateways, a.name) for a in accounts}
                _say(
                    {
                        "gateways": {n: g.target for n, g in gateways.items()},
                        "tokens": {a.name: a.token for a in accounts},
                        "serving": serving,
                    }
                )
                await _commands(gateways, configs, work, sim, url, pg, accounts)
    finally:
        for gw in gateways.values():
            await gw.stop()
        pg.stop()


def _socket_owner(sim_port: int) -> Callable[[str], str]:
    """peer "host:port" -> "pid PID" of the process (a child of this harness: the gateways,
    including one still starting) holding the socket with that local address connected to the
    simulator's port, else "unknown". Linux: /proc/net/tcp*, /proc/PID/stat and /proc/PID/fd."""
    me = os.getpid()

    def children() -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == me:  # field 4: the parent
                        pids.append(int(entry))
        return pids

    def owner(peer: str) -> str:
        port = int(peer.rsplit(":", 1)[1])
        inodes: set[str] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    if int(local.rsplit(":", 1)[1], 16) == port and (
                        int(remote.rsplit(":", 1)[1], 16) == sim_port
                    ):
                        inodes.add(f"socket:[{inode}]")
        for pid in children():
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                            return f"pid {pid}"
        return "unknown"

    return owner


async def serving_gateway(gateways: dict[str, Gateway], account: str) -> str:
    """The name of the gateway that says it serves `account` first (waits for one)."""
    text = f"fleet: serving account '{account}'"
    waits = {asyncio.ensure_future(gw.wait_for(text)): name for name, gw in gateways.items()}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[next(iter(done))]


def _say(message: object) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _commands(
    gateways: dict[str, Gateway],
    configs: dict[str, Path],
    work: Path,
    sim: SimulatorServer,
    url: str,
    pg: PostgresServer,
    fleet: list[FleetAccount],
) -> None:
    accounts = {a.name: a for a in fleet}
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spot = sim.ctx.spot
    while line := (await reader.readline()).decode().split():
        match line:
            case ["kill", name]:
                gateways[name].proc.kill()
                await gateways[name].proc.wait()
                _say({"killed": name})
            case ["stop", name]:
                gateways[name].proc.send_signal(signal.SIGSTOP)
                _say({"stopped": name})
            case ["cont", name]:
                gateways[name].proc.send_signal(signal.SIGCONT)
                _say({"continued": name})
            case ["restart", name]:
                await gateways[name].stop()
                # On its old port: clients keep the fleet's address list.
                gw = await Gateway.start(
                    name, configs[name], work / name, listen=gateways[name].target
                )
                gateways[name] = gw
                _say({"restarted": name, "target": gw.target})
            case ["await", name, account]:
                await gateways[name].wait_for(f"fleet: serving account '{account}'")
                _say({"serving": account, "by": name})
            case ["lost", name, account]:
                await gateways[name].wait_for(f"lost the key lease of account '{account}'")
                _say({"lost": account, "by": name})
            case ["journal" | "fills" as what, account]:
                sql = (
                    "SELECT seq, exec_id FROM reports WHERE account = %s ORDER BY seq"
                    if what == "journal"
                    else "SELECT trade_id FROM fills WHERE account = %s ORDER BY id"
                )
                async with await psycopg.AsyncConnection.connect(url, password=pg.password) as conn:
                    cur = await conn.execute(sql, (account,))
                    rows = await cur.fetchall()
                if what == "journal":
                    _say({"reports": [[int(seq), str(e)] for seq, e in rows]})
                else:
                    _say({"fills": [str(t) for (t,) in rows]})
            case ["trades", account]:
                trades: list[str] = []
                while True:
                    got = spot().trades_history(accounts[account].account_id, ofs=len(trades))
                    trades.extend(f.txid for f in got.items)
                    if not got.items or len(trades) >= got.count:
                        break
                _say({"trades": trades})
            case ["open", account]:
                txids = [o.txid for o in spot().open_orders(accounts[account].account_id)]
                _say({"open": txids})
            case ["signed", account]:
                log = sim.ctx.spot_auth.signed_log.get(accounts[account].key, ())
                _say({"signed": [[r.at, r.sender, r.via, r.owner] for r in log]})
            case ["sessions"]:  # diagnostics: the database's sessions and what they wait on
                async with await psycopg.AsyncConnection.connect(url, password=pg.password) as conn:
                    cur = await conn.execute(
                        "SELECT pid, state, wait_event_type, wait_event, left(query, 120),"
                        " pg_blocking_pids(pid)::text, application_name"
                        " FROM pg_stat_activity WHERE datname = current_database()"
                    )
                    rows = [list(map(str, r)) for r in await cur.fetchall()]
                _say({"sessions": rows})
            case ["nonces"]:
                _say({"invalid_nonce": dict(sim.ctx.spot_auth.invalid_nonces)})
            case _:
                _say({"error": f"unknown command {line!r}"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--ttl", type=float, default=2.0)
    parser.add_argument("--rest-orders", action="store_true")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--owners", action="store_true")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(_main(parser.parse_args()))
