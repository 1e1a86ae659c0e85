"""The container story holds together without a Docker daemon: the Dockerfile's health check,
volume and user; examples/docker-compose.yml's services, ports, volumes and secrets; its
gateway config parses with owner-only secret files (and group-readable ones only with the
documented opt-out); the Grafana dashboard queries only metrics the gateway exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from gateway.config import GROUP_READABLE_SECRETS_ENV, AccountVenue, ConfigError, load_config
from gateway.observability.metrics import GatewayMetrics

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def test_dockerfile_health_volume_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'HEALTHCHECK .*\n\s+CMD \["kraken-gateway", "health"', text)
    assert 'VOLUME ["/var/lib/krakengw"]' in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0].isdigit() and not user[-1].startswith("0")
    assert "--data-dir" in text and "/var/lib/krakengw" in text


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / "docker-compose.yml").read_text())
    return loaded


def test_compose_services_ports_volumes_and_secrets() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"gateway", "simulator", "prometheus"}
    gateway = services["gateway"]
    command = gateway["command"]
    metrics_port = command[command.index("--metrics") + 1].rpartition(":")[2]
    console_port = command[command.index("--console") + 1].rpartition(":")[2]
    grpc_port = command[command.index("--listen") + 1].rpartition(":")[2]
    published = {p.rsplit(":", 1)[1] for p in gateway["ports"]}
    assert {grpc_port, console_port} <= published
    assert all(p.startswith("127.0.0.1:") for p in gateway["ports"])  # loopback on the host
    assert "journal:/var/lib/krakengw" in gateway["volumes"]
    assert "journal" in compose["volumes"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in gateway["volumes"] if v.endswith(":ro"))
    assert mounts["./compose/gateway.toml"] == "/etc/krakengw/gateway.toml"
    assert set(gateway["secrets"]) == set(compose["secrets"])
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./compose/secrets/")
    assert (EXAMPLES / "compose").is_dir()
    prometheus = yaml.safe_load((EXAMPLES / "compose" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"gateway:{metrics_port}"]
    sim = services["simulator"]
    sim_port = sim["command"][sim["command"].index("--port") + 1]
    assert sim["expose"] == [sim_port]
    config_text = (EXAMPLES / "compose" / "gateway.toml").read_text()
    assert f"http://simulator:{sim_port}" in config_text


def _secret_files(tmp_path: Path, mode: int) -> Path:
    text = (EXAMPLES / "compose" / "gateway.toml").read_text()
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for name, value in (
        ("spot_key", "compose-test-key"),
        ("spot_secret", "Y29tcG9zZS10ZXN0LXNlY3JldA=="),
        ("trader_token", "compose-test-token-0123456789"),
    ):
        path = secrets_dir / name
        path.write_text(value)
        path.chmod(mode)
    config = tmp_path / "gateway.toml"
    config.write_text(text.replace("/run/secrets/", f"{secrets_dir}/"))
    return config


def test_compose_gateway_config_parses_with_owner_only_secret_files(tmp_path: Path) -> None:
    config = load_config(_secret_files(tmp_path, 0o400), environ={})
    account = config.accounts["main"]
    assert account.trades_on is AccountVenue.KRAKEN and account.spot_key is not None
    assert config.kraken.spot.rest_url == "http://simulator:8799"
    assert config.console.listen == "0.0.0.0:8080"
    assert config.kraken.deprecations == ()


def test_group_readable_secret_files_need_the_documented_opt_out(tmp_path: Path) -> None:
    path = _secret_files(tmp_path, 0o440)
    with pytest.raises(ConfigError, match="group or others"):
        load_config(path, environ={})
    config = load_config(path, environ={GROUP_READABLE_SECRETS_ENV: "1"})
    assert config.accounts["main"].spot_key is not None


def test_world_readable_secret_files_are_refused_even_with_the_opt_out(tmp_path: Path) -> None:
    path = _secret_files(tmp_path, 0o444)
    with pytest.raises(ConfigError, match="accessible by others"):
        load_config(path, environ={GROUP_READABLE_SECRETS_ENV: "1"})


def test_grafana_dashboard_queries_exported_metrics() -> None:
    dashboard = json.loads((EXAMPLES / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(krakengw_\w+|process_\w+)", target["expr"])
    }
    metrics = GatewayMetrics()
    # A read model with one of everything, so the scrape-time families show up too.
    budget = SimpleNamespace(name="spot_trading", symbol="BTC/USD", used=1, limit=2)
    venue = SimpleNamespace(venue="kraken", key_id="kk_1", connected=True, dead_man_expires_in_s=3)
    model: Any = SimpleNamespace(
        budgets=lambda: [SimpleNamespace(account="a", key_id="kk_1", budget=budget)],
        sessions=lambda: [SimpleNamespace(session_id="s", account="a", leased=True,
                                          heartbeat_age_s=0.5)],
        stream_lags=lambda: {"s": 0},
        accounts=lambda: [SimpleNamespace(account="a", kill_switch=False, venues=[venue])],
        registry=SimpleNamespace(active_count=lambda: 1),
    )  # fmt: skip
    metrics.watch(model)
    exported = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    for family in metrics.registry.collect():
        exported.add(family.name)
        exported.update(family.name + s for s in suffixes.get(family.type, ()))
    assert queried - exported == set()
