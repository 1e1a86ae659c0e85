"""A real gateway (GatewayApp: SQLite journal, core service, sessions, grpc.aio server) on
127.0.0.1:0, trading on paper venues wrapped in a call counter, for the real Python client.

Accounts and sessions:
    acct-a   trade+read+drop_copy   sessions `a`, `a2` (same key: lease conflict), `audit`
                                    (read+drop_copy observer, takes no lease)
    acct-b   trade+read             session `b` (risk: max order qty 5)
    acct-ro  read                   session `ro`
    desk     a risk desk on acct-a (read+cancel_only): sees and cancels every order of acct-a,
             takes no lease
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.app import GatewayApp
from gateway.config import AccountConfig, load_config
from gateway.core.ports import AccountVenues, VenuePorts
from gateway.venues.paper import PaperMarket, PaperVenue
from krakengw import AsyncClient

SESSIONS = ("a", "a2", "audit", "b", "ro", "desk")

CONFIG = """
[server]
listen = "127.0.0.1:0"
data_dir = "data"
heartbeat_interval_s = 0.2
heartbeat_timeout_s = 30
shutdown_grace_s = 2

[accounts.acct-a]
permissions = ["read", "trade", "cancel_only", "drop_copy"]

[accounts.acct-b]
permissions = ["read", "trade"]

[accounts.acct-b.risk]
max_order_qty = "5"

[accounts.acct-ro]
permissions = ["read"]

[sessions.a]
account = "acct-a"
token_env = "TOKEN_A"

[sessions.a2]
account = "acct-a"
token_env = "TOKEN_A2"

[sessions.audit]
account = "acct-a"
token_env = "TOKEN_AUDIT"
permissions = ["read", "drop_copy"]

[sessions.b]
account = "acct-b"
token_env = "TOKEN_B"

[sessions.ro]
account = "acct-ro"
token_env = "TOKEN_RO"

[sessions.desk]
account = "acct-a"
token_env = "TOKEN_DESK"
permissions = ["read", "cancel_only"]
"""


ORDER_ENTRY_METHODS = frozenset(
    {"submit", "submit_batch", "amend", "replace", "cancel", "cancel_batch", "cancel_all"}
)


class CountingVenue(PaperVenue):
    """The paper venue, recording every order-entry call that reached it."""

    def __init__(self, market: PaperMarket, account: str) -> None:
        super().__init__(market, account)
        self.calls: Counter[str] = Counter()
        self.submitted: list[str] = []

    def total_calls(self) -> int:
        return sum(self.calls.values())

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name not in ORDER_ENTRY_METHODS:
            return attr
        calls: Counter[str] = super().__getattribute__("calls")
        submitted: list[str] = super().__getattribute__("submitted")

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            if name == "submit":
                submitted.append(args[0].client_order_id)
            return attr(*args, **kwargs)

        return counted


@dataclass
class RunningGateway:
    app: GatewayApp
    target: str
    tokens: dict[str, str]
    venues: dict[str, CountingVenue]
    clients: list[AsyncClient] = field(default_factory=list)
    latest: dict[str, AsyncClient] = field(default_factory=dict)

    def client(self, session: str, token: str | None = None) -> AsyncClient:
        client = AsyncClient(self.target, token if token is not None else self.tokens[session])
        self.clients.append(client)
        self.latest[session] = client
        return client

    def metadata(self, session: str) -> tuple[tuple[str, str], ...]:
        """What the session's latest client sends (token and logon id): for raw stub calls."""
        return self.latest[session].call_metadata

    def venue_calls(self) -> int:
        return sum(v.total_calls() for v in self.venues.values())


def write_config(directory: Path, body: str = CONFIG) -> Path:
    path = directory / "gateway.toml"
    path.write_text(body)
    return path


def make_tokens() -> dict[str, str]:
    return {s: f"tok-{s}-{secrets.token_urlsafe(24)}" for s in SESSIONS}


def counting_factory(
    venues: dict[str, CountingVenue],
) -> Callable[[AccountConfig], Any]:
    market = PaperMarket()

    async def build(account: AccountConfig) -> AccountVenues:
        venue = CountingVenue(market, account.name)
        venues[account.name] = venue
        return AccountVenues.of(
            VenuePorts(order_entry=venue, account=venue, instruments=market, market_data=market),
            closers=[venue.close],
        )

    return build


async def start_gateway(tmp_path: Path, body: str = CONFIG) -> RunningGateway:
    tokens = make_tokens()
    env = {f"TOKEN_{s.upper()}": t for s, t in tokens.items()}
    config = load_config(write_config(tmp_path, body), environ=env)
    venues: dict[str, CountingVenue] = {}
    app = await GatewayApp.build(config, venues=counting_factory(venues))
    port = await app.start()
    return RunningGateway(app=app, target=f"127.0.0.1:{port}", tokens=tokens, venues=venues)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    running = await start_gateway(tmp_path)
    try:
        yield running
    finally:
        for client in running.clients:
            await client.close()
        await running.app.stop()
