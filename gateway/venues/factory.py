"""The VenueFactory of a configured gateway: each account gets the venue its config names.

- `kraken`: the Kraken Spot adapter signing with the account's spot keys, at the `[kraken.spot]`
  URLs (real Kraken unless the config points elsewhere).
- `simulator`: the same adapter, pointed at the local Kraken simulator that the CLI embeds; the
  CLI hands over its URLs and one simulator key per account (`SimulatorLink`). This module
  never imports the simulator.
- `paper`: the in-process paper venue (fixed prices), shared by every paper account.

Both Kraken kinds follow `[kraken] dead_man_switch`: the account's venues then carry a session
guard that arms Kraken's dead man's switch while the key's trading session is live.

The Kraken adapter needs the journal (nonces, client id mapping, restart catch-up), which
`GatewayApp.build` opens itself: pass `journal_factory=venues.open_journal` along with
`venues=venues`, so the factory sees the journal it opened before any account is built.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway.config import AccountConfig, AccountVenue, ConfigError, JournalConfig, KrakenConfig
from gateway.core.ports import AccountVenues, JournalPort, VenuePorts
from gateway.journal.opening import open_journal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.ratelimit import KrakenTier
from gateway.venues.kraken.spot.factory import build_kraken_spot_venue
from gateway.venues.kraken.spot.rest import DEFAULT_TIMEOUT_S
from gateway.venues.paper import PaperMarket, paper_account_venues

__all__ = ["GatewayVenues", "SimulatorLink"]

log = logging.getLogger(__name__)

_TIERS = {
    "starter": KrakenTier.STARTER,
    "intermediate": KrakenTier.INTERMEDIATE,
    "pro": KrakenTier.PRO,
}


@dataclass(frozen=True)
class SimulatorLink:
    """How `simulator` accounts reach the embedded simulator: its URLs, and per account name
    the (api key, base64 secret) of the simulator key it signs with."""

    rest_url: str
    ws_public_url: str
    ws_private_url: str
    keys: Mapping[str, tuple[str, str]] = field(repr=False)
    tier: str = "intermediate"

    def __repr__(self) -> str:
        return f"SimulatorLink(rest_url={self.rest_url!r}, accounts={sorted(self.keys)!r})"


class GatewayVenues:
    """`VenueFactory` + `JournalFactory` for `GatewayApp.build` (see the module docstring)."""

    def __init__(
        self,
        kraken: KrakenConfig,
        simulator: SimulatorLink | None = None,
        journal: JournalConfig | None = None,
    ) -> None:
        self._kraken = kraken
        self._journal_config = journal or JournalConfig()
        self._simulator = simulator
        self._journal: JournalPort | None = None
        self._paper: PaperMarket | None = None
        # Per account: a hook every signed REST request must pass (a fleet's lease fence).
        self._request_hooks: dict[str, Callable[[httpx.Request], Awaitable[None]]] = {}

    def guard_requests(
        self, account: str, hook: Callable[[httpx.Request], Awaitable[None]]
    ) -> None:
        """Venues built for `account` from now on run `hook` before each HTTP request."""
        self._request_hooks[account] = hook

    async def open_journal(self, data_dir: Path) -> JournalPort:
        """`JournalFactory` that also hands the journal to the Kraken adapters built later."""
        self._journal = await open_journal(self._journal_config, data_dir)
        return self._journal

    async def __call__(self, account: AccountConfig) -> AccountVenues:
        venue = account.trades_on
        if venue is AccountVenue.PAPER:
            return self._paper_venues(account)
        if venue is AccountVenue.SIMULATOR:
            return await self._simulator_venues(account)
        return await self._kraken_venues(account)

    def _paper_venues(self, account: AccountConfig) -> AccountVenues:
        if self._paper is None:
            self._paper = PaperMarket()
        return paper_account_venues(self._paper, account.name)

    async def _kraken_venues(self, account: AccountConfig) -> AccountVenues:
        where = f"accounts.{account.name}"
        if account.spot_key is None:
            raise ConfigError(
                f"{where} has no spot keys; only the Kraken Spot adapter is wired in so far "
                "(a Futures adapter does not exist yet)"
            )
        if account.futures_key is not None:
            log.warning(
                "futures keys are not used yet (no Kraken Futures adapter)",
                extra={"account": account.name},
            )
        k = self._kraken.spot
        return await self._spot(
            account,
            KrakenCredentials(account.spot_key.key.reveal(), account.spot_key.secret.reveal()),
            rest_url=k.rest_url,
            ws_public_url=k.ws_public_url,
            ws_private_url=k.ws_private_url,
            tier=k.tier,
        )

    async def _simulator_venues(self, account: AccountConfig) -> AccountVenues:
        link = self._simulator
        where = f"accounts.{account.name}"
        if link is None:
            raise ConfigError(f'{where} trades on the "simulator", but none is running')
        if account.name not in link.keys:
            raise ConfigError(f"{where}: the embedded simulator has no key for this account")
        api_key, secret = link.keys[account.name]
        return await self._spot(
            account,
            KrakenCredentials(api_key, secret),
            rest_url=link.rest_url,
            ws_public_url=link.ws_public_url,
            ws_private_url=link.ws_private_url,
            tier=link.tier,
        )

    async def _spot(
        self,
        account: AccountConfig,
        credentials: KrakenCredentials,
        *,
        rest_url: str,
        ws_public_url: str,
        ws_private_url: str,
        tier: str,
    ) -> AccountVenues:
        if self._journal is None:
            raise RuntimeError("GatewayVenues needs journal_factory=venues.open_journal")
        hook = self._request_hooks.get(account.name)
        http = None
        if hook is not None:
            http = httpx.AsyncClient(
                timeout=httpx.Timeout(DEFAULT_TIMEOUT_S),
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30.0),
                event_hooks={"request": [hook]},
            )
        bundle = await build_kraken_spot_venue(
            http=http,
            account=account.name,
            credentials=credentials,
            journal=self._journal,
            rest_url=rest_url,
            ws_public_url=ws_public_url,
            ws_private_url=ws_private_url,
            tier=_TIERS[tier],
            use_ws_trading=self._kraken.spot.ws_trading,
            dead_man_switch=self._kraken.dead_man_switch,
            dead_man_timeout_s=self._kraken.dead_man_timeout_s,
            dead_man_refresh_s=self._kraken.dead_man_refresh_s,
        )
        log.info(
            "kraken spot venue ready",
            extra={"account": account.name, "rest_url": rest_url, "key_id": credentials.key_id},
        )
        spot = VenuePorts(
            order_entry=bundle.venue,
            account=bundle.venue,
            instruments=bundle.venue,
            market_data=bundle.market_data,
            session_guards=[bundle.dead_man] if bundle.dead_man is not None else [],
        )
        closers = [bundle.close] if http is None else [bundle.close, http.aclose]
        return AccountVenues.of(spot, closers=closers)
