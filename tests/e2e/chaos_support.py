"""What the chaos and soak tests share: a Kraken simulator that outlives the gateway (started by
the test, restartable empty on the same port), a `serve` process configured for it with the dead
man's switch on, a taker key that fills the gateway's resting orders while it is down, and a
client that records every execution report it is handed across restarts."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient
from krakengw import AsyncClient, ExecutionReport, KrakenGwError, ReconnectPolicy, order_spec
from simulator.accounts import KrakenAccounts, parse_accounts
from simulator.app import SimulatorServer
from simulator.named_accounts import named_key
from tests.e2e.conftest import GatewayProcess

SOAK_SHORT = os.environ.get("SOAK") == "short"
TRADER = "trader"
TAKER = "taker"
TOKEN = "e2e-chaos-token-0123456789abcdef"
QTY = Decimal("0.001")
BATCH = 15  # Kraken's AddOrderBatch maximum
WAIT_S = 60.0
DEAD_MAN_TIMEOUT_S = 20


def chaos_accounts() -> KrakenAccounts:
    raw: dict[str, Any] = {"accounts": []}
    for i, name in enumerate((TRADER, TAKER)):
        key, secret = named_key(name)
        raw["accounts"].append(
            {
                "id": f"AA{i:012d}",
                "name": name,
                "tier": "pro",
                "balances": {"ZUSD": "100000000", "XXBT": "10000", "XETH": "100000"},
                "keys": [{"key": key, "secret": secret, "permissions": ["all"]}],
            }
        )
    return parse_accounts(raw)


class Venue:
    """The simulator, on one port for the whole test; `restart_empty` forgets every order."""

    def __init__(self) -> None:
        self.server: SimulatorServer | None = None
        self.port = 0

    async def start(self) -> SimulatorServer:
        self.server = SimulatorServer(
            host="127.0.0.1",
            port=self.port,
            seed=7,
            accounts=chaos_accounts(),
            market_maker=False,  # the only bids are the gateway's: the taker fills them
        )
        await self.server.start()
        self.port = int(self.server.base_url.rsplit(":", 1)[1])
        return self.server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart_empty(self) -> None:
        await self.stop()
        await self.start()


def write_config(workdir: Path, sim: SimulatorServer) -> None:
    key, secret = named_key(TRADER)
    for name, value in (("spot.key", key), ("spot.secret", secret), ("main.token", TOKEN)):
        (workdir / name).write_text(value)
        (workdir / name).chmod(0o600)
    (workdir / "gateway.toml").write_text(
        f"""
[server]
data_dir = "data"
heartbeat_interval_s = 1
heartbeat_timeout_s = 3
shutdown_grace_s = 2

[kraken]
dead_man_switch = true
dead_man_timeout_s = {DEAD_MAN_TIMEOUT_S}
dead_man_refresh_s = 5

[kraken.spot]
rest_url = "{sim.base_url}"
ws_public_url = "{sim.spot_ws_public_url}"
ws_private_url = "{sim.spot_ws_private_url}"
tier = "pro"

[accounts.main]
permissions = ["read", "trade", "cancel_only"]
spot = {{ key_file = "spot.key", secret_file = "spot.secret" }}

[sessions.main]
account = "main"
token_file = "main.token"
"""
    )


def gateway(workdir: Path) -> GatewayProcess:
    return GatewayProcess(workdir=workdir, token=TOKEN)


class Taker:
    """The taker key over plain REST: sells into the gateway's resting bids."""

    def __init__(self, sim: SimulatorServer) -> None:
        self.rest = KrakenSpotRestClient(
            sim.base_url,
            KrakenCredentials(*named_key(TAKER)),
            KrakenNonceSource(TAKER, InMemoryNonceStore()),
            KrakenRateGovernor(KrakenTier.PRO),
        )

    async def sell(self, qty: Decimal, floor: Decimal, pair: str = "XBTUSD") -> None:
        """An IOC sell down to `floor`: fills the best bids first."""
        await self.rest.write(
            "AddOrder",
            {
                "pair": pair,
                "type": "sell",
                "ordertype": "limit",
                "price": str(floor),
                "volume": str(qty),
                "timeinforce": "IOC",
            },
        )

    async def close(self) -> None:
        await self.rest.close()


@dataclass
class Recorder:
    """A trader whose execution stream resumes across gateway restarts; keeps every report."""

    target: str
    reports: list[ExecutionReport] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    client: AsyncClient | None = None
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.5, max_attempts=1000)
        self.client = AsyncClient(self.target, TOKEN, reconnect=policy)
        await self.client.logon()
        stream = self.client.stream_executions(0)

        async def pump() -> None:
            async for report in stream:
                async with self.changed:
                    self.reports.append(report)
                    self.changed.notify_all()

        self.task = asyncio.create_task(pump())

    async def wait(self, pred: Callable[[list[ExecutionReport]], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            async with self.changed:
                await self.changed.wait_for(lambda: pred(self.reports))

    async def place(
        self, prefix: str, prices: list[Decimal], symbol: str = "BTC/USD", qty: Decimal = QTY
    ) -> None:
        """Resting buys, in batches; a batch the gateway refuses (restarting, rate-limited) is
        sent again with the same client order ids, which the gateway de-duplicates."""
        assert self.client is not None
        for start in range(0, len(prices), BATCH):
            specs = [
                order_spec(
                    symbol,
                    "buy",
                    qty,
                    price=price,
                    client_order_id=f"{prefix}-{start + i}",
                )
                for i, price in enumerate(prices[start : start + BATCH])
            ]
            await self._until_accepted(specs)

    async def _until_accepted(self, specs: list[Any]) -> None:
        assert self.client is not None
        last: KrakenGwError | None = None
        for _attempt in range(200):
            try:
                results = await self.client.submit_order_batch(specs)
            except KrakenGwError as error:
                last = error
                await asyncio.sleep(_retry_in(error))
                continue
            refused = [r for r in results if isinstance(r, KrakenGwError)]
            if not refused:
                return
            last = refused[0]
            await asyncio.sleep(max(_retry_in(e) for e in refused))
        raise AssertionError(f"orders never accepted: {last}")

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.client is not None:
            await self.client.close()


def _retry_in(error: KrakenGwError) -> float:
    """Backoff before resending (the governor's delay when it names one)."""
    if error.retry_after is not None:
        return error.retry_after.total_seconds()
    return 0.2


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)
