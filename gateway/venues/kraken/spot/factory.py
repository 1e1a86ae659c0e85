"""Build the Kraken Spot venue of one account from config-level inputs.

`build_kraken_spot_venue` loads AssetPairs (instruments with unified symbols and tick/lot/min
rules, the symbol map, the book precisions), wires the nonce source to the journal (nonces
survive restarts), and points the restart catch-up at the journal's oldest open order, so
fills that happened while the gateway was down are replayed before new orders are accepted.

With `dead_man_switch`, the bundle carries a `KrakenDeadManGuard` for the gateway to tie to the
key's trading session (armed at logon, not at build time); see `dead_man.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx

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
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor, KrakenTier
from gateway.venues.kraken.spot.adapter import KrakenSpotVenue
from gateway.venues.kraken.spot.market_data import KrakenSpotMarketData
from gateway.venues.kraken.spot.parse import VENUE, pair_book_decimals, parse_asset_pairs
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient

KRAKEN_REST_URL = "https://api.kraken.com"
KRAKEN_WS_PUBLIC_URL = "wss://ws.kraken.com/v2"
KRAKEN_WS_PRIVATE_URL = "wss://ws-auth.kraken.com/v2"


@dataclass
class KrakenSpotVenueBundle:
    """The venue (order entry, account, instruments), its market data and how to stop both."""

    venue: KrakenSpotVenue
    market_data: KrakenSpotMarketData
    rest: KrakenSpotRestClient
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    dead_man: KrakenDeadManGuard | None = None  # None: the dead man's switch is not used

    async def close(self) -> None:
        for close in self.closers:
            await close()


async def _restart_fills_since(journal: JournalPort, account: str) -> datetime | None:
    """The oldest open order of the account in the journal: fills after it may be unreported."""
    open_orders = [
        o for o in await journal.load_orders(account, open_only=True) if o.venue == VENUE
    ]
    return min((o.created_at for o in open_orders), default=None)


async def build_kraken_spot_venue(
    *,
    account: str,
    credentials: KrakenCredentials,
    journal: JournalPort,
    rest_url: str = KRAKEN_REST_URL,
    ws_public_url: str = KRAKEN_WS_PUBLIC_URL,
    ws_private_url: str = KRAKEN_WS_PRIVATE_URL,
    governor: KrakenRateGovernor | None = None,
    tier: KrakenTier = KrakenTier.STARTER,
    use_ws_trading: bool = True,
    ack_timeout_s: float = 5.0,
    dead_man_switch: bool = False,
    dead_man_timeout_s: int = DEFAULT_TIMEOUT_S,
    dead_man_refresh_s: float = DEFAULT_REFRESH_S,
    subaccounts: Sequence[Subaccount] = (),
    http: httpx.AsyncClient | None = None,
    telemetry: Telemetry = NO_TELEMETRY,
    ws_before_send: Callable[[], None] | None = None,
) -> KrakenSpotVenueBundle:
    """Everything one account needs to trade Kraken Spot; the private WS connects once the
    core attaches the venue (`set_event_sink`). `ws_before_send` runs right before each
    private WS request is written (it raises to stop it)."""
    check_timing(dead_man_timeout_s, dead_man_refresh_s)
    governor = governor or KrakenRateGovernor(tier)
    governor.telemetry, governor.key_id = telemetry, credentials.key_id
    nonces = KrakenNonceSource(credentials.key_id, journal)
    rest = KrakenSpotRestClient(
        rest_url, credentials, nonces, governor, http=http, telemetry=telemetry
    )
    try:
        pairs = await rest.public("AssetPairs")
        instruments, symbols = parse_asset_pairs(pairs)
        precisions = {
            symbols.unified(pair_id): pair_book_decimals(pair) for pair_id, pair in pairs.items()
        }
        venue = KrakenSpotVenue(
            account=account,
            rest=rest,
            ws_private_url=ws_private_url,
            journal=journal,
            governor=governor,
            instruments=instruments,
            symbols=symbols,
            fills_since=await _restart_fills_since(journal, account),
            use_ws_trading=use_ws_trading,
            ack_timeout_s=ack_timeout_s,
            subaccounts=subaccounts,
            ws_before_send=ws_before_send,
        )
    except BaseException:
        await rest.close()
        raise
    market_data = KrakenSpotMarketData(
        ws_public_url, rest, symbols, lambda s: precisions.get(s, (8, 8))
    )
    guard = None
    if dead_man_switch:
        venue.dead_man.configure(timeout_s=dead_man_timeout_s, refresh_s=dead_man_refresh_s)
        guard = KrakenDeadManGuard(venue.dead_man)
    return KrakenSpotVenueBundle(
        venue=venue,
        market_data=market_data,
        rest=rest,
        closers=[venue.close, market_data.close, rest.close],
        dead_man=guard,
    )
