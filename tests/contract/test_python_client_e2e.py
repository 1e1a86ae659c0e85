"""The Python client against the real gateway process: the contract round-trips, and the
execution stream survives a kill -9 and restart with every report exactly once."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from krakengw import (
    AsyncClient,
    Client,
    ExecType,
    ExecutionReport,
    KrakenGwError,
    OrdStatus,
    ReconnectPolicy,
)
from tests.contract.gateway_process import TOKEN, running_gateway

WAIT_S = 30.0
# Far below the market: the order rests, so it can be canceled.
RESTING_PRICE = Decimal(1000)


class Collector:
    """Consumes an execution stream on a thread; the test waits on what it has seen."""

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.reports: list[ExecutionReport] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for report in self.stream:  # type: ignore[attr-defined]
                with self._changed:
                    self.reports.append(report)
                    self._changed.notify_all()
        except BaseException as exc:  # surfaced by wait_for
            self.error = exc
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, done: object) -> None:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.error is not None or done(self.reports),  # type: ignore[operator]
                WAIT_S,
            )
        assert self.error is None, repr(self.error)
        assert ok, f"timed out; saw {[(r.sequence, r.exec_type) for r in self.reports]}"

    def close(self) -> None:
        self.stream.close()  # type: ignore[attr-defined]
        self._thread.join(WAIT_S)


def _has(exec_type: ExecType, client_order_id: str) -> object:
    return lambda reports: any(
        r.exec_type is exec_type and r.client_order_id == client_order_id for r in reports
    )


def test_order_round_trip(tmp_path: Path) -> None:
    with running_gateway(tmp_path) as gateway, Client(gateway.target, TOKEN) as client:
        session = client.logon()
        order = client.submit_order("BTC/USD", "buy", Decimal("0.010"), price=RESTING_PRICE)
        assert order.order_qty == Decimal("0.010")
        assert client.get_order(order.client_order_id).client_order_id == order.client_order_id
        assert order.client_order_id in {o.client_order_id for o in client.list_open_orders()}

        collector = Collector(client.stream_executions(session.last_sequence))
        collector.wait_for(_has(ExecType.NEW, order.client_order_id))
        canceled = client.cancel_order(order.client_order_id)
        assert canceled.ord_status in {OrdStatus.PENDING_CANCEL, OrdStatus.CANCELED}
        collector.wait_for(_has(ExecType.CANCELED, order.client_order_id))
        collector.close()

        sequences = [r.sequence for r in collector.reports]
        assert sequences == list(range(session.last_sequence + 1, sequences[-1] + 1))
        new = next(r for r in collector.reports if r.exec_type is ExecType.NEW)
        assert (new.price, new.leaves_qty, new.cum_qty) == (
            RESTING_PRICE,
            Decimal("0.01"),
            Decimal(0),
        )

        with pytest.raises(KrakenGwError) as caught:
            client.cancel_order("no-such-order")
        assert caught.value.code is grpc.StatusCode.NOT_FOUND
        assert caught.value.reason == "ORDER_NOT_FOUND"


def test_stream_survives_kill_and_restart_exactly_once(tmp_path: Path) -> None:
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.5, max_attempts=200)
    with running_gateway(tmp_path) as gateway:
        client = Client(gateway.target, TOKEN, wait_for_ready=True, reconnect=policy)
        client.logon()
        before = [
            client.submit_order("BTC/USD", "buy", 1, price=RESTING_PRICE).client_order_id
            for _ in range(3)
        ]
        collector = Collector(client.stream_executions())
        collector.wait_for(_has(ExecType.NEW, before[-1]))

        gateway.kill()
        gateway.start()  # same port, same journal
        try:
            client.logon()
        except KrakenGwError as error:  # the resuming stream logged on again first
            assert error.reason == "SESSION_ALREADY_ACTIVE"
        after = [
            client.submit_order("BTC/USD", "sell", 1, price=RESTING_PRICE * 1000).client_order_id
            for _ in range(2)
        ]
        collector.wait_for(_has(ExecType.NEW, after[-1]))
        collector.close()
        client.close()

    seen = collector.reports
    assert [r.sequence for r in seen] == list(range(1, len(seen) + 1))
    assert len({r.exec_id for r in seen}) == len(seen)
    assert {r.client_order_id for r in seen} >= set(before + after)


async def test_async_client_round_trip(tmp_path: Path) -> None:
    with running_gateway(tmp_path) as gateway:
        async with AsyncClient(gateway.target, TOKEN) as client:
            session = await client.logon()
            order = await client.submit_order("BTC/USD", "buy", "0.02", price=RESTING_PRICE)
            stream = client.stream_executions(session.last_sequence)
            async for report in stream:
                assert report.client_order_id == order.client_order_id
                if report.exec_type is ExecType.NEW:
                    break
            await stream.aclose()
            assert stream.last_sequence > session.last_sequence
            instruments = await client.list_instruments()
            assert "BTC/USD" in {i.symbol for i in instruments}

            async with client.order_entry() as entry:
                placed = await entry.submit_order("BTC/USD", "buy", "0.03", price=RESTING_PRICE)
                assert placed.order_qty == Decimal("0.03")
                canceled = await entry.cancel_order(placed.client_order_id)
                assert canceled.ord_status in {OrdStatus.PENDING_CANCEL, OrdStatus.CANCELED}
                with pytest.raises(KrakenGwError) as caught:
                    await entry.cancel_order("no-such-order")
                assert caught.value.code is grpc.StatusCode.NOT_FOUND


def test_sync_order_entry_round_trip(tmp_path: Path) -> None:
    with running_gateway(tmp_path) as gateway, Client(gateway.target, TOKEN) as client:
        client.logon()
        with client.order_entry() as entry:
            placed = entry.submit_order("BTC/USD", "buy", "0.04", price=RESTING_PRICE)
            assert entry.cancel_all_orders() >= 1
        assert client.get_order(placed.client_order_id).ord_status in {
            OrdStatus.PENDING_CANCEL,
            OrdStatus.CANCELED,
        }
