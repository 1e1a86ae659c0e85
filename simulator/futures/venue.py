"""Per-simulator Kraken Futures state shared by the REST and WS front ends.

One `KrakenFuturesVenue` lives in `ctx.extensions["futures"]`: the futures engine, each key's
nonce window and cost budgets, the orders/status window, and the API-key checks both front
ends apply.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from decimal import Decimal

from simulator.accounts import KrakenAccount, KrakenApiKey
from simulator.context import SimContext
from simulator.engine.events import EngineEvent, ReferencePriceEvent
from simulator.engine.futures_engine import KrakenFuturesEngine, KrakenFuturesRequestError
from simulator.futures.auth import (
    KrakenFuturesNonceError,
    KrakenFuturesNonceWindow,
    compute_ws_signed_challenge,
    decode_secret,
    verify_authent,
)
from simulator.futures.limits import KrakenFuturesBudget, derivatives_budget, history_budget

EXTENSION_KEY = "futures"
# The futures index of a base follows the spot simulator's reference price of this pair, so
# spot and perpetuals quote one market (basis strategies see a coherent world).
SPOT_INDEX_PAIRS = {"XBT": "XXBTZUSD", "ETH": "XETHZUSD"}
AUTH_ERROR = "authenticationError"
# Kraken answers orders/status only for orders open or closed in the last 5 seconds.
ORDER_STATUS_WINDOW_S = 5.0


class KrakenFuturesVenue:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        if ctx.futures_engine is None:
            ctx.futures_engine = KrakenFuturesEngine(ctx.clock, seed=ctx.seed)
        self.engine = ctx.futures_engine
        # Market steps and the dead man's switch run on the context's clock-driven tick.
        ctx.tick_hooks.append(self.engine.tick)
        self._follow_spot_index()
        self.budget: KrakenFuturesBudget = derivatives_budget()
        self.history_budget: KrakenFuturesBudget = history_budget()
        self._nonces: dict[str, KrakenFuturesNonceWindow] = {}
        self.leverage: dict[tuple[str, str], Decimal] = {}
        # Tests shrink it through `POST /_sim/futures/settings` so they need not wait 5 s.
        self.order_status_window_s = ORDER_STATUS_WINDOW_S
        for account in ctx.accounts.accounts():
            self._open(account)

    def _follow_spot_index(self) -> None:
        spot = self.ctx.engine
        if spot is None:
            return
        links = {pair: base for base, pair in SPOT_INDEX_PAIRS.items() if pair in spot.reference}
        for pair, base in sorted(links.items()):
            self.engine.follow_index(base, spot.reference[pair])

        def on_spot_event(event: EngineEvent) -> None:
            if isinstance(event, ReferencePriceEvent) and event.pair in links:
                self.engine.set_index(links[event.pair], event.price)

        spot.subscribe(on_spot_event)

    def _open(self, account: KrakenAccount) -> None:
        """Idempotent: accounts created at run time get their wallets on first use."""
        self.engine.open_account(account.account_id, account.futures_balances)

    def now(self) -> float:
        return self.ctx.now()

    def futures_key(self, api_key: str) -> KrakenApiKey:
        key = self.ctx.accounts.key(api_key)
        if key is None or key.venue != "futures":
            raise KrakenFuturesRequestError(AUTH_ERROR)
        self._open(self.ctx.accounts.account_of(key))
        return key

    def authenticate(
        self,
        headers: Mapping[str, str],
        query: str,
        body: str,
        path: str,
    ) -> KrakenApiKey:
        """Check APIKey/Authent/Nonce of a private REST call (wire 8.2) or raise the wire error."""
        api_key = headers.get("APIKey", "")
        authent = headers.get("Authent", "")
        nonce = headers.get("Nonce", "")
        if not api_key or not authent:
            raise KrakenFuturesRequestError(AUTH_ERROR)
        key = self.futures_key(api_key)
        try:
            secret = decode_secret(key.secret)
        except ValueError:
            raise KrakenFuturesRequestError(AUTH_ERROR) from None
        if not verify_authent(secret, authent, query, body, nonce, path):
            raise KrakenFuturesRequestError(AUTH_ERROR)
        if nonce:
            try:
                self._nonces.setdefault(key.key, KrakenFuturesNonceWindow()).accept(nonce)
            except KrakenFuturesNonceError as exc:
                raise KrakenFuturesRequestError(exc.code) from None
        return key

    def verify_challenge(self, api_key: str, challenge: str, signed: str) -> KrakenApiKey | None:
        """The key when `signed` is the WS v1 signature of `challenge` under its secret."""
        try:
            key = self.futures_key(api_key)
            expected = compute_ws_signed_challenge(decode_secret(key.secret), challenge)
        except (KrakenFuturesRequestError, ValueError):
            return None
        return key if hmac.compare_digest(expected, signed) else None

    def account(self, key: KrakenApiKey) -> KrakenAccount:
        return self.ctx.accounts.account_of(key)


def futures_venue(ctx: SimContext) -> KrakenFuturesVenue:
    venue = ctx.extensions.get(EXTENSION_KEY)
    if not isinstance(venue, KrakenFuturesVenue):
        venue = KrakenFuturesVenue(ctx)
        ctx.extensions[EXTENSION_KEY] = venue
    return venue
