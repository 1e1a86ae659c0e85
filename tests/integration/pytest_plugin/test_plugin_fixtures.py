"""The krakengw pytest plugin's fixtures, used exactly as a strategy's own tests would use them:
synchronous tests, the blocking client, the simulator and gateway on background threads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from krakengw import Client, ExecType, KrakenGwError, OrdStatus
from krakengw_testing import LocalGateway, LocalSimulator

WAIT_S = 20.0


def _fill_of(client: Client, client_order_id: str) -> Decimal:
    """Reads the execution stream until the order's fill; returns its cumulative quantity."""
    for report in client.stream_executions(from_sequence=0):
        if report.client_order_id == client_order_id and report.exec_type is ExecType.FILL:
            return report.cum_qty
    raise AssertionError("stream ended before the fill")


def test_client_places_and_fills_an_order(krakengw_client: Client) -> None:
    order = krakengw_client.submit_order("BTC/USD", "buy", Decimal("0.01"))
    assert _fill_of(krakengw_client, order.client_order_id) == Decimal("0.01")
    assert krakengw_client.get_order(order.client_order_id).ord_status is OrdStatus.FILLED


def test_gateway_handle_gives_address_and_token(
    krakengw_gateway: LocalGateway, kraken_simulator: LocalSimulator
) -> None:
    assert krakengw_gateway.target.startswith("127.0.0.1:")
    assert krakengw_gateway.tokens == {krakengw_gateway.session_id: krakengw_gateway.token}
    assert krakengw_gateway.token not in repr(krakengw_gateway)
    assert krakengw_gateway.data_dir.is_dir()
    assert kraken_simulator.urls()["spot_rest"] == kraken_simulator.base_url
    with (
        Client(krakengw_gateway.target, "not-the-token") as stranger,
        pytest.raises(KrakenGwError) as refused,
    ):
        stranger.logon()
    assert refused.value.code.name == "UNAUTHENTICATED"


@pytest.mark.kraken_simulator(market_maker=False, manual_clock=True, clock_start=1_800_000_000)
def test_marker_sets_manual_clock_and_empty_book(
    kraken_simulator: LocalSimulator, krakengw_client: Client
) -> None:
    assert kraken_simulator.clock is not None
    assert kraken_simulator.advance(5) == Decimal(1_800_000_005)
    ticker = krakengw_client.get_ticker("BTC/USD")
    assert not ticker.bid_qty and not ticker.ask_qty  # no market maker: nobody quotes


def test_fault_plan_handle_reaches_the_venue(
    kraken_simulator: LocalSimulator, krakengw_client: Client
) -> None:
    kraken_simulator.faults.set({"system_status": "maintenance", "rules": []})
    assert kraken_simulator.faults.get()["system_status"] == "maintenance"
    order = krakengw_client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=Decimal("100"))
    assert order.ord_status is OrdStatus.REJECTED
    assert order.reject is not None
    assert order.reject.reason in {"VENUE_MAINTENANCE", "VENUE_UNAVAILABLE"}
    kraken_simulator.faults.clear()
    assert kraken_simulator.faults.get()["system_status"] == "online"


def test_advance_needs_a_manual_clock(kraken_simulator: LocalSimulator) -> None:
    with pytest.raises(RuntimeError, match="manual_clock"):
        kraken_simulator.advance(1)


def test_client_trades_futures_on_the_same_stream(krakengw_client: Client) -> None:
    order = krakengw_client.submit_order(
        "BTC/USD:USD", "buy", Decimal("0.01"), order_type="MARKET", venue="krakenfutures"
    )
    assert _fill_of(krakengw_client, order.client_order_id) == Decimal("0.01")
    (position,) = krakengw_client.list_positions("BTC/USD:USD", venue="krakenfutures")
    assert position.qty == Decimal("0.01")


@pytest.mark.kraken_simulator(accounts=["alice", "bob"])
def test_named_accounts_have_futures_keys(
    kraken_simulator: LocalSimulator, krakengw_client: Client
) -> None:
    order = krakengw_client.submit_order(
        "BTC/USD:USD", "sell", Decimal("0.02"), order_type="MARKET", venue="krakenfutures"
    )
    assert _fill_of(krakengw_client, order.client_order_id) == Decimal("0.02")
    wallets = {b.wallet for b in krakengw_client.list_balances()}
    assert "spot" in wallets and "futures:flex" in wallets

    def alices_position() -> object:
        from simulator.futures.venue import futures_venue

        engine = futures_venue(kraken_simulator.server.ctx).engine
        return [p.size for p in engine.positions("AA000000000000")]

    assert kraken_simulator.call(alices_position) == [Decimal("-0.02")]  # signed with alice's key
