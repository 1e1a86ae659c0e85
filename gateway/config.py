"""The gateway's TOML configuration, parsed once at start into frozen dataclasses.

Shape (see examples/gateway.toml)::

    [server]            listen, data_dir, heartbeat_interval_s, heartbeat_timeout_s, metrics_listen,
                        shutdown_grace_s, startup_retry_s, tls, key_lock_dir,
                        key_lock_dir (where key lock files live; see gateway/leases/local.py)
    [kraken]            rest_url, ws_public_url, ws_private_url (real Kraken by default), tier,
                        ws_trading, dead_man_switch, dead_man_timeout_s, dead_man_refresh_s
    [accounts.<name>]   venue, subaccount, venue_account_id, permissions,
                        spot = {key_file|key_env, secret_file|secret_env}, futures = {...},
                        [accounts.<name>.risk] limits (max_order_qty, max_notional,
                        price_band_pct, max_open_orders, allow_no_reference_price,
                        reference_max_age_s, reference_wait_s)
    [sessions.<id>]     account, token_sha256 | token_file | token_env, optional permissions
                        (a subset of the account's; default: the account's without drop_copy),
                        optional token_expires (an RFC 3339 date-time with offset)
    [journal]           url (PostgreSQL; left out: SQLite in data_dir), password_file |
                        password_env (never in the url), pool_size
    [fleet]             instance, lease_ttl_s, accounts, max_accounts, advertise_address (see
                        gateway/fleet.py; needs [journal] url)
    [tracing]           exporter (console | otlp; off when absent), endpoint (otlp URL)
    [console]           listen (off when absent), admin_token_sha256 | admin_token_file |
                        admin_token_env (optional: without it the console is read-only)

Secrets (API keys and secrets, bearer tokens) never live in the config itself: they are read from
files (which must not be readable by group or others; $KRAKENGW_ALLOW_GROUP_READABLE_SECRETS=1
admits group-readable ones, for secret volumes mounted that way) or from environment
variables. Sessions may instead give the sha256 of their token: the gateway only ever verifies
tokens, so it does not need to hold the plain token, and the config file can then be shared or
checked in safely.

Where an account trades (`venue`): `kraken` (needs `spot` keys, `futures` keys or both: Kraken
Spot with the first at the `[kraken.spot]` URLs, Kraken Futures with the second at the
`[kraken.futures]` URLs, real Kraken unless overridden), `simulator` (no keys: the local Kraken
simulator that `kraken-gateway serve` embeds, Spot and Futures with its demo keys) or `paper`
(no keys: the in-process paper venue). Left out, it is `kraken` for an account with keys and
`paper` for one without. All accounts of one gateway trade on the same kind (they share the
venue ids `kraken` and `krakenfutures`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from gateway.core.model import Permission

__all__ = [
    "KRAKEN_FUTURES_REST_URL",
    "KRAKEN_FUTURES_WS_URL",
    "KRAKEN_REST_URL",
    "KRAKEN_WS_PRIVATE_URL",
    "KRAKEN_WS_PUBLIC_URL",
    "AccountConfig",
    "AccountVenue",
    "ApiKeyPair",
    "ConfigError",
    "ConsoleConfig",
    "FleetConfig",
    "GatewayConfig",
    "JournalConfig",
    "KrakenConfig",
    "KrakenFuturesConfig",
    "KrakenSpotConfig",
    "Permission",
    "RiskLimitsConfig",
    "Secret",
    "ServerConfig",
    "SessionConfig",
    "TlsConfig",
    "TracingConfig",
    "load_config",
    "parse_config",
]


KRAKEN_REST_URL = "https://api.kraken.com"
KRAKEN_WS_PUBLIC_URL = "wss://ws.kraken.com/v2"
KRAKEN_WS_PRIVATE_URL = "wss://ws-auth.kraken.com/v2"
KRAKEN_FUTURES_REST_URL = "https://futures.kraken.com"
KRAKEN_FUTURES_WS_URL = "wss://futures.kraken.com/ws/v1"
KRAKEN_TIERS = ("starter", "intermediate", "pro")
# Spot settings that `[kraken]` held before `[kraken.spot]` existed; still read from there.
_FLAT_SPOT_KEYS = ("rest_url", "ws_public_url", "ws_private_url", "tier", "ws_trading")


class AccountVenue(StrEnum):
    """Where an account profile trades."""

    KRAKEN = "kraken"  # Kraken itself (or whatever the [kraken] URLs point at), with its keys
    SIMULATOR = "simulator"  # the local Kraken simulator embedded by the CLI, with its demo keys
    PAPER = "paper"  # the in-process paper venue (fixed prices; tests and quick trials)


class ConfigError(ValueError):
    """The configuration is unusable; the message says which entry and why (never a secret)."""


class Secret:
    """A secret string that never prints itself: repr/str/format all redact."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        # Pickling would be a way to leak the value into logs or caches.
        raise TypeError("Secret cannot be pickled")


@dataclass(frozen=True)
class ApiKeyPair:
    """One venue API key. Both halves are Secrets; `fingerprint` names the key in logs/leases."""

    key: Secret
    secret: Secret

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.key.reveal().encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"ApiKeyPair(fingerprint={self.fingerprint!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class RiskLimitsConfig:
    """Per-account pre-trade limits; None means unlimited. The band and the notional of orders
    without a price of their own are measured against the venue's market reference price
    (ticker); `reference_max_age_s` is how old it may be, `reference_wait_s` how long the first
    order of a symbol waits for it, and `allow_no_reference_price` lets orders through (those
    checks skipped) when there is none instead of refusing them RISK_NO_REFERENCE_PRICE."""

    max_order_qty: Decimal | None = None
    max_notional: Decimal | None = None
    price_band_pct: Decimal | None = None
    max_open_orders: int | None = None
    allow_no_reference_price: bool = False
    reference_max_age_s: float = 10.0
    reference_wait_s: float = 2.0


@dataclass(frozen=True)
class AccountConfig:
    name: str
    subaccount: str | None
    permissions: frozenset[Permission]
    spot_key: ApiKeyPair | None = field(default=None, repr=False)
    futures_key: ApiKeyPair | None = field(default=None, repr=False)
    risk: RiskLimitsConfig = RiskLimitsConfig()
    # None: `kraken` when the account has venue keys, `paper` when it has none.
    venue: AccountVenue | None = None
    # The venue's own id of this account (Kraken: the IIBAN AccountTransfer takes), so
    # TransferFunds can name profiles; ListSubaccounts shows it.
    venue_account_id: str | None = None

    @property
    def trades_on(self) -> AccountVenue:
        if self.venue is not None:
            return self.venue
        has_keys = self.spot_key is not None or self.futures_key is not None
        return AccountVenue.KRAKEN if has_keys else AccountVenue.PAPER

    @property
    def lease_key(self) -> str:
        """What a logon leases: the venue key(s) if any, else the account itself (paper venue)."""
        parts = [k.fingerprint for k in (self.spot_key, self.futures_key) if k is not None]
        return "key:" + "+".join(parts) if parts else f"account:{self.name}"

    @property
    def key_fingerprints(self) -> tuple[str, ...]:
        return tuple(k.fingerprint for k in (self.spot_key, self.futures_key) if k is not None)


@dataclass(frozen=True)
class SessionConfig:
    session_id: str
    account: str
    token_sha256: bytes = field(repr=False)
    permissions: frozenset[Permission]
    # After this instant the token no longer authenticates (None: it does not expire).
    token_expires: datetime | None = None

    @property
    def drop_copy(self) -> bool:
        return Permission.DROP_COPY in self.permissions


@dataclass(frozen=True)
class TlsConfig:
    """Server TLS; with `client_ca` set, clients must present a certificate it signed (mTLS)."""

    cert_chain: bytes = field(repr=False)
    private_key: Secret = field(repr=False)
    client_ca: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:50051"
    data_dir: Path = Path("data")
    heartbeat_interval_s: float = 5.0
    # A logged-on session with no RPC and no open stream for this long is logged out.
    heartbeat_timeout_s: float = 15.0
    metrics_listen: str | None = None
    shutdown_grace_s: float = 5.0
    tls: TlsConfig | None = None
    # How long start-up keeps retrying an unreachable venue (with backoff) before giving up.
    startup_retry_s: float = 60.0
    # Directory of the per-key lock files every gateway on this machine honours; None: the
    # default of gateway.leases.local.default_lock_dir ($XDG_RUNTIME_DIR/krakengw or /tmp).
    key_lock_dir: Path | None = None


@dataclass(frozen=True)
class KrakenSpotConfig:
    """`[kraken.spot]`: where Kraken Spot is (real Kraken by default) and how keys pace
    themselves there. `tier` is the account verification tier whose rate limits the governor
    models; `ws_trading` sends orders over the WS v2 trading methods (REST otherwise)."""

    rest_url: str = KRAKEN_REST_URL
    ws_public_url: str = KRAKEN_WS_PUBLIC_URL
    ws_private_url: str = KRAKEN_WS_PRIVATE_URL
    tier: str = "starter"
    ws_trading: bool = True


@dataclass(frozen=True)
class KrakenFuturesConfig:
    """`[kraken.futures]`: where Kraken Futures is (REST API and WS feed)."""

    rest_url: str = KRAKEN_FUTURES_REST_URL
    ws_url: str = KRAKEN_FUTURES_WS_URL


@dataclass(frozen=True)
class KrakenConfig:
    """`[kraken]`: where `kraken` accounts connect, per venue (`spot`, `futures`), and Kraken's
    dead man's switch for every key: `dead_man_switch` arms it with `dead_man_timeout_s` while
    the key's trading session is live, refreshed every `dead_man_refresh_s`, switched off at
    Logout, left to run out when the session is lost (also on the embedded simulator).

    `deprecations` lists what the file said the old way (Spot keys directly in `[kraken]`):
    still honoured, to be logged once logging is set up."""

    spot: KrakenSpotConfig = KrakenSpotConfig()
    futures: KrakenFuturesConfig = KrakenFuturesConfig()
    dead_man_switch: bool = True
    dead_man_timeout_s: int = 60
    dead_man_refresh_s: float = 20.0
    deprecations: tuple[str, ...] = ()


@dataclass(frozen=True)
class JournalConfig:
    """Where the journal lives: SQLite in `server.data_dir` unless `url` names a PostgreSQL
    database (libpq URI or conninfo, without a password: that comes from a file or env var)."""

    url: str | None = None
    password: Secret | None = field(default=None, repr=False)
    pool_size: int = 4


@dataclass(frozen=True)
class FleetConfig:
    """Several gateways sharing one PostgreSQL journal and its key leases (gateway/fleet.py).

    `instance` names this gateway in leases and logs (default: host and pid); `lease_ttl_s`
    is how long a key lease lasts without renewal (the failover delay); `accounts` are those
    this gateway may serve (None: every configured account), `max_accounts` how many at once
    (None: no cap); `advertise_address` is the gRPC HOST:PORT clients reach this gateway at,
    named to clients of the accounts it serves when they call another instance (default: the
    listen address, a wildcard host replaced by this host's name)."""

    instance: str | None = None
    lease_ttl_s: float = 10.0
    accounts: tuple[str, ...] | None = None
    max_accounts: int | None = None
    advertise_address: str | None = None


@dataclass(frozen=True)
class ConsoleConfig:
    """The operator console (web page): off unless `listen` is set. Without an admin token it
    is read-only; with one, the token unlocks the kill switch and session logout. The gateway
    keeps only the token's SHA-256."""

    listen: str | None = None
    admin_token_sha256: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TracingConfig:
    """OpenTelemetry spans of the order path: off unless `exporter` is set (console | otlp)."""

    exporter: str | None = None
    endpoint: str | None = None  # OTLP/HTTP traces URL; else the OTEL_EXPORTER_OTLP_* variables


@dataclass(frozen=True)
class GatewayConfig:
    server: ServerConfig
    accounts: Mapping[str, AccountConfig]
    sessions: Mapping[str, SessionConfig]
    kraken: KrakenConfig = KrakenConfig()
    journal: JournalConfig = JournalConfig()
    fleet: FleetConfig | None = None  # None: a single gateway (local key locks)
    console: ConsoleConfig = ConsoleConfig()
    tracing: TracingConfig = TracingConfig()

    @property
    def uses_simulator(self) -> bool:
        return any(a.trades_on is AccountVenue.SIMULATOR for a in self.accounts.values())


# Opt-out for secret volumes that can only be group-readable (Kubernetes `fsGroup` with
# `defaultMode: 0440`): with this variable set to 1, a secret file readable by its group is
# accepted; readable by others is still refused.
GROUP_READABLE_SECRETS_ENV = "KRAKENGW_ALLOW_GROUP_READABLE_SECRETS"

_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read and validate a TOML config; relative file paths resolve against its directory."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    return parse_config(raw, base_dir=path.parent, environ=environ)


def parse_config(
    raw: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    env = os.environ if environ is None else environ
    _only(
        raw,
        "",
        {"server", "kraken", "accounts", "sessions", "journal", "fleet", "console", "tracing"},
    )
    server = _parse_server(_table(raw, "server"), base_dir, env)
    journal = _parse_journal(_table(raw, "journal"), base_dir, env)
    kraken = _parse_kraken(_table(raw, "kraken"))
    accounts = {
        name: _parse_account(name, _as_table(body, f"accounts.{name}"), base_dir, env)
        for name, body in _table(raw, "accounts").items()
    }
    sessions = {
        sid: _parse_session(sid, _as_table(body, f"sessions.{sid}"), accounts, base_dir, env)
        for sid, body in _table(raw, "sessions").items()
    }
    kinds = sorted({a.trades_on.value for a in accounts.values()})
    if len(kinds) > 1:
        # The paper venue and the simulator stand in for Kraken under the same venue id
        # (`kraken`): one gateway cannot list two different BTC/USD books under one name.
        raise ConfigError(
            f"accounts trade on different venues {kinds}; one gateway runs one kind "
            "(kraken, simulator or paper): run one gateway per kind"
        )
    fleet = None
    if "fleet" in raw:
        fleet = _parse_fleet(_table(raw, "fleet"), accounts)
        if journal.url is None:
            raise ConfigError(
                "fleet needs [journal] url: a fleet shares its journal and key leases in PostgreSQL"
            )
    console = _parse_console(_table(raw, "console"), base_dir, env)
    tracing = _parse_tracing(_table(raw, "tracing"))
    return GatewayConfig(
        server=server,
        accounts=accounts,
        sessions=sessions,
        kraken=kraken,
        journal=journal,
        fleet=fleet,
        console=console,
        tracing=tracing,
    )


def _parse_fleet(t: Mapping[str, Any], accounts: Mapping[str, AccountConfig]) -> FleetConfig:
    where = "fleet"
    _only(t, where, {"instance", "lease_ttl_s", "accounts", "max_accounts", "advertise_address"})
    instance = t.get("instance")
    if instance is not None:
        _check_id(_str(t, where, "instance", None), f"{where}.instance")
    ttl = _positive(t, where, "lease_ttl_s", FleetConfig.lease_ttl_s)
    mine = t.get("accounts")
    if mine is not None:
        if not isinstance(mine, list) or not all(isinstance(a, str) for a in mine):
            raise ConfigError(f"{where}.accounts must be a list of account names")
        unknown = sorted(set(mine) - set(accounts))
        if unknown:
            raise ConfigError(f"{where}.accounts names unknown account(s) {unknown}")
    cap = t.get("max_accounts")
    if cap is not None and (type(cap) is not int or cap < 1):
        raise ConfigError(f"{where}.max_accounts must be a positive integer")
    advertise = t.get("advertise_address")
    if advertise is not None:
        advertise = _str(t, where, "advertise_address", None)
        if not re.fullmatch(r"[^\s:]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5}", advertise):
            raise ConfigError(f"{where}.advertise_address must be HOST:PORT")
    return FleetConfig(
        instance=instance,
        lease_ttl_s=ttl,
        accounts=None if mine is None else tuple(mine),
        max_accounts=cap,
        advertise_address=advertise,
    )


def _parse_journal(t: Mapping[str, Any], base_dir: Path, env: Mapping[str, str]) -> JournalConfig:
    where = "journal"
    _only(t, where, {"url", "password_file", "password_env", "pool_size"})
    if "url" not in t:
        if t:
            raise ConfigError(f"{where}: the options {sorted(t)} need url (a PostgreSQL database)")
        return JournalConfig()
    url = _str(t, where, "url", None)
    from psycopg.conninfo import conninfo_to_dict  # only configs with a database pay for it

    try:
        params = conninfo_to_dict(url)
    except Exception:  # psycopg's message may echo the url, password and all
        raise ConfigError(f"{where}.url is not a PostgreSQL URI or conninfo string") from None
    if "password" in params:
        raise ConfigError(
            f"{where}.url must not carry a password; give it in password_file or password_env"
        )
    if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
        raise ConfigError(f"{where}.url must be a postgresql:// URI or a conninfo string")
    password = None
    if "password_file" in t or "password_env" in t:
        password = _read_secret(t, where, "password", base_dir, env)
    pool_size = t.get("pool_size", JournalConfig.pool_size)
    if type(pool_size) is not int or not 1 <= pool_size <= 64:
        raise ConfigError(f"{where}.pool_size must be an integer from 1 to 64")
    return JournalConfig(url=url, password=password, pool_size=pool_size)


def _parse_tracing(t: Mapping[str, Any]) -> TracingConfig:
    where = "tracing"
    _only(t, where, {"exporter", "endpoint"})
    if not t:
        return TracingConfig()
    exporter = _str(t, where, "exporter", None)
    if exporter not in ("console", "otlp"):
        raise ConfigError(f"{where}.exporter must be console or otlp")
    endpoint = None
    if "endpoint" in t:
        endpoint = _url(t, where, "endpoint", "", ("http://", "https://"))
    return TracingConfig(exporter=exporter, endpoint=endpoint)


def _parse_console(t: Mapping[str, Any], base_dir: Path, env: Mapping[str, str]) -> ConsoleConfig:
    where = "console"
    _only(t, where, {"listen", "admin_token_sha256", "admin_token_file", "admin_token_env"})
    listen = t.get("listen")
    if listen is not None:
        listen = _str(t, where, "listen", None)
        if not re.fullmatch(r"\[?[A-Za-z0-9_.:-]*\]?:\d{1,5}", listen):
            raise ConfigError(f"{where}.listen must be HOST:PORT")
    sources = [k for k in ("admin_token_sha256", "admin_token_file", "admin_token_env") if k in t]
    if len(sources) > 1:
        raise ConfigError(f"{where}: give at most one of {sources}")
    digest = None
    if "admin_token_sha256" in t:
        hexdigest = _str(t, where, "admin_token_sha256", None)
        if not _SHA256_RE.fullmatch(hexdigest):
            raise ConfigError(f"{where}.admin_token_sha256 must be 64 hex digits")
        digest = bytes.fromhex(hexdigest)
    elif sources:
        token = _read_secret(t, where, "admin_token", base_dir, env).reveal()
        if len(token) < 16:
            raise ConfigError(f"{where}: the admin token is too short (need >= 16 characters)")
        digest = hashlib.sha256(token.encode()).digest()
    return ConsoleConfig(listen=listen, admin_token_sha256=digest)


def _parse_kraken(t: Mapping[str, Any]) -> KrakenConfig:
    where = "kraken"
    _only(
        t,
        where,
        {"spot", "futures", "dead_man_switch", "dead_man_timeout_s", "dead_man_refresh_s"}
        | set(_FLAT_SPOT_KEYS),
    )
    d = KrakenConfig()
    dead_man_timeout = t.get("dead_man_timeout_s", d.dead_man_timeout_s)
    if type(dead_man_timeout) is not int or not 0 < dead_man_timeout < 86400:
        raise ConfigError(f"{where}.dead_man_timeout_s must be whole seconds from 1 to 86399")
    # Left out, the refresh comes at least three times per countdown.
    refresh_default = min(d.dead_man_refresh_s, dead_man_timeout / 3)
    dead_man_refresh = _positive(t, where, "dead_man_refresh_s", refresh_default)
    if dead_man_refresh >= dead_man_timeout:
        raise ConfigError(f"{where}.dead_man_refresh_s must be below dead_man_timeout_s")
    flat = [k for k in _FLAT_SPOT_KEYS if k in t]
    deprecations: tuple[str, ...] = ()
    if flat:
        if "spot" in t:
            raise ConfigError(
                f"{where}: {', '.join(flat)} belong in [kraken.spot] (the file has both forms)"
            )
        deprecations = (f"[kraken] {', '.join(flat)}: deprecated, move them to [kraken.spot]",)
        spot = _parse_kraken_spot(t, where)
    else:
        spot = _parse_kraken_spot(_table(t, "spot"), f"{where}.spot")
    return KrakenConfig(
        spot=spot,
        futures=_parse_kraken_futures(_table(t, "futures"), f"{where}.futures"),
        dead_man_switch=_bool(t, where, "dead_man_switch", d.dead_man_switch),
        dead_man_timeout_s=dead_man_timeout,
        dead_man_refresh_s=dead_man_refresh,
        deprecations=deprecations,
    )


def _parse_kraken_spot(t: Mapping[str, Any], where: str) -> KrakenSpotConfig:
    if where != "kraken":  # the deprecated flat form shares [kraken] with other keys
        _only(t, where, set(_FLAT_SPOT_KEYS))
    d = KrakenSpotConfig()
    tier = _str(t, where, "tier", d.tier)
    if tier not in KRAKEN_TIERS:
        raise ConfigError(f"{where}.tier must be one of {list(KRAKEN_TIERS)}")
    return KrakenSpotConfig(
        rest_url=_url(t, where, "rest_url", d.rest_url, ("http://", "https://")),
        ws_public_url=_url(t, where, "ws_public_url", d.ws_public_url, ("ws://", "wss://")),
        ws_private_url=_url(t, where, "ws_private_url", d.ws_private_url, ("ws://", "wss://")),
        tier=tier,
        ws_trading=_bool(t, where, "ws_trading", d.ws_trading),
    )


def _parse_kraken_futures(t: Mapping[str, Any], where: str) -> KrakenFuturesConfig:
    _only(t, where, {"rest_url", "ws_url"})
    d = KrakenFuturesConfig()
    return KrakenFuturesConfig(
        rest_url=_url(t, where, "rest_url", d.rest_url, ("http://", "https://")),
        ws_url=_url(t, where, "ws_url", d.ws_url, ("ws://", "wss://")),
    )


def _url(t: Mapping[str, Any], where: str, key: str, default: str, schemes: tuple[str, ...]) -> str:
    value = _str(t, where, key, default).rstrip("/")
    if not value.startswith(schemes) or len(value) <= len(value.split("//")[0]) + 2:
        raise ConfigError(f"{where}.{key} must be a {' or '.join(schemes)} URL")
    return value


def _bool(t: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be true or false")
    return value


def _parse_server(t: Mapping[str, Any], base_dir: Path, env: Mapping[str, str]) -> ServerConfig:
    where = "server"
    _only(
        t,
        where,
        {
            "listen",
            "data_dir",
            "heartbeat_interval_s",
            "heartbeat_timeout_s",
            "metrics_listen",
            "shutdown_grace_s",
            "tls",
            "startup_retry_s",
            "key_lock_dir",
        },
    )
    d = ServerConfig()
    interval = _positive(t, where, "heartbeat_interval_s", d.heartbeat_interval_s)
    timeout = _positive(t, where, "heartbeat_timeout_s", max(d.heartbeat_timeout_s, 3 * interval))
    if timeout < interval:
        raise ConfigError("server.heartbeat_timeout_s must be >= server.heartbeat_interval_s")
    metrics = t.get("metrics_listen")
    return ServerConfig(
        listen=_str(t, where, "listen", d.listen),
        data_dir=_resolve(base_dir, _str(t, where, "data_dir", str(d.data_dir))),
        heartbeat_interval_s=interval,
        heartbeat_timeout_s=timeout,
        metrics_listen=None if metrics is None else _str(t, where, "metrics_listen", ""),
        shutdown_grace_s=_positive(t, where, "shutdown_grace_s", d.shutdown_grace_s),
        startup_retry_s=_positive(t, where, "startup_retry_s", d.startup_retry_s),
        tls=None if "tls" not in t else _tls(_as_table(t["tls"], "server.tls"), base_dir, env),
        key_lock_dir=None
        if "key_lock_dir" not in t
        else _resolve(base_dir, _str(t, where, "key_lock_dir", None)),
    )


def _tls(t: Mapping[str, Any], base_dir: Path, env: Mapping[str, str]) -> TlsConfig:
    where = "server.tls"
    _only(t, where, {"cert_file", "key_file", "key_env", "client_ca_file"})
    ca = t.get("client_ca_file")
    return TlsConfig(
        cert_chain=_read_public(_resolve(base_dir, _str(t, where, "cert_file", None)), where),
        private_key=_read_secret(t, where, "key", base_dir, env),
        client_ca=None
        if ca is None
        else _read_public(_resolve(base_dir, _str(t, where, "client_ca_file", None)), where),
    )


def _read_public(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def _parse_account(
    name: str, t: Mapping[str, Any], base_dir: Path, env: Mapping[str, str]
) -> AccountConfig:
    where = f"accounts.{name}"
    _check_id(name, where)
    _only(
        t,
        where,
        {"venue", "subaccount", "venue_account_id", "permissions", "spot", "futures", "risk"},
    )
    venue_account_id = t.get("venue_account_id")
    if venue_account_id is not None and (
        not isinstance(venue_account_id, str) or not venue_account_id.strip()
    ):
        raise ConfigError(f"{where}.venue_account_id must be a non-empty string")
    sub = t.get("subaccount")
    if sub is not None and not isinstance(sub, str):
        raise ConfigError(f"{where}.subaccount must be a string")
    perms = _permissions(t.get("permissions", ["read", "trade"]), f"{where}.permissions")
    spot = t.get("spot")
    fut = t.get("futures")
    venue = _venue(t, where, has_keys=spot is not None or fut is not None)
    return AccountConfig(
        venue=venue,
        name=name,
        subaccount=sub or None,
        venue_account_id=venue_account_id,
        permissions=perms,
        spot_key=None
        if spot is None
        else _key_pair(_as_table(spot, f"{where}.spot"), f"{where}.spot", base_dir, env),
        futures_key=None
        if fut is None
        else _key_pair(_as_table(fut, f"{where}.futures"), f"{where}.futures", base_dir, env),
        risk=_risk(_as_table(t.get("risk", {}), f"{where}.risk"), f"{where}.risk"),
    )


def _venue(t: Mapping[str, Any], where: str, *, has_keys: bool) -> AccountVenue | None:
    if "venue" not in t:
        return None
    name = _str(t, where, "venue", None)
    try:
        venue = AccountVenue(name)
    except ValueError:
        known = [v.value for v in AccountVenue]
        raise ConfigError(f"{where}.venue must be one of {known}, not {name!r}") from None
    if venue is AccountVenue.KRAKEN and not has_keys:
        raise ConfigError(
            f'{where}: venue "kraken" needs spot or futures keys '
            "(spot = {...} and/or futures = {...})"
        )
    if venue is not AccountVenue.KRAKEN and has_keys:
        raise ConfigError(
            f'{where}: venue "{venue.value}" uses no Kraken keys; remove spot/futures '
            "(the simulator has its own demo keys)"
        )
    return venue


def _parse_session(
    sid: str,
    t: Mapping[str, Any],
    accounts: Mapping[str, AccountConfig],
    base_dir: Path,
    env: Mapping[str, str],
) -> SessionConfig:
    where = f"sessions.{sid}"
    _check_id(sid, where)
    _only(
        t,
        where,
        {"account", "token_sha256", "token_file", "token_env", "permissions", "token_expires"},
    )
    account_name = _str(t, where, "account", None)
    account = accounts.get(account_name)
    if account is None:
        raise ConfigError(f"{where}.account names unknown account {account_name!r}")
    sources = [k for k in ("token_sha256", "token_file", "token_env") if k in t]
    if len(sources) != 1:
        raise ConfigError(f"{where} needs exactly one of token_sha256, token_file, token_env")
    if "token_sha256" in t:
        hexdigest = _str(t, where, "token_sha256", None)
        if not _SHA256_RE.fullmatch(hexdigest):
            raise ConfigError(f"{where}.token_sha256 must be 64 hex digits")
        digest = bytes.fromhex(hexdigest)
    else:
        token = _read_secret(t, where, "token", base_dir, env).reveal()
        if len(token) < 16:
            raise ConfigError(f"{where}: the token is too short (need >= 16 characters)")
        digest = hashlib.sha256(token.encode()).digest()
    # An account grants at most; a session gets what it lists, or (listing nothing) the
    # account's permissions except drop_copy, which shows every session's reports and so must
    # be asked for by name.
    perms = account.permissions - {Permission.DROP_COPY}
    if "permissions" in t:
        perms = _permissions(t["permissions"], f"{where}.permissions")
        extra = perms - account.permissions
        if extra:
            names = ", ".join(sorted(p.name.lower() for p in extra))
            raise ConfigError(f"{where}.permissions exceed account {account.name!r}'s: {names}")
    expires = t.get("token_expires")
    if expires is not None and (not isinstance(expires, datetime) or expires.tzinfo is None):
        raise ConfigError(
            f"{where}.token_expires must be a TOML date-time with an offset, "
            "e.g. 2027-01-31T00:00:00Z"
        )
    return SessionConfig(
        session_id=sid,
        account=account.name,
        token_sha256=digest,
        permissions=perms,
        token_expires=expires,
    )


def _key_pair(
    t: Mapping[str, Any], where: str, base_dir: Path, env: Mapping[str, str]
) -> ApiKeyPair:
    _only(t, where, {"key_file", "key_env", "secret_file", "secret_env"})
    return ApiKeyPair(
        key=_read_secret(t, where, "key", base_dir, env),
        secret=_read_secret(t, where, "secret", base_dir, env),
    )


def _read_secret(
    t: Mapping[str, Any], where: str, what: str, base_dir: Path, env: Mapping[str, str]
) -> Secret:
    """`<what>_file` (mode must deny group/others) or `<what>_env`; never an inline value."""
    file_key, env_key = f"{what}_file", f"{what}_env"
    if (file_key in t) == (env_key in t):
        raise ConfigError(f"{where} needs exactly one of {file_key}, {env_key}")
    if file_key in t:
        path = _resolve(base_dir, _str(t, where, file_key, None))
        try:
            mode = path.stat().st_mode
            group_ok = env.get(GROUP_READABLE_SECRETS_ENV, "") == "1"
            if mode & (0o007 if group_ok else 0o077):
                who = "others" if group_ok else "group or others"
                raise ConfigError(
                    f"{where}.{file_key}: {path} is accessible by {who} "
                    f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 on it"
                )
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{where}.{file_key}: cannot read {path}: {exc.strerror}") from None
        origin = str(path)
    else:
        var = _str(t, where, env_key, None)
        value = env.get(var, "").strip()
        origin = f"environment variable {var}"
    if not value:
        raise ConfigError(f"{where}: {origin} is empty or missing")
    return Secret(value)


def _risk(t: Mapping[str, Any], where: str) -> RiskLimitsConfig:
    _only(
        t,
        where,
        {
            "max_order_qty",
            "max_notional",
            "price_band_pct",
            "max_open_orders",
            "allow_no_reference_price",
            "reference_max_age_s",
            "reference_wait_s",
        },
    )
    opens = t.get("max_open_orders")
    if opens is not None and (not isinstance(opens, int) or isinstance(opens, bool) or opens < 0):
        raise ConfigError(f"{where}.max_open_orders must be a non-negative integer")
    return RiskLimitsConfig(
        max_order_qty=_decimal(t, where, "max_order_qty"),
        max_notional=_decimal(t, where, "max_notional"),
        price_band_pct=_decimal(t, where, "price_band_pct"),
        max_open_orders=opens,
        allow_no_reference_price=_bool(t, where, "allow_no_reference_price", False),
        reference_max_age_s=_positive(
            t, where, "reference_max_age_s", RiskLimitsConfig.reference_max_age_s
        ),
        reference_wait_s=_positive(t, where, "reference_wait_s", RiskLimitsConfig.reference_wait_s),
    )


def _decimal(t: Mapping[str, Any], where: str, key: str) -> Decimal | None:
    """Decimals are strings in TOML (a TOML float would already have lost precision)."""
    value = t.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f'{where}.{key} must be a decimal string like "0.5"')
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ConfigError(f"{where}.{key} is not a decimal: {value!r}") from None
    if not d.is_finite() or d <= 0:
        raise ConfigError(f"{where}.{key} must be a positive finite decimal")
    return d


def _permissions(value: Any, where: str) -> frozenset[Permission]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")

    def name(v: str) -> str:
        return v.upper().replace("-", "_")

    unknown = [v for v in value if name(v) not in Permission.__members__]
    if unknown:
        known = sorted(p.lower() for p in Permission.__members__)
        raise ConfigError(f"{where}: unknown permission(s) {unknown}; known: {known}")
    return frozenset(Permission[name(v)] for v in value)


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return _as_table(raw.get(key, {}), key)


def _as_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def _only(t: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    # Unknown keys are refused so a typo (e.g. `secret` instead of `secret_file`) cannot silently
    # disable something or tempt someone to inline a secret.
    unknown = sorted(set(t) - allowed)
    if unknown:
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _str(t: Mapping[str, Any], where: str, key: str, default: str | None) -> str:
    value = t.get(key, default)
    if value is None:
        raise ConfigError(f"{where}.{key} is required")
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string")
    return value


def _positive(t: Mapping[str, Any], where: str, key: str, default: float) -> float:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key} must be a positive number of seconds")
    return float(value)


def _check_id(name: str, where: str) -> None:
    if not _ID_RE.fullmatch(name):
        raise ConfigError(f"{where}: name must match {_ID_RE.pattern}")


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path
