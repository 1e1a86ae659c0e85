"""A failing journal through the real server: the order whose PENDING_NEW cannot be recorded
answers UNAVAILABLE with reason JOURNAL_FAILURE and never reaches the venue, the account's next
orders are refused the same way, GetLimits says why, and sending resumes once the journal
works again. The SQLite journal fails for real (SQLite's own "database or disk is full")."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest

from gateway.journal import SqliteJournal
from krakengw import KrakenGwError, OrdStatus
from tests.integration.api.conftest import RunningGateway
from tests.support.journal_faults import disk_full

LOW = Decimal("40000")


async def test_journal_failure_stops_sending_and_getlimits_says_why(
    gateway: RunningGateway,
) -> None:
    journal = gateway.app.journal
    assert isinstance(journal, SqliteJournal)
    venue = gateway.venues["acct-a"]
    client = gateway.client("a")
    await client.logon()
    assert (await client.get_limits()).journal_status == ""
    await journal.flush()
    disk_full(journal, True)
    try:
        refused: KrakenGwError | None = None
        for i in range(200):  # each order fills the last page a little more
            try:
                await client.submit_order(
                    "BTC/USD", "buy", Decimal("0.01"), price=LOW - i, client_order_id=f"f{i}"
                )
            except KrakenGwError as error:
                refused = error
                break
        assert refused is not None, "the capped journal never filled up"
        assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "JOURNAL_FAILURE")
        assert f"f{i}" not in venue.submitted  # its record failed: never sent
        assert "disk is full" in (await client.get_limits()).journal_status
        sent = venue.calls["submit"]
        with pytest.raises(KrakenGwError) as again:
            await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=LOW - 500)
        assert again.value.reason == "JOURNAL_FAILURE"
        assert venue.calls["submit"] == sent
    finally:
        disk_full(journal, False)
    back = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=LOW - 600)
    assert back.ord_status is OrdStatus.NEW
    assert (await client.get_limits()).journal_status == ""
