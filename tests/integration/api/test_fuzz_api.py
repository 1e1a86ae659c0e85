"""Thousands of random requests against a real server: never INTERNAL/UNKNOWN, never a crash.

The server runs on its own event loop in a background thread (hypothesis drives synchronous
test bodies); the requests go over a real socket with the blocking gRPC client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krakengw.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    common_pb2,
    executions_pb2,
    executions_pb2_grpc,
    instruments_pb2,
    instruments_pb2_grpc,
    market_data_pb2,
    market_data_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
)
from tests.integration.api.conftest import RunningGateway, start_gateway
from tests.integration.api.helpers import bearer

BAD_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


class ServerThread:
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway: RunningGateway = self.run(start_gateway(tmp))
        self.metadata: tuple[tuple[str, str], ...] = ()

    def run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def stop(self) -> None:
        self.run(self.gateway.app.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = ServerThread(tmp_path_factory.mktemp("fuzz"))
    metadata = bearer(running.gateway.tokens["a"])
    with grpc.insecure_channel(running.gateway.target) as channel:
        logon = sessions_pb2_grpc.SessionServiceStub(channel).Logon(
            sessions_pb2.LogonRequest(), metadata=metadata
        )
    running.metadata = (*metadata, ("krakengw-logon-id", logon.logon_id))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.gateway.target) as chan:
        yield chan


# -- strategies -----------------------------------------------------------------------------

decimal_text = st.one_of(
    st.sampled_from(["", "0", "-1", "0.1", "1e5", "NaN", "inf", "1.", ".5", "00.10", "-0"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=60),
)
some_text = st.one_of(st.text(max_size=80), st.text(min_size=200, max_size=400))
symbols = st.one_of(st.sampled_from(["BTC/USD", "ETH/USD", "ETH/BTC", "X/Y", ""]), st.text())
venues = st.sampled_from(["", "kraken", "krakenfutures", "nope"])
enum_value = st.integers(min_value=-3, max_value=20)
timestamps = st.builds(
    timestamp_pb2.Timestamp,
    seconds=st.integers(min_value=-(2**40), max_value=2**40),
    nanos=st.integers(min_value=-(2**31), max_value=2**31 - 1),
)
instruments = st.builds(common_pb2.InstrumentId, venue=venues, symbol=symbols)
client_ids = st.one_of(st.text(max_size=70), st.uuids().map(str), st.just("fuzz-1"))

specs = st.builds(
    orders_pb2.OrderSpec,
    client_order_id=client_ids,
    instrument=instruments,
    side=enum_value,
    order_type=enum_value,
    time_in_force=enum_value,
    order_qty=decimal_text,
    cash_order_qty=st.one_of(st.just(""), decimal_text),
    price=decimal_text,
    stop_price=st.one_of(st.just(""), decimal_text),
    trigger_reference=enum_value,
    trailing_offset=st.one_of(st.just(""), decimal_text),
    trailing_offset_unit=enum_value,
    display_qty=st.one_of(st.just(""), decimal_text),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
    leverage=st.one_of(st.just(""), decimal_text),
    self_trade_prevention=enum_value,
    fee_currency=st.one_of(st.just(0), enum_value),
    expire_time=st.one_of(st.none(), timestamps),
    deadline=st.one_of(st.none(), timestamps),
    validate_only=st.booleans(),
    text=some_text,
)


def _call(name: str) -> st.SearchStrategy[tuple[str, str, Any]]:
    return st.just(name).flatmap(lambda n: _REQUESTS[n].map(lambda r: (SERVICES[n], n, r)))


SERVICES = {
    "SubmitOrder": "orders",
    "SubmitOrderBatch": "orders",
    "AmendOrder": "orders",
    "ReplaceOrder": "orders",
    "CancelOrder": "orders",
    "CancelOrderBatch": "orders",
    "CancelAllOrders": "orders",
    "GetOrder": "orders",
    "ListOpenOrders": "orders",
    "ListOrders": "orders",
    "ListFills": "executions",
    "ListBalances": "accounts",
    "TransferFunds": "accounts",
    "ListInstruments": "instruments",
    "GetTicker": "market",
    "Logon": "sessions",
    "Heartbeat": "sessions",
}
_REQUESTS: dict[str, st.SearchStrategy[Any]] = {
    "SubmitOrder": st.builds(orders_pb2.SubmitOrderRequest, order=specs),
    "SubmitOrderBatch": st.builds(
        orders_pb2.SubmitOrderBatchRequest, orders=st.lists(specs, max_size=4)
    ),
    "AmendOrder": st.builds(
        orders_pb2.AmendOrderRequest,
        client_order_id=client_ids,
        venue_order_id=st.text(max_size=20),
        order_qty=decimal_text,
        price=decimal_text,
        deadline=st.one_of(st.none(), timestamps),
    ),
    "ReplaceOrder": st.builds(
        orders_pb2.ReplaceOrderRequest, orig_client_order_id=client_ids, order=specs
    ),
    "CancelOrder": st.builds(
        orders_pb2.CancelOrderRequest, client_order_id=client_ids, venue_order_id=st.text()
    ),
    "CancelOrderBatch": st.builds(
        orders_pb2.CancelOrderBatchRequest,
        orders=st.lists(
            st.builds(orders_pb2.CancelOrderRequest, client_order_id=client_ids), max_size=3
        ),
    ),
    "CancelAllOrders": st.builds(orders_pb2.CancelAllOrdersRequest, instrument=instruments),
    "GetOrder": st.builds(
        orders_pb2.GetOrderRequest, client_order_id=client_ids, venue_order_id=st.text()
    ),
    "ListOpenOrders": st.builds(
        orders_pb2.ListOpenOrdersRequest,
        instrument=instruments,
        page_size=st.integers(min_value=-5, max_value=5000),
        page_token=st.text(max_size=30),
    ),
    "ListOrders": st.builds(
        orders_pb2.ListOrdersRequest,
        start_time=st.one_of(st.none(), timestamps),
        ord_statuses=st.lists(enum_value, max_size=3),
        page_size=st.integers(min_value=-5, max_value=5000),
        page_token=st.text(max_size=30),
    ),
    "ListFills": st.builds(
        executions_pb2.ListFillsRequest,
        client_order_id=client_ids,
        end_time=st.one_of(st.none(), timestamps),
        page_token=st.text(max_size=30),
    ),
    "ListBalances": st.builds(
        accounts_pb2.ListBalancesRequest, wallet=some_text, page_token=st.text(max_size=30)
    ),
    "TransferFunds": st.builds(
        accounts_pb2.TransferFundsRequest,
        asset=some_text,
        amount=decimal_text,
        from_account=st.text(max_size=10),
        to_account=st.text(max_size=10),
    ),
    "ListInstruments": st.builds(
        instruments_pb2.ListInstrumentsRequest,
        venue=venues,
        product_type=enum_value,
        page_token=st.text(max_size=30),
    ),
    "GetTicker": st.builds(market_data_pb2.GetTickerRequest, instrument=instruments),
    "Logon": st.builds(
        sessions_pb2.LogonRequest,
        heartbeat_interval=st.builds(
            duration_pb2.Duration,
            seconds=st.integers(min_value=-(2**40), max_value=2**40),
            nanos=st.integers(min_value=-(10**9), max_value=10**9),
        ),
        cancel_on_disconnect=st.booleans(),
        client_name=some_text,
    ),
    "Heartbeat": st.builds(sessions_pb2.HeartbeatRequest, test_request_id=some_text),
}
requests = st.sampled_from(sorted(SERVICES)).flatmap(_call)


@settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=requests)
def test_random_requests_never_fail_internally(
    server: ServerThread, channel: grpc.Channel, call: tuple[str, str, Any]
) -> None:
    service, method, request = call
    stub = {
        "orders": orders_pb2_grpc.OrderServiceStub,
        "executions": executions_pb2_grpc.ExecutionServiceStub,
        "accounts": accounts_pb2_grpc.AccountServiceStub,
        "instruments": instruments_pb2_grpc.InstrumentServiceStub,
        "market": market_data_pb2_grpc.MarketDataServiceStub,
        "sessions": sessions_pb2_grpc.SessionServiceStub,
    }[service](channel)
    try:
        getattr(stub, method)(request, metadata=server.metadata, timeout=10)
    except grpc.RpcError as error:
        assert error.code() not in BAD_CODES, (method, error.code(), error.details())
