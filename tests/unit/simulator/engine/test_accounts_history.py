"""Subaccounts, transfers, withdrawals, balances, ledgers and history paging."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import KrakenError, ManualClock, Side, SpotEngine
from tests.unit.simulator.engine.helpers import limit, market

D = Decimal


def test_subaccount_transfers_and_withdrawal_rules(engine: SpotEngine) -> None:
    sub = engine.create_subaccount("A", "strategy-1", "s1@example.com")
    assert sub.master_id == "A"
    with pytest.raises(KrakenError, match="username"):
        engine.create_subaccount("A", "strategy-1", "again@example.com")
    with pytest.raises(KrakenError, match=r"^EGeneral:Permission denied$"):
        engine.create_subaccount(sub.id, "nested", "n@example.com")
    result = engine.account_transfer("A", "XBT", "1.5", "A", sub.id)
    assert result.status == "complete" and result.transfer_id.startswith("T")
    assert engine.balances(sub.id)["XXBT"] == D("1.5")
    assert engine.balances("A")["XXBT"] == D("8.5")
    with pytest.raises(KrakenError, match=r"^EGeneral:Permission denied$"):
        engine.account_transfer(sub.id, "XBT", "1", sub.id, "A")  # only the master's key
    with pytest.raises(KrakenError):
        engine.account_transfer("A", "XBT", "1", "A", "B")  # B is not in A's family
    with pytest.raises(KrakenError, match=r"^EGeneral:Permission denied$"):
        engine.withdraw(sub.id, "XBT", "0.1")
    engine.withdraw("A", "XBT", "0.5")
    assert engine.balances("A")["XXBT"] == D("8.0")
    with pytest.raises(KrakenError, match=r"^EFunding:Invalid amount$"):
        engine.withdraw("A", "XBT", "-1")
    kinds = [e.type for e in engine.ledgers("A", assets=["XBT"]).items]
    assert kinds[:2] == ["withdrawal", "transfer"]


def test_balance_ex_and_trade_balance(engine: SpotEngine) -> None:
    engine.add_order("A", limit(Side.SELL, "2", "100000.0"))
    ex = engine.balance_ex("A")
    assert ex["XXBT"].balance == D("10") and ex["XXBT"].hold_trade == D("2")
    tb = engine.trade_balance("A", "USD")
    # 1,000,000 USD + 10 BTC + 100 ETH + 1,000,000 DOGE + 100,000 USDT at start prices
    expected = D("1000000") + 10 * D("100000") + 100 * D("3500") + D("150000") + D("100000")
    assert tb.eb == expected.quantize(D("0.0001")) and tb.e == tb.eb
    assert tb.uv == D("200000.0000")


def test_trades_and_ledgers_page_newest_first(engine: SpotEngine, clock: ManualClock) -> None:
    for _ in range(60):
        clock.advance(1)
        engine.add_order("A", limit(Side.SELL, "0.01", "100000.0"))
        engine.add_order("B", market(Side.BUY, "0.01"))
    first = engine.trades_history("B")
    assert first.count == 60 and len(first.items) == 50
    assert first.items[0].time > first.items[-1].time
    second = engine.trades_history("B", ofs=50)
    assert len(second.items) == 10
    newest = first.items[0]
    older = engine.trades_history("B", end=newest.time - 1)
    assert older.count == 59
    after = engine.trades_history("B", start=first.items[9].time)
    assert after.count == 9  # start is exclusive
    assert engine.query_trades("B", [newest.txid]) == [newest]
    with pytest.raises(KrakenError):
        engine.query_trades("A", [newest.txid])  # B's fill is not A's
    ledger = engine.ledgers("B", assets=["ZUSD"])
    assert ledger.count == 61  # deposit + one quote entry per trade
    assert ledger.items[0].fee > 0 and ledger.items[0].amount < 0
    assert engine.query_ledgers("B", [ledger.items[0].id]) == [ledger.items[0]]


def test_closed_orders_filters_and_query_orders(engine: SpotEngine, clock: ManualClock) -> None:
    txids = []
    for ref in range(3):
        clock.advance(10)
        txid = engine.add_order("A", limit(Side.BUY, "0.01", "90000.0", userref=ref)).txid
        assert txid is not None
        txids.append(txid)
        engine.cancel_order("A", txid)
    page = engine.closed_orders("A")
    assert [o.txid for o in page.items] == txids[::-1] and page.count == 3
    assert engine.closed_orders("A", userref=1).items[0].txid == txids[1]
    assert engine.closed_orders("A", start=txids[0]).count == 2  # txid bound = its opentm
    assert [o.reason for o in page.items] == ["User requested"] * 3
    assert [o.txid for o in engine.query_orders("A", txids)] == txids
    with pytest.raises(KrakenError, match=r"^EOrder:Invalid order$"):
        engine.query_orders("B", txids[:1])
