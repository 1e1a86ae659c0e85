"""Build the Kraken Futures venue of one account from config-level inputs.

`build_kraken_futures_venue` loads `instruments` (unified symbols, tick/lot rules, max
leverage), wires the nonce source to the journal (nonces survive restarts; the futures key has
its own key id), points the restart catch-up at the journal's oldest open futures order, and
builds the market data. With `dead_man_switch`, the bundle carries a `KrakenDeadManGuard` that
arms `cancelallordersafter` while the key's trading session is live (same rules as Spot).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from gateway.core.model import Subaccount
from gateway.core.ports import JournalPort
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.dead_man import (
    DEFAULT_REFRESH_S,
    DEFAULT_TIMEOUT_S,
    KrakenDeadManGuard,
    check_timing,
)
from gateway.venues.kraken.common.nonce import KrakenNonceSource
from gateway.venues.kraken.futures.adapter import KrakenFuturesVenue
from gateway.venues.kraken.futures.market_data import KrakenFuturesMarketData
from gateway.venues.kraken.futures.parse_instruments import parse_instruments
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from gateway.venues.kraken.futures.wire_values import VENUE
from gateway.venues.kraken.futures.ws import DEFAULT_STALE_AFTER_S

KRAKEN_FUTURES_REST_URL = "https://futures.kraken.com"
KRAKEN_FUTURES_WS_URL = "wss://futures.kraken.com/ws/v1"


@dataclass
class KrakenFuturesVenueBundle:
    venue: KrakenFuturesVenue
    market_data: KrakenFuturesMarketData
    rest: KrakenFuturesRestClient
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    dead_man: KrakenDeadManGuard | None = None

    async def close(self) -> None:
        for close in self.closers:
            await close()


async def _restart_fills_since(journal: JournalPort, account: str) -> datetime | None:
    open_orders = [
        o for o in await journal.load_orders(account, open_only=True) if o.venue == VENUE
    ]
    return min((o.created_at for o in open_orders), default=None)


async def build_kraken_futures_venue(
    *,
    account: str,
    credentials: KrakenCredentials,
    journal: JournalPort,
    rest_url: str = KRAKEN_FUTURES_REST_URL,
    ws_url: str = KRAKEN_FUTURES_WS_URL,
    governor: KrakenFuturesRateGovernor | None = None,
    dead_man_switch: bool = False,
    dead_man_timeout_s: int = DEFAULT_TIMEOUT_S,
    dead_man_refresh_s: float = DEFAULT_REFRESH_S,
    subaccounts: Sequence[Subaccount] = (),
    http: aiohttp.ClientSession | None = None,
    ws_stale_after_s: float = DEFAULT_STALE_AFTER_S,
    telemetry: Telemetry = NO_TELEMETRY,
    before_send: Callable[[], None] | None = None,
    private_headers: Mapping[str, str] | None = None,
) -> KrakenFuturesVenueBundle:
    """Everything one account needs to trade Kraken Futures; the private WS connects once the
    core attaches the venue (`set_event_sink`). `rest_url` is the host (paths are added).
    `before_send` gates every signed REST request and every frame of the private WS, right
    before it is written; `private_headers` is added to the signed REST requests (see
    gateway.venues.kraken.futures.rest and .ws)."""
    check_timing(dead_man_timeout_s, dead_man_refresh_s)
    governor = governor or KrakenFuturesRateGovernor()
    nonces = KrakenNonceSource(credentials.key_id, journal)
    rest = KrakenFuturesRestClient(
        rest_url,
        credentials,
        nonces,
        governor,
        http=http,
        telemetry=telemetry,
        before_send=before_send,
        private_headers=private_headers,
    )
    try:
        instruments, symbols = parse_instruments(await rest.public("instruments"))
        venue = KrakenFuturesVenue(
            account=account,
            rest=rest,
            ws_url=ws_url,
            journal=journal,
            governor=governor,
            instruments=instruments,
            symbols=symbols,
            fills_since=await _restart_fills_since(journal, account),
            subaccounts=subaccounts,
            ws_stale_after_s=ws_stale_after_s,
            ws_before_send=before_send,
        )
    except BaseException:
        await rest.close()
        raise
    market_data = KrakenFuturesMarketData(ws_url, rest, symbols)
    guard = None
    if dead_man_switch:
        venue.dead_man.configure(timeout_s=dead_man_timeout_s, refresh_s=dead_man_refresh_s)
        guard = KrakenDeadManGuard(venue.dead_man)
    return KrakenFuturesVenueBundle(
        venue=venue,
        market_data=market_data,
        rest=rest,
        closers=[venue.close, market_data.close, rest.close],
        dead_man=guard,
    )
