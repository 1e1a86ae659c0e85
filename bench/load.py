"""Servers and a load generator in their own processes, for the CPU and capacity goals.

    python -m bench.load serve-gateway --dir DIR --sessions N   # real gateway, paper venue
    python -m bench.load serve-echo                              # bare grpc.aio bidi echo
    python -m bench.load generate --target HOST:PORT ...         # paced orders, latencies

A server prints `READY <target>` (the gateway also writes its session tokens, one per line, to
`DIR/tokens`) and serves until stdin closes. The generator opens one bidirectional stream per
session (the gateway's OrderEntry, or the echo method with the same serialized requests), sends
at a fixed total rate spread round-robin over the streams (open loop: the schedule does not wait
for answers), and prints one JSON line per rate step: requests sent and answered, the achieved
rate, p50/p99 of send -> answer, and the server process's CPU seconds over the step (read from
/proc, so Linux only). It uses the raw generated stubs, not the typed client, so the generator
spends as little CPU as it can beside the server on a small machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

from bench.stats import percentile
from krakengw import builders
from krakengw.v1 import orders_pb2, orders_pb2_grpc, sessions_pb2, sessions_pb2_grpc

ECHO_METHOD = "/bench.Echo/Echo"
QTY = "0.01"
PRICE = "40000"  # below the paper price: every order rests, no fill traffic


def _identity(data: bytes) -> bytes:
    return data


# -- servers ---------------------------------------------------------------------------------


class _Echo(grpc.GenericRpcHandler):
    """One bidi method that writes every request back as it is: the floor of a gRPC order
    stream (same transport, same message sizes, no work)."""

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        if handler_call_details.method != ECHO_METHOD:  # type: ignore[attr-defined]
            return None

        async def echo(
            requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[bytes]:
            async for request in requests:
                yield request

        return grpc.stream_stream_rpc_method_handler(
            echo, request_deserializer=_identity, response_serializer=_identity
        )


async def start_echo() -> tuple[grpc.aio.Server, str]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Echo(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def serve_echo() -> None:
    server, target = await start_echo()
    print(f"READY {target}", flush=True)
    await _until_stdin_closes()
    await server.stop(0)


async def serve_gateway(directory: Path, sessions: int) -> None:
    # Imported here: the echo server and the generator start faster without the gateway.
    from bench.common import start_gateway, trading_session

    gw = await start_gateway(directory, trading_sessions=sessions)
    names = [trading_session(i) for i in range(sessions)]
    (directory / "tokens").write_text("".join(gw.tokens[n] + "\n" for n in names))
    print(f"READY {gw.target}", flush=True)
    await _until_stdin_closes()
    await gw.app.stop()


# -- load generator --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def order_request(correlation: str, client_order_id: str) -> orders_pb2.OrderEntryRequest:
    spec = builders.order_spec("BTC/USD", "buy", QTY, price=PRICE, client_order_id=client_order_id)
    return orders_pb2.OrderEntryRequest(
        correlation_id=correlation, submit_order=orders_pb2.SubmitOrderRequest(order=spec)
    )


class _Stream:
    """One bidi stream and the send times of its unanswered requests."""

    def __init__(self, call: Any, fifo: bool) -> None:
        self.call = call
        self.fifo = fifo
        self.sent_at: dict[str, float] = {}
        self.queue: collections.deque[float] = collections.deque()
        self.latencies: list[float] = []
        self.errors = 0
        self.idle = asyncio.Event()  # set while every request sent has its answer
        self.idle.set()

    async def write(self, correlation: str, payload: Any) -> None:
        now = time.perf_counter()
        if self.fifo:
            self.queue.append(now)
        else:
            self.sent_at[correlation] = now
        self.idle.clear()
        await self.call.write(payload)

    async def read(self) -> None:
        async for response in self.call:
            now = time.perf_counter()
            if self.fifo:
                self.latencies.append(now - self.queue.popleft())
            else:
                if response.HasField("error"):
                    self.errors += 1
                start = self.sent_at.pop(response.correlation_id, None)
                if start is not None:
                    self.latencies.append(now - start)
            if not self.queue and not self.sent_at:
                self.idle.set()


async def _open_streams(
    target: str, kind: str, tokens: list[str], streams: int
) -> tuple[list[grpc.aio.Channel], list[_Stream]]:
    channels = []
    opened = []
    if kind == "echo":
        channel = grpc.aio.insecure_channel(target)
        channels.append(channel)
        method = channel.stream_stream(
            ECHO_METHOD, request_serializer=_identity, response_deserializer=_identity
        )
        opened = [_Stream(method(), fifo=True) for _ in range(streams)]
        return channels, opened
    channel = grpc.aio.insecure_channel(target)
    channels.append(channel)
    logon_stub = sessions_pb2_grpc.SessionServiceStub(channel)
    orders = orders_pb2_grpc.OrderServiceStub(channel)
    for token in tokens[:streams]:
        metadata = _metadata(token)
        logon = await logon_stub.Logon(
            sessions_pb2.LogonRequest(client_name="bench"), metadata=metadata
        )
        # Every later call carries the logon's id (the gateway binds calls to their logon).
        LOGON_IDS[token] = logon.logon_id
        opened.append(_Stream(orders.OrderEntry(metadata=_metadata(token)), fifo=False))
    return channels, opened


# The logon id of each token's session, for the calls after Logon.
LOGON_IDS: dict[str, str] = {}


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),)
    if token in LOGON_IDS:
        metadata += (("krakengw-logon-id", LOGON_IDS[token]),)
    return metadata


async def generate(
    target: str,
    kind: str,
    tokens: list[str],
    streams: int,
    rates: list[float],
    seconds: float,
    warmup: float,
    server_pid: int,
    max_p99: float | None,
) -> None:
    channels, opened = await _open_streams(target, kind, tokens, streams)
    readers = [asyncio.create_task(s.read()) for s in opened]
    tag = f"{os.getpid()}-{int(time.time() * 1000) % 10_000_000}"
    counter = 0

    def payload(correlation: str) -> Any:
        request = order_request(correlation, f"ld{tag}-{correlation}")
        return request.SerializeToString() if kind == "echo" else request

    async def run_at(rate: float, duration: float) -> int:
        nonlocal counter
        start = time.perf_counter()
        sent = 0
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= duration:
                return sent
            due = int(elapsed * rate) + 1 - sent
            for _ in range(due):
                counter += 1
                stream = opened[counter % len(opened)]
                correlation = str(counter)
                await stream.write(correlation, payload(correlation))
                sent += 1
            await asyncio.sleep(0.001)

    async def settle() -> None:
        # Wait (bounded) for the answers of a step before the next starts.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                for s in opened:
                    await s.idle.wait()

    misses = 0
    try:
        for rate in rates:
            if warmup > 0:
                await run_at(rate, warmup)
                await settle()
            for s in opened:
                s.latencies.clear()
            cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
            t0 = time.perf_counter()
            sent = await run_at(rate, seconds)
            await settle()
            wall = time.perf_counter() - t0
            cpu = (cpu_seconds(server_pid) - cpu0) if server_pid else 0.0
            latencies = [x for s in opened for x in s.latencies]
            p99 = percentile(latencies, 0.99) if latencies else float("inf")
            step = {
                "rate": rate,
                "sent": sent,
                "answered": len(latencies),
                "errors": sum(s.errors for s in opened),
                "achieved": len(latencies) / seconds,
                "wall": wall,
                "p50": percentile(latencies, 0.5) if latencies else float("inf"),
                "p99": p99,
                "cpu": cpu,
            }
            print(json.dumps(step), flush=True)
            over = p99 > (max_p99 or float("inf")) or len(latencies) < 0.95 * sent
            misses = misses + 1 if over else 0
            if max_p99 is not None and misses >= 2:
                break  # two steps in a row over the limit: one may be the shared machine
    finally:
        for s in opened:
            s.call.cancel()
        if kind == "gateway":  # the next generator logs the same sessions on again
            logout = sessions_pb2_grpc.SessionServiceStub(channels[0]).Logout
            for token in tokens[:streams]:
                await logout(sessions_pb2.LogoutRequest(), metadata=_metadata(token))
                LOGON_IDS.pop(token, None)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for channel in channels:
            await channel.close()


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gw = sub.add_parser("serve-gateway")
    gw.add_argument("--dir", type=Path, default=None)
    gw.add_argument("--sessions", type=int, default=1)
    sub.add_parser("serve-echo")
    gen = sub.add_parser("generate")
    gen.add_argument("--target", required=True)
    gen.add_argument("--kind", choices=("gateway", "echo"), default="gateway")
    gen.add_argument("--tokens", type=Path, default=None, help="file, one token per line")
    gen.add_argument("--streams", type=int, default=1)
    gen.add_argument("--rates", default="400", help="comma-separated orders/s steps")
    gen.add_argument("--seconds", type=float, default=5.0)
    gen.add_argument("--warmup", type=float, default=1.0)
    gen.add_argument("--server-pid", type=int, default=0)
    gen.add_argument(
        "--max-p99", type=float, default=None, help="stop after two steps in a row above it"
    )
    args = parser.parse_args(argv)
    if args.command == "serve-echo":
        asyncio.run(serve_echo())
    elif args.command == "serve-gateway":
        if args.dir is None:
            with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
                asyncio.run(serve_gateway(Path(tmp), args.sessions))
        else:
            asyncio.run(serve_gateway(args.dir, args.sessions))
    else:
        tokens = args.tokens.read_text().split() if args.tokens else []
        rates = [float(r) for r in args.rates.split(",")]
        asyncio.run(
            generate(
                args.target,
                args.kind,
                tokens,
                args.streams,
                rates,
                args.seconds,
                args.warmup,
                args.server_pid,
                args.max_p99,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
