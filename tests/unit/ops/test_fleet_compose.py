"""examples/fleet/: the docker-compose fleet (PostgreSQL, the simulator, three gateways) is
consistent: each gateway mounts its own config, which passes `kraken-gateway check-config`
(with stand-in secret files); the configs share accounts and sessions and split them either
disjointly or as a shared pool whose caps let the survivors of one failure serve every account;
clients are told the published addresses; every secret a config reads is a compose secret that
make-secrets.sh writes; the simulator has a key for every account."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import yaml

from gateway.check_config import check_config
from gateway.config import GatewayConfig, load_config
from simulator.accounts import load_accounts

FLEET = Path(__file__).resolve().parents[3] / "examples" / "fleet"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((FLEET / "docker-compose.yml").read_text())
    return loaded


def _gateways(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "serve" in service.get("command", [])
    }


def _runnable(tmp_path: Path, name: str, config: Path, secrets: list[str]) -> Path:
    """The config with its container paths pointed at stand-ins: owner-only secret files, a
    writable data_dir."""
    where = tmp_path / name
    (where / "secrets").mkdir(parents=True)
    for secret in secrets:
        path = where / "secrets" / secret
        value = (
            "c3RhbmQtaW4tc2VjcmV0LWZvci10aGUtY29tcG9zZS10ZXN0"
            if "secret" in secret
            else (f"stand-in-{secret}-0123456789")
        )
        path.write_text(value)
        path.chmod(0o600)
    text = config.read_text().replace("/run/secrets/", f"{where}/secrets/")
    text = text.replace('"/var/lib/krakengw"', f'"{where}/data"')
    out = where / "gateway.toml"
    out.write_text(text)
    return out


def test_the_fleet_compose_file_runs_postgres_the_simulator_and_three_gateways() -> None:
    compose = _compose()
    services = compose["services"]
    gateways = _gateways(compose)
    assert len(gateways) == 3
    assert set(services) == {"postgres", "simulator", *gateways}
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == (
        "/run/secrets/pg_password"
    )
    published = [p for gw in gateways.values() for p in gw["ports"]]
    assert len(set(published)) == 3 and all(p.startswith("127.0.0.1:") for p in published)
    sim = services["simulator"]
    mounted = dict(v.rsplit(":", 2)[:2] for v in sim["volumes"])
    accounts_file = sim["command"][sim["command"].index("--accounts") + 1]
    assert {v: k for k, v in mounted.items()}[accounts_file] == "./sim-accounts.toml"
    assert (FLEET / "sim-accounts.toml").is_file()
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_each_gateway_config_passes_check_config_and_the_fleet_covers_every_account(
    tmp_path: Path,
) -> None:
    compose = _compose()
    secrets = list(compose["secrets"])
    configs: dict[str, GatewayConfig] = {}
    for name, gw in _gateways(compose).items():
        command = gw["command"]
        inside = command[command.index("--config") + 1]
        mounts = {v.rsplit(":", 2)[1]: v.rsplit(":", 2)[0] for v in gw["volumes"]}
        assert mounts[inside] == f"./{name}.toml"
        assert set(gw["secrets"]) == set(secrets)
        text = (FLEET / f"{name}.toml").read_text()
        assert set(re.findall(r"/run/secrets/(\w+)", text)) <= set(secrets)
        runnable = _runnable(tmp_path, name, FLEET / f"{name}.toml", secrets)
        out, err = io.StringIO(), io.StringIO()
        assert check_config(runnable, out, err) == 0, err.getvalue()
        configs[name] = config = load_config(runnable)
        fleet = config.fleet
        assert fleet is not None and config.journal.url is not None
        # Clients are sent to the address the gateway is published at.
        port = gw["ports"][0].split(":")[1]
        assert fleet.advertise_address == f"localhost:{port}"

    fleets = [c.fleet for c in configs.values() if c.fleet is not None]
    assert len({f.instance for f in fleets}) == 3
    accounts = set(next(iter(configs.values())).accounts)
    assert all(set(c.accounts) == accounts for c in configs.values())
    assert all(
        set(c.sessions) == set(next(iter(configs.values())).sessions) for c in configs.values()
    )
    lists = [f.accounts for f in fleets]
    if all(a is not None for a in lists):  # disjoint: each account pinned to one gateway
        pinned = [set(a or ()) for a in lists]
        assert (
            sum(map(len, pinned)) == len(set().union(*pinned)) and set().union(*pinned) == accounts
        )
    else:  # a shared pool: capped, and any two survivors can serve every account
        caps = sorted(f.max_accounts or 0 for f in fleets)
        assert caps[0] > 0 and sum(caps[:-1]) >= len(accounts)

    # The simulator knows a key for every account, the one make-secrets.sh copies out.
    sim = load_accounts(FLEET / "sim-accounts.toml")
    for name in accounts:
        account = sim.by_name_or_id(name)
        assert account is not None, name
    script = (FLEET / "make-secrets.sh").read_text()
    assert "sim-accounts.toml" in script and "pg_password" in script
