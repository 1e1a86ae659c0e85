"""The VenueFactory of a configured gateway: each account gets the venue its config names.

- `kraken`: the Kraken Spot adapter signing with the account's spot keys at the `[kraken.spot]`
  URLs, and the Kraken Futures adapter signing with its futures keys at the `[kraken.futures]`
  URLs (real Kraken unless the config points elsewhere); an account with both keys trades both,
  on one execution stream.
- `simulator`: the same adapters, pointed at the local Kraken simulator that the CLI embeds;
  the CLI hands over its URLs and simulator keys per account (`SimulatorLink`: a spot key, and a
  futures key when it has one). This module never imports the simulator.
- `paper`: the in-process paper venue (fixed prices), shared by every paper account.

A fleet gates an account's signed requests with its lease fence (`guard_requests`): Spot REST
(`gated_http_client`), Spot WS trading frames, Futures REST and Futures private WS frames
(`before_send`) are checked right before they are written, and signed REST requests name the
lease in their headers.

Both Kraken kinds follow `[kraken] dead_man_switch`: the account's venues then carry a session
guard that arms Kraken's dead man's switch while the key's trading session is live.

The Kraken adapters need the journal (nonces, client id mapping, restart catch-up), which
`GatewayApp.build` opens itself: pass `journal_factory=venues.open_journal` along with
`venues=venues`, so the factory sees the journal it opened before any account is built.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import AccountConfig, AccountVenue, ConfigError, JournalConfig, KrakenConfig
from gateway.core.ports import AccountVenues, JournalPort, VenuePorts
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.journal.opening import open_journal
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.ratelimit import KrakenTier
from gateway.venues.kraken.futures.factory import build_kraken_futures_venue
from gateway.venues.kraken.spot.factory import build_kraken_spot_venue
from gateway.venues.kraken.spot.rest import gated_http_client
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
    futures_ws_url: str = ""  # the Futures REST API shares `rest_url`'s host
    futures_keys: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False)

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
        # Per account: a gate every signed request must pass right before it is written, and
        # the headers signed REST requests carry (a fleet's lease fence and lease name).
        self._gates: dict[str, tuple[Callable[[], None], Mapping[str, str]]] = {}
        # Set before the accounts are built to instrument their venue adapters.
        self.telemetry: Telemetry = NO_TELEMETRY
        # PostgreSQL writer stall limit and session name (a fleet sets its lease TTL and
        # holder name; None / "": the defaults).
        self.stall_timeout_s: float | None = None
        self.application_name = ""

    def guard_requests(
        self, account: str, gate: Callable[[], None], headers: Mapping[str, str]
    ) -> None:
        """Venues built for `account` from now on run `gate` right before each signed request
        (REST, and Spot WS trading) is written, raising stops it; signed REST requests carry
        `headers`."""
        self._gates[account] = (gate, dict(headers))

    async def open_journal(self, data_dir: Path) -> JournalPort:
        """`JournalFactory` that also hands the journal to the Kraken adapters built later."""
        self._journal = await open_journal(
            self._journal_config,
            data_dir,
            stall_timeout_s=self.stall_timeout_s,
            application_name=self.application_name,
        )
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
        if account.spot_key is None and account.futures_key is None:
            raise ConfigError(f"accounts.{account.name} has neither spot nor futures keys")
        k = self._kraken
        spot = None
        if account.spot_key is not None:
            spot = KrakenCredentials(
                account.spot_key.key.reveal(), account.spot_key.secret.reveal()
            )
        futures = None
        if account.futures_key is not None:
            futures = KrakenCredentials(
                account.futures_key.key.reveal(), account.futures_key.secret.reveal()
            )
        return await self._both(
            account,
            spot=spot,
            futures=futures,
            rest_url=k.spot.rest_url,
            ws_public_url=k.spot.ws_public_url,
            ws_private_url=k.spot.ws_private_url,
            tier=k.spot.tier,
            futures_rest_url=k.futures.rest_url,
            futures_ws_url=k.futures.ws_url,
        )

    async def _simulator_venues(self, account: AccountConfig) -> AccountVenues:
        link = self._simulator
        where = f"accounts.{account.name}"
        if link is None:
            raise ConfigError(f'{where} trades on the "simulator", but none is running')
        if account.name not in link.keys:
            raise ConfigError(f"{where}: the embedded simulator has no key for this account")
        api_key, secret = link.keys[account.name]
        futures_key = link.futures_keys.get(account.name)
        return await self._both(
            account,
            spot=KrakenCredentials(api_key, secret),
            futures=KrakenCredentials(*futures_key) if futures_key else None,
            rest_url=link.rest_url,
            ws_public_url=link.ws_public_url,
            ws_private_url=link.ws_private_url,
            tier=link.tier,
            futures_rest_url=link.rest_url,
            futures_ws_url=link.futures_ws_url,
        )

    async def _both(
        self,
        account: AccountConfig,
        *,
        spot: KrakenCredentials | None,
        futures: KrakenCredentials | None,
        rest_url: str,
        ws_public_url: str,
        ws_private_url: str,
        tier: str,
        futures_rest_url: str,
        futures_ws_url: str,
    ) -> AccountVenues:
        """The port sets of an account's keys: Spot, Futures or both (one stream)."""
        ports: list[VenuePorts] = []
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            if spot is not None:
                built = await self._spot(
                    account,
                    spot,
                    rest_url=rest_url,
                    ws_public_url=ws_public_url,
                    ws_private_url=ws_private_url,
                    tier=tier,
                )
                ports += built.venues.values()
                closers += built.closers
            if futures is not None:
                built = await self._futures(
                    account, futures, rest_url=futures_rest_url, ws_url=futures_ws_url
                )
                ports += built.venues.values()
                closers += built.closers
        except BaseException:
            for close in closers:
                await close()
            raise
        return AccountVenues.of(*ports, closers=closers)

    async def _futures(
        self, account: AccountConfig, credentials: KrakenCredentials, *, rest_url: str, ws_url: str
    ) -> AccountVenues:
        if self._journal is None:
            raise RuntimeError("GatewayVenues needs journal_factory=venues.open_journal")
        gated = self._gates.get(account.name)
        bundle = await build_kraken_futures_venue(
            account=account.name,
            credentials=credentials,
            journal=self._journal,
            rest_url=rest_url,
            ws_url=ws_url,
            dead_man_switch=self._kraken.dead_man_switch,
            dead_man_timeout_s=self._kraken.dead_man_timeout_s,
            dead_man_refresh_s=self._kraken.dead_man_refresh_s,
            telemetry=self.telemetry,
            before_send=gated[0] if gated else None,
            private_headers=gated[1] if gated else None,
        )
        log.info(
            "kraken futures venue ready",
            extra={"account": account.name, "rest_url": rest_url, "key_id": credentials.key_id},
        )
        futures = VenuePorts(
            order_entry=bundle.venue,
            account=bundle.venue,
            instruments=bundle.venue,
            market_data=bundle.market_data,
            session_guards=[bundle.dead_man] if bundle.dead_man is not None else [],
        )
        return AccountVenues.of(futures, closers=[bundle.close])

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
        gated = self._gates.get(account.name)
        http = gated_http_client(*gated) if gated else None
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
            telemetry=self.telemetry,
            ws_before_send=gated[0] if gated else None,
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
