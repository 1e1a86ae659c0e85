"""Clients of a fleet: given every gateway's address, a client follows its session.

Real processes: two `kraken-gateway serve` on one PostgreSQL and the simulator. A gateway that
does not serve the session's account answers SESSION_MOVED naming the one that does; when that
one is killed (-9), the client moves to the survivor once it has taken the account over, logs
on again, and its execution stream resumes: every report exactly once, every order placed once.
The same for the blocking `Client` and for the OrderEntry stream of both (opened again on the
survivor, sending the requests still waiting for their ack again), also off a gateway that was
frozen past its lease and resumed (it answers that it lost the account).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from gateway.api.metrics import ApiMetrics
from krakengw import (
    AsyncClient,
    Client,
    ExecutionReport,
    KrakenGwError,
    Order,
    OrdStatus,
    ReconnectPolicy,
)
from simulator.accounts import DEMO_ACCOUNT_ID
from simulator.app import SimulatorServer
from tests.e2e.test_fleet import RESTING, TIMEOUT, TOKEN_X, Gateway, _config, _journal_rows
from tests.e2e.test_one_signer_per_key import sim as sim
from tests.support.postgres import PostgresServer

from .test_fleet import fleet as fleet

ORDERS = 8  # a is killed after the first half
# Enough moves to outlast the lease TTL plus the takeover on a loaded machine.
PATIENT = ReconnectPolicy(initial_delay=0.05, max_delay=0.5, max_attempts=400)


async def _collect(
    stream: AsyncClient, into: list[ExecutionReport], changed: asyncio.Condition
) -> None:
    async for report in stream.stream_executions(0, max_batch=0):
        async with changed:
            into.append(report)
            changed.notify_all()


async def test_a_client_with_every_address_keeps_trading_through_a_kill_9(
    tmp_path: Path,
    sim: SimulatorServer,
    postgres_server: PostgresServer,
    fleet: tuple[list[Gateway], str, dict[int, Path]],
) -> None:
    gateways, url, _ = fleet
    a = await Gateway.start(
        "a", _config(tmp_path, sim, postgres_server, url, 1, "gw-a"), tmp_path / "a"
    )
    gateways.append(a)
    await a.wait_for("fleet: serving account 'x'")
    b = await Gateway.start(
        "b", _config(tmp_path, sim, postgres_server, url, 2, "gw-b"), tmp_path / "b"
    )
    gateways.append(b)
    await b.wait_for("fleet: serving account 'y'")

    # b refuses x's session and names a's address: a plain client of b learns where to go.
    async with AsyncClient(b.target, TOKEN_X) as lone:
        with pytest.raises(KrakenGwError) as moved:
            await lone.logon()
    assert moved.value.reason == "SESSION_MOVED"
    assert moved.value.code.name == "UNAVAILABLE"
    assert moved.value.metadata["instance"] == "gw-a"
    assert moved.value.metadata["address"] == a.target

    # The lease table as an operator sees it.
    status = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "db",
        "status",
        "--config",
        str(_config(tmp_path, sim, postgres_server, url, 1, "gw-a")),
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await asyncio.wait_for(status.communicate(), TIMEOUT))[0].decode()
    assert status.returncode == 0
    assert f"instance gw-a  address {a.target}" in out
    assert f"instance gw-b  address {b.target}" in out

    reports: list[ExecutionReport] = []
    changed = asyncio.Condition()
    async with AsyncClient([b.target, a.target], TOKEN_X, reconnect=PATIENT) as client:
        info = await client.logon()  # b first: SESSION_MOVED, then a
        assert info.instance == "gw-a"
        limits = await client.get_limits()
        assert limits.instance == "gw-a" and len(limits.leased_key_ids) == 1
        reader = asyncio.create_task(_collect(client, reports, changed))
        placed = []
        for i in range(ORDERS):
            if i == ORDERS // 2:
                a.proc.kill()  # kill -9 while trading: the next submit must move to b
                await a.proc.wait()
            if i % 2:
                placed.append(await client.submit_order("BTC/USD", "buy", Decimal("0.01")))
            else:
                placed.append(
                    await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
                )
        assert (await client.get_limits()).instance == "gw-b"
        canceled = await client.cancel_order(placed[0].client_order_id)
        assert canceled.ord_status is OrdStatus.CANCELED

        journaled = await _journal_rows(url, postgres_server, "x")
        last = journaled[-1][0]
        try:
            async with asyncio.timeout(TIMEOUT), changed:
                await changed.wait_for(lambda: bool(reports) and reports[-1].sequence >= last)
        finally:
            reader.cancel()
        await client.logout()

    # Zero lost, zero doubled: the stream holds every journaled report once, in order.
    assert [r.sequence for r in reports] == list(range(1, last + 1))
    assert [r.exec_id for r in reports] == [e for _, e in journaled]
    # Every order reached the venue once: at most one NEW per order, and each one accepted (a
    # market order acked just before the kill may settle on the survivor straight from
    # PENDING_NEW to FILLED, which FIX allows); the resting ones rest once each.
    news = [r.client_order_id for r in reports if r.ord_status is OrdStatus.NEW]
    assert len(news) == len(set(news))
    accepted = set(news) | {r.client_order_id for r in reports if r.ord_status is OrdStatus.FILLED}
    assert accepted == {o.client_order_id for o in placed}
    assert {o.client_order_id for o in placed[2::2]} <= set(news)
    resting = {o.venue_order_id for o in placed[2::2]}
    open_at_venue = {o.txid for o in sim.ctx.spot().open_orders(DEMO_ACCOUNT_ID)}
    assert resting <= open_at_venue
    assert placed[0].venue_order_id not in open_at_venue
    filled = [r for r in reports if r.ord_status is OrdStatus.FILLED]
    assert sorted(r.client_order_id for r in filled) == sorted(
        o.client_order_id for o in placed[1::2]
    )
    assert b.count("fleet: serving account 'x'") == 1


def test_the_key_lease_metric_names_instance_and_key_fingerprint() -> None:
    metrics = ApiMetrics()
    held = ["3fa1c2"]
    metrics.watch_key_leases("gw-1", lambda: held)
    sample = metrics.registry.get_sample_value
    assert sample("krakengw_key_lease_held", {"instance": "gw-1", "key_id": "3fa1c2"}) == 1
    held.clear()  # read at scrape time: a lost lease disappears
    assert sample("krakengw_key_lease_held", {"instance": "gw-1", "key_id": "3fa1c2"}) is None


def _journal_rows_now(url: str, pg: PostgresServer, account: str) -> list[tuple[int, str]]:
    with psycopg.connect(url, password=pg.password) as conn:
        cur = conn.execute(
            "SELECT seq, exec_id FROM reports WHERE account = %s ORDER BY seq", (account,)
        )
        return [(int(seq), str(exec_id)) for seq, exec_id in cur.fetchall()]


def _settled(reports: list[ExecutionReport], placed: list[Order]) -> bool:
    """Whether no more reports are due: the resting orders (even places) have their NEW report,
    the market ones their FILLED one. The journal is read only then, so that it holds them."""
    seen = {(r.client_order_id, r.ord_status) for r in reports}
    due = (OrdStatus.NEW, OrdStatus.FILLED)
    return all((o.client_order_id, due[i % 2]) in seen for i, o in enumerate(placed))


def _check_once(
    reports: list[ExecutionReport], journaled: list[tuple[int, str]], placed: list[Order]
) -> None:
    """Every journaled report exactly once, in order; every order accepted exactly once."""
    assert [r.sequence for r in reports] == list(range(1, journaled[-1][0] + 1))
    assert [r.exec_id for r in reports] == [e for _, e in journaled]
    news = [r.client_order_id for r in reports if r.ord_status is OrdStatus.NEW]
    assert len(news) == len(set(news))
    accepted = set(news) | {r.client_order_id for r in reports if r.ord_status is OrdStatus.FILLED}
    assert accepted == {o.client_order_id for o in placed}


async def test_the_blocking_client_and_its_order_entry_follow_the_session_through_a_kill_9(
    tmp_path: Path,
    sim: SimulatorServer,
    postgres_server: PostgresServer,
    fleet: tuple[list[Gateway], str, dict[int, Path]],
) -> None:
    gateways, url, _ = fleet
    a = await Gateway.start(
        "a", _config(tmp_path, sim, postgres_server, url, 1, "gw-a"), tmp_path / "a"
    )
    gateways.append(a)
    await a.wait_for("fleet: serving account 'x'")
    b = await Gateway.start(
        "b", _config(tmp_path, sim, postgres_server, url, 2, "gw-b"), tmp_path / "b"
    )
    gateways.append(b)
    await b.wait_for("fleet: serving account 'y'")

    def trade() -> tuple[list[ExecutionReport], list[Order], list[tuple[int, str]]]:
        reports: list[ExecutionReport] = []
        changed = threading.Condition()
        placed: list[Order] = []
        with Client([b.target, a.target], TOKEN_X, reconnect=PATIENT) as client:
            assert client.logon().instance == "gw-a"  # b first: SESSION_MOVED, then a
            stream = client.stream_executions(0, max_batch=0)

            def read() -> None:
                for report in stream:
                    with changed:
                        reports.append(report)
                        changed.notify_all()

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            with client.order_entry() as entry:
                for i in range(ORDERS):
                    if i == ORDERS // 2:
                        a.proc.kill()  # -9 while trading: the stream and the entry move to b
                    price = None if i % 2 else RESTING
                    placed.append(
                        entry.submit_order("BTC/USD", "buy", Decimal("0.01"), price=price)
                    )
            assert client.get_limits().instance == "gw-b"
            with changed:
                assert changed.wait_for(lambda: _settled(reports, placed), TIMEOUT)
            journaled = _journal_rows_now(url, postgres_server, "x")
            with changed:
                assert changed.wait_for(
                    lambda: bool(reports) and reports[-1].sequence >= journaled[-1][0], TIMEOUT
                )
            stream.close()
        reader.join(TIMEOUT)
        return reports, placed, journaled

    reports, placed, journaled = await asyncio.to_thread(trade)
    _check_once(reports, journaled, placed)
    resting = {o.venue_order_id for o in placed[0::2]}
    assert resting <= {o.txid for o in sim.ctx.spot().open_orders(DEMO_ACCOUNT_ID)}
    assert b.count("fleet: serving account 'x'") == 1


async def test_the_async_order_entry_follows_the_session_off_a_gateway_that_lost_it(
    tmp_path: Path,
    sim: SimulatorServer,
    postgres_server: PostgresServer,
    fleet: tuple[list[Gateway], str, dict[int, Path]],
) -> None:
    """The serving gateway is frozen past its lease with a request in flight, b takes the
    account, a resumes: that request and the next ones are answered from b, each order once."""
    gateways, url, _ = fleet
    a = await Gateway.start(
        "a", _config(tmp_path, sim, postgres_server, url, 1, "gw-a"), tmp_path / "a"
    )
    gateways.append(a)
    await a.wait_for("fleet: serving account 'x'")
    b = await Gateway.start(
        "b", _config(tmp_path, sim, postgres_server, url, 2, "gw-b"), tmp_path / "b"
    )
    gateways.append(b)
    await b.wait_for("fleet: serving account 'y'")

    reports: list[ExecutionReport] = []
    changed = asyncio.Condition()
    async with AsyncClient([a.target, b.target], TOKEN_X, reconnect=PATIENT) as client:
        assert (await client.logon()).instance == "gw-a"
        reader = asyncio.create_task(_collect(client, reports, changed))
        async with client.order_entry() as entry:
            placed = [
                await entry.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING),
                await entry.submit_order("BTC/USD", "buy", Decimal("0.01")),
            ]
            a.proc.send_signal(signal.SIGSTOP)
            in_flight = asyncio.create_task(
                entry.submit_order("BTC/USD", "buy", Decimal("0.01"), price=RESTING)
            )
            await b.wait_for("fleet: serving account 'x'")
            a.proc.send_signal(signal.SIGCONT)
            await a.wait_for("lost the key lease of account 'x'")
            async with asyncio.timeout(TIMEOUT):
                placed.append(await in_flight)
            placed.append(await entry.submit_order("BTC/USD", "buy", Decimal("0.01")))
        assert (await client.get_limits()).instance == "gw-b"
        try:
            async with asyncio.timeout(TIMEOUT), changed:
                await changed.wait_for(lambda: _settled(reports, placed))
            journaled = await _journal_rows(url, postgres_server, "x")
            async with asyncio.timeout(TIMEOUT), changed:
                await changed.wait_for(
                    lambda: bool(reports) and reports[-1].sequence >= journaled[-1][0]
                )
        finally:
            reader.cancel()
    _check_once(reports, journaled, placed)
    open_at_venue = [o.txid for o in sim.ctx.spot().open_orders(DEMO_ACCOUNT_ID)]
    resting = [o.venue_order_id for o in placed[0::2]]
    assert all(open_at_venue.count(txid) == 1 for txid in resting)
