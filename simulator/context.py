"""The shared state every front end of one simulator receives: clock, accounts, limits, faults.

Front ends plug into the aiohttp application with `register(app: web.Application, ctx: SimContext)`
and find everything they need here; they must not keep their own copies of accounts or limits.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.accounts import KrakenAccount, KrakenAccounts, KrakenApiKey, demo_accounts
from simulator.engine.clock import Clock, SystemClock
from simulator.engine.errors import KrakenError
from simulator.engine.futures_engine import KrakenFuturesEngine
from simulator.engine.pairs import PairDirectory
from simulator.engine.spot import SpotEngine
from simulator.faults import FaultPlan
from simulator.spot.auth import SpotAuthenticator
from simulator.spot.limits import KrakenLimits, LimitsConfig

# WebSocket paths on the single simulator port (documented in simulator/README.md).
SPOT_WS_PUBLIC_PATH = "/ws/v2"
SPOT_WS_PRIVATE_PATH = "/ws-auth/v2"
FUTURES_WS_PATH = "/ws/v1"

WS_TOKEN_TTL_S = 900.0


@dataclass
class _WsToken:
    key: KrakenApiKey
    issued_at: float
    in_use: bool = False
    sender: str = ""  # the lease its GetWebSocketsToken request named (KrakenGW-Lease)


class WsTokenRegistry:
    """GetWebSocketsToken tokens: usable within 15 minutes of issue, then valid while in use."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._tokens: dict[str, _WsToken] = {}

    def issue(self, key: KrakenApiKey, now: float, sender: str = "") -> str:
        # Seeded, so two simulators with one seed hand out the same tokens (byte-identical runs).
        raw = self._rng.getrandbits(256).to_bytes(32, "big")
        token = base64.b64encode(raw).decode().rstrip("=")
        self._prune(now)
        self._tokens[token] = _WsToken(key, now, sender=sender)
        return token

    def sender(self, token: str) -> str:
        """The lease the token was requested under ("" if unknown)."""
        entry = self._tokens.get(token)
        return entry.sender if entry is not None else ""

    def resolve(self, token: str, now: float) -> KrakenApiKey | None:
        """The key behind a still-valid token; a successful resolve marks it in use."""
        entry = self._tokens.get(token)
        if entry is None:
            return None
        if not entry.in_use and now - entry.issued_at > WS_TOKEN_TTL_S:
            del self._tokens[token]
            return None
        entry.in_use = True
        return entry.key

    def _prune(self, now: float) -> None:
        """Forget tokens that expired unused, so a long run does not accumulate them."""
        cutoff = now - WS_TOKEN_TTL_S
        stale = [t for t, e in self._tokens.items() if not e.in_use and e.issued_at < cutoff]
        for token in stale:
            del self._tokens[token]

    def release(self, token: str) -> None:
        """The last private subscription using the token ended: it may expire again."""
        entry = self._tokens.get(token)
        if entry is not None:
            entry.in_use = False


@dataclass
class SimContext:
    """One simulator's state. `engine` and `market` are the engine engineer's objects."""

    accounts: KrakenAccounts = field(default_factory=demo_accounts)
    seed: int = 0
    clock: Clock = field(default_factory=SystemClock)
    limits: KrakenLimits = field(default_factory=KrakenLimits)
    faults: FaultPlan = field(default_factory=FaultPlan)
    pairs: PairDirectory = field(default_factory=PairDirectory)
    engine: SpotEngine | None = None
    futures_engine: KrakenFuturesEngine | None = None
    market: Any = None  # the PairDirectory the engine uses (WS front end reads .pairs/.assets)
    rng: random.Random = field(init=False)
    ws_tokens: WsTokenRegistry = field(init=False)
    spot_auth: SpotAuthenticator = field(init=False)
    # Front ends may stash their own per-run objects here under their module name.
    extensions: dict[str, Any] = field(default_factory=dict)
    # Called by `tick()` after the spot engine's timers (e.g. a futures market driver).
    tick_hooks: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"krakengw-sim-front:{self.seed}")
        self.ws_tokens = WsTokenRegistry(self.rng)
        self.spot_auth = SpotAuthenticator(self.accounts, self.limits.lockout)

    def now(self) -> float:
        """Current time as float seconds, for counters and timers (the engine uses Decimal)."""
        return float(self.clock.now())

    def account_of(self, key: KrakenApiKey) -> KrakenAccount:
        return self.accounts.account_of(key)

    def spot(self) -> SpotEngine:
        """The spot engine; every front end call goes through here."""
        if self.engine is None:
            raise KrakenError("EService:Unavailable")
        return self.engine

    def tick(self) -> None:
        """Run every timer due at the clock's current time (expiry, dead man's switch, maker).

        Idempotent for a given clock reading, so calling it before each request and from the
        background driver keeps runs deterministic under a ManualClock.
        """
        if self.engine is not None:
            self.engine.tick()
        for hook in self.tick_hooks:
            hook()


def make_context(
    *,
    accounts: KrakenAccounts | None = None,
    seed: int = 0,
    clock: Clock | None = None,
    limits: LimitsConfig | None = None,
    market_maker: bool = True,
) -> SimContext:
    """A context with both engines built and every account of `accounts` opened in them."""
    the_clock = clock or SystemClock()
    ctx = SimContext(
        accounts=accounts or demo_accounts(),
        seed=seed,
        clock=the_clock,
        limits=KrakenLimits(limits),
    )
    # Front ends subscribe to the engine's events; recording them too would keep every one.
    ctx.engine = SpotEngine(
        seed=seed,
        clock=the_clock,
        directory=ctx.pairs,
        market_maker=market_maker,
        record_events=False,
    )
    ctx.futures_engine = KrakenFuturesEngine(the_clock, seed)
    ctx.market = ctx.pairs
    for account in ctx.accounts.accounts():  # masters come before their subaccounts
        ctx.engine.create_account(
            account.account_id,
            account.balances,
            master_id=account.master_id,
            username=account.name,
        )
        ctx.futures_engine.open_account(account.account_id, account.futures_balances)
    return ctx
