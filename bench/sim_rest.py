"""Simulator Spot REST throughput: signed AddOrder/s over real HTTP with N concurrent clients.

Starts `python -m simulator` in a subprocess (rate counters off, one account and key per client,
so nonces never collide), then measures in the same run:

* baseline: `GET /0/public/Time` (HTTP stack + envelope only)
* `POST /0/private/AddOrder` (signature check, nonce, engine, JSON), resting limit orders

and prints p50/p99 latency, requests/s and the AddOrder/Time ratios.

    .venv/bin/python -m bench.sim_rest [--clients 8] [--orders 400]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.common import start_simulator
from simulator.spot.auth import spot_signature


@dataclass
class Result:
    name: str
    latencies: list[float]
    elapsed: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:10} n={len(self.latencies):6}  p50={self.quantile(0.5) * 1e3:7.3f} ms  "
            f"p99={self.quantile(0.99) * 1e3:7.3f} ms  {self.rate:9.1f} req/s"
        )


def _secret(i: int) -> str:
    return base64.b64encode(f"bench-secret-{i:04d}".encode().ljust(64, b".")).decode()


def write_accounts(path: Path, clients: int) -> None:
    lines = []
    for i in range(clients):
        lines += [
            "[[accounts]]",
            f'id = "AABENCH{i:07d}"',
            'tier = "pro"',
            'balances = { ZUSD = "100000000", XXBT = "100000" }',
            "[[accounts.keys]]",
            f'key = "bench-key-{i}"',
            f'secret = "{_secret(i)}"',
            "",
        ]
    path.write_text("\n".join(lines))


async def run_workers(
    name: str, clients: int, per_client: int, call: Callable[[int, int], Awaitable[None]]
) -> Result:
    latencies: list[float] = []

    async def worker(i: int) -> None:
        for n in range(per_client):
            start = time.perf_counter()
            await call(i, n)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    return Result(name, latencies, time.perf_counter() - start)


async def bench(clients: int, per_client: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        accounts = Path(tmp) / "accounts.toml"
        write_accounts(accounts, clients)
        proc, urls = await start_simulator(accounts)
        base = urls["spot_rest"]
    nonces = [1_000_000 * (i + 1) for i in range(clients)]
    try:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def time_call(i: int, n: int) -> None:
                async with session.get(f"{base}/0/public/Time") as r:
                    body = await r.read()
                    assert r.status == 200 and body.startswith(b'{"error":[]'), body

            async def add_order(i: int, n: int) -> None:
                nonces[i] += 1
                side, price = ("buy", "10000.0") if n % 2 == 0 else ("sell", "900000.0")
                body = urlencode(
                    {
                        "nonce": nonces[i],
                        "ordertype": "limit",
                        "type": side,
                        "volume": "0.0001",
                        "pair": "XBTUSD",
                        "price": price,
                    }
                )
                path = "/0/private/AddOrder"
                headers = {
                    "API-Key": f"bench-key-{i}",
                    "API-Sign": spot_signature(_secret(i), path, str(nonces[i]), body.encode()),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                async with session.post(base + path, data=body, headers=headers) as r:
                    reply = await r.read()
                    assert reply.startswith(b'{"error":[]'), reply

            await run_workers("warmup", clients, 20, time_call)
            baseline = await run_workers("Time", clients, per_client, time_call)
            orders = await run_workers("AddOrder", clients, per_client, add_order)
    finally:
        proc.terminate()
        await proc.wait()
    print(f"simulator Spot REST, {clients} concurrent clients x {per_client} requests each")
    print(baseline.line())
    print(orders.line())
    print(
        f"ratio AddOrder/Time: throughput {orders.rate / baseline.rate:.2f}x, "
        f"p50 latency {orders.quantile(0.5) / baseline.quantile(0.5):.2f}x, "
        f"p99 latency {orders.quantile(0.99) / baseline.quantile(0.99):.2f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_rest")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=400, help="requests per client per phase")
    args = parser.parse_args(argv)
    asyncio.run(bench(args.clients, args.orders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
