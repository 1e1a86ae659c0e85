"""A gateway on the embedded Kraken simulator (the real Kraken Spot adapter), in process, with
its metrics endpoint and console on ephemeral loopback ports."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from gateway.cli import dev_config, running_gateway
from gateway.config import ConsoleConfig
from tests.secret_scan import register_secret


@dataclass
class LiveGateway:
    target: str
    token: str
    admin_token: str
    metrics_url: str
    console_url: str


@pytest.fixture
async def live_gateway(tmp_path: Path) -> AsyncIterator[LiveGateway]:
    token = "obs-session-" + secrets.token_urlsafe(18)
    admin = "obs-admin-" + secrets.token_urlsafe(18)
    register_secret(token)
    register_secret(admin)
    config = dev_config("127.0.0.1:0", tmp_path / "data", token)
    config = replace(
        config,
        server=replace(config.server, metrics_listen="127.0.0.1:0"),
        console=ConsoleConfig(
            listen="127.0.0.1:0", admin_token_sha256=hashlib.sha256(admin.encode()).digest()
        ),
    )
    async with running_gateway(config, None) as (app, _sim):
        yield LiveGateway(
            target=f"127.0.0.1:{app.port}",
            token=token,
            admin_token=admin,
            metrics_url=f"http://127.0.0.1:{app.metrics_port}/metrics",
            console_url=f"http://127.0.0.1:{app.console_port}",
        )
