"""/metrics during a run on the simulator: venue round trips, rate budgets per key and pair,
rejects by reason, journal commits; and nothing secret in the scrape."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from krakengw import AsyncClient, ExecType
from tests.integration.observability.conftest import LiveGateway
from tests.secret_scan import find_leaks, known_secrets, record_served

TIMEOUT = 30


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


async def test_metrics_see_the_venue(live_gateway: LiveGateway) -> None:
    gw = live_gateway
    async with AsyncClient(gw.target, gw.token) as client:
        await client.logon()
        stream = client.stream_executions(0)
        filled = await client.submit_order("BTC/USD", "buy", Decimal("0.01"))
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.ask is not None
        # A post-only buy above the ask would take: Kraken (the simulator) rejects it.
        rejected = await client.submit_order(
            "BTC/USD", "buy", Decimal("0.01"), price=ticker.ask.quantize(Decimal(1)) + 100,
            post_only=True,
        )  # fmt: skip
        assert rejected.reject is not None
        assert rejected.reject.reason == "POST_ONLY_WOULD_TAKE"
        async with asyncio.timeout(TIMEOUT):
            async for report in stream:
                if report.client_order_id == filled.client_order_id and (
                    report.exec_type is ExecType.FILL
                ):
                    break
        await stream.aclose()
        async with httpx.AsyncClient() as http:
            text = (await http.get(gw.metrics_url, timeout=10)).text
        await client.logout()

    samples = _samples(text)
    buckets = samples["krakengw_venue_request_seconds_bucket"]
    # Both orders went over the WS trading method: one accepted, one refused by the venue.
    add = {
        labels["outcome"]: value
        for labels, value in buckets
        if labels["method"] == "add_order" and labels["le"] == "+Inf"
    }
    assert add == {"ok": 1, "error": 1}
    finite = [
        v for labels, v in buckets if labels["method"] == "add_order" and labels["le"] == "1.0"
    ]
    assert sum(finite) == 2  # non-zero finite buckets: real round trips, under a second here
    rest = [v for labels, v in buckets if labels["method"] == "GetWebSocketsToken"]
    assert rest and max(rest) >= 1

    used = {
        labels["pair"]: (labels, value)
        for labels, value in samples["krakengw_rate_budget_used"]
        if labels["budget"] == "spot_trading"
    }
    assert "BTC/USD" in used
    labels, _ = used["BTC/USD"]
    assert labels["account"] == "demo" and labels["key_id"].startswith("kk_")
    limits = [v for lab, v in samples["krakengw_rate_budget_limit"] if lab.get("pair") == "BTC/USD"]
    assert limits and limits[0] > 0

    rejects = {labels["reason"]: value for labels, value in samples["krakengw_order_rejects_total"]}
    assert rejects.get("POST_ONLY_WOULD_TAKE") == 1
    reports = {
        labels["exec_type"]: value for labels, value in samples["krakengw_execution_reports_total"]
    }
    assert reports["FILL"] >= 1 and reports["NEW"] >= 1
    assert samples["krakengw_journal_commit_seconds_count"][0][1] > 0
    assert [v for _, v in samples["krakengw_venue_connected"]] == [1.0]
    assert samples["krakengw_sessions_active"][0][1] == 1
    assert "process_cpu_seconds_total" in samples

    record_served(text)
    assert find_leaks(text.splitlines(), [*known_secrets(), gw.token, gw.admin_token]) == []
