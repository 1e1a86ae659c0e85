"""Venue outage: the simulator restarts empty while `kraken-gateway serve` trades on it. Every
order the venue forgot ends in a definite state (CANCELED, with the reason), reported once and
not asked about again; fills after the outage are reported; the private WebSocket reconnects a
bounded number of times (printed) instead of storming."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from krakengw import ExecType, ExecutionReport
from tests.e2e.chaos_support import (
    QTY,
    SOAK_SHORT,
    Recorder,
    Taker,
    Venue,
    gateway,
    write_config,
)

RECONNECTS = re.compile(r"Kraken private WebSocket (closed|connect failed)")


def _canceled(reports: list[ExecutionReport], prefix: str) -> list[ExecutionReport]:
    return [
        r
        for r in reports
        if r.exec_type is ExecType.CANCELED and r.client_order_id.startswith(prefix)
    ]


@pytest.mark.slow
async def test_orders_a_restarted_venue_forgot_settle_and_trading_resumes(
    tmp_path: Path,
) -> None:
    count = 30 if SOAK_SHORT else 200
    venue = Venue()
    sim = await venue.start()
    write_config(tmp_path, sim)
    gw = gateway(tmp_path)
    await gw.start()
    recorder = Recorder(gw.target)
    try:
        await recorder.start()
        prices = [Decimal(20000 - i) for i in range(count)]
        await recorder.place("lost", prices)
        await recorder.wait(
            lambda reports: sum(r.exec_type is ExecType.NEW for r in reports) >= count
        )

        await venue.restart_empty()  # the venue forgets every order

        await recorder.wait(lambda reports: len(_canceled(reports, "lost")) >= count)
        # Trading resumes: a new order, filled by the (new) venue, is reported.
        taker = Taker(venue.server)  # type: ignore[arg-type]
        try:
            await recorder.place("after", [Decimal(21000)])
            await recorder.wait(
                lambda reports: any(
                    r.client_order_id == "after-0" and r.exec_type is ExecType.NEW for r in reports
                )
            )
            await taker.sell(QTY, Decimal(21000))
            await recorder.wait(
                lambda reports: any(
                    r.client_order_id == "after-0" and r.exec_type is ExecType.FILL for r in reports
                )
            )
        finally:
            await taker.close()
    finally:
        await recorder.close()
        await gw.terminate()
        await venue.stop()

    canceled = _canceled(recorder.reports, "lost")
    assert len(canceled) == count  # each once
    assert len({r.client_order_id for r in canceled}) == count
    assert all("does not know" in r.text for r in canceled), canceled[0].text
    reconnects = len(RECONNECTS.findall(gw.log_text()))
    print(f"venue outage with {count} open orders: {reconnects} private WS reconnects")
    assert reconnects <= 10
