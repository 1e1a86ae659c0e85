"""The operator console in headless Chromium (Debian's, driven by Playwright) against a live
gateway on the simulator: a new order shows up pushed by the gateway, a fill updates it, and
the kill switch and session logout work only with the admin token."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from krakengw import AsyncClient, KrakenGwError
from tests.integration.observability.conftest import LiveGateway, live_gateway  # noqa: F401
from tests.secret_scan import find_leaks, known_secrets, record_served

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PUSHED_MS = 1_000  # the spec: a new order is on the page within a second
WAIT_MS = 15_000


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    with tempfile.TemporaryDirectory(prefix="krakengw-chromium-") as profile:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                ignore_default_args=["--enable-automation"],
            )
            try:
                yield context.pages[0] if context.pages else await context.new_page()
            finally:
                await context.close()


async def test_console_live_orders_and_admin_actions(
    live_gateway: LiveGateway,  # noqa: F811
    page: Page,
    tmp_path: Path,
) -> None:
    gw = live_gateway
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(gw.console_url + "/")
    await expect(page.get_by_test_id("live")).to_have_text("live", timeout=WAIT_MS)

    async with AsyncClient(gw.target, gw.token) as client:
        await client.logon(cancel_on_disconnect=True)
        await expect(page.locator('tr[data-session="demo"]')).to_be_visible(timeout=WAIT_MS)
        ticker = await client.get_ticker("BTC/USD")
        assert ticker.bid is not None and ticker.ask is not None
        low = (ticker.bid * Decimal("0.8")).quantize(Decimal(1))
        order = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=low)
        row = page.locator(f'tr[data-order="{order.client_order_id}"]')
        await expect(row.locator(".status")).to_have_text("NEW", timeout=PUSHED_MS)

        # Amended through the market, it fills: the open order goes, the reports show the fill.
        await client.amend_order(
            order.client_order_id, price=(ticker.ask * Decimal("1.05")).quantize(Decimal(1))
        )
        filled = page.locator(
            f'tr[data-report-order="{order.client_order_id}"][data-report-status="FILLED"]'
        )
        await expect(filled.first).to_be_visible(timeout=WAIT_MS)
        await expect(row).to_have_count(0, timeout=WAIT_MS)
        await expect(page.locator("[data-budget]").first).to_be_visible(timeout=WAIT_MS)
        await expect(page.get_by_test_id("latency-last")).to_be_visible(timeout=WAIT_MS)
        await expect(page.get_by_test_id("dead-man").first).to_contain_text(
            "armed", timeout=WAIT_MS
        )

        # Without the admin token: the buttons are disabled and the API refuses.
        kill = page.locator('button[data-kill="demo"]')
        await expect(kill).to_be_disabled()
        async with httpx.AsyncClient() as http:
            refused = await http.post(
                f"{gw.console_url}/api/accounts/demo/kill-switch",
                json={"active": True},
                headers={"Authorization": "Bearer not-the-admin-token-at-all"},
            )
            anonymous = await http.post(
                f"{gw.console_url}/api/accounts/demo/kill-switch", json={"active": True}
            )
        assert (refused.status_code, anonymous.status_code) == (401, 401)
        await page.get_by_test_id("admin-token").fill("wrong-token-0123456789")
        await page.get_by_test_id("admin-unlock").click()
        await expect(page.get_by_test_id("admin-error")).to_be_visible(timeout=WAIT_MS)
        await expect(kill).to_be_disabled()
        await expect(page.locator('[data-kill-state="demo"]')).to_have_text("off")
        resting = await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=low)

        # With it: engage (cancels the open order, refuses new ones), release.
        await page.get_by_test_id("admin-token").fill(gw.admin_token)
        await page.get_by_test_id("admin-unlock").click()
        await expect(page.get_by_test_id("admin-on")).to_be_visible(timeout=WAIT_MS)
        await expect(kill).to_be_enabled()
        await kill.click()
        await expect(page.locator('[data-kill-state="demo"]')).to_have_text(
            "ENGAGED", timeout=WAIT_MS
        )
        canceled = page.locator(
            f'tr[data-report-order="{resting.client_order_id}"][data-report-status="CANCELED"]'
        )
        await expect(canceled.first).to_be_visible(timeout=WAIT_MS)
        with pytest.raises(KrakenGwError) as refused_order:
            await client.submit_order("BTC/USD", "buy", Decimal("0.01"), price=low)
        assert refused_order.value.reason == "KILL_SWITCH_ACTIVE"
        await kill.click()
        await expect(page.locator('[data-kill-state="demo"]')).to_have_text("off", timeout=WAIT_MS)

        await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        html = await page.content()
        # Log the session out from the page.
        await page.locator('button[data-logout="demo"]').click()
        await expect(page.locator('tr[data-session="demo"]')).to_have_count(0, timeout=WAIT_MS)
        with pytest.raises(KrakenGwError) as gone:
            await client.heartbeat()
        assert gone.value.reason in ("NOT_LOGGED_ON", "SESSION_NOT_FOUND")

    async with httpx.AsyncClient() as http:
        state = (await http.get(f"{gw.console_url}/api/state")).text
    assert errors == []
    for text in (html, state, refused.text, anonymous.text):
        record_served(text)
    assert find_leaks([html, state], [*known_secrets(), gw.token, gw.admin_token]) == []
    assert gw.admin_token not in html
