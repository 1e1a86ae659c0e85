"""Kraken Spot REST authentication: API-Sign over the raw body, per-key nonces, key permissions.

API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body))) (wire 2.2).
The body is hashed exactly as received, never re-serialised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import Counter, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from simulator.accounts import KrakenAccounts, KrakenApiKey
from simulator.engine.errors import KrakenError
from simulator.spot.limits import AuthLockout

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
PERMISSION_DENIED = "EGeneral:Permission denied"

# Which key permission each private method needs (Kraken's API key checkboxes).
METHOD_PERMISSIONS: dict[str, str] = {
    "Balance": "query_funds",
    "BalanceEx": "query_funds",
    "TradeBalance": "query_funds",
    "OpenOrders": "query_open",
    "QueryOrders": "query_open",
    "OpenPositions": "query_open",
    "ClosedOrders": "query_closed",
    "TradesHistory": "query_closed",
    "QueryTrades": "query_closed",
    "Ledgers": "query_ledger",
    "QueryLedgers": "query_ledger",
    "AddOrder": "modify_orders",
    "AddOrderBatch": "modify_orders",
    "AmendOrder": "modify_orders",
    "EditOrder": "modify_orders",
    "CancelOrder": "cancel_orders",
    "CancelOrderBatch": "cancel_orders",
    "CancelAll": "cancel_orders",
    "CancelAllOrdersAfter": "cancel_orders",
    "GetWebSocketsToken": "websocket",
    "CreateSubaccount": "withdraw",
    "AccountTransfer": "withdraw",
    "Withdraw": "withdraw",
    "TradeVolume": "query_funds",
    "OrderAmends": "query_open",
}


def spot_signature(secret_b64: str, path: str, nonce: str, body: bytes) -> str:
    """Compute the API-Sign header value for one request."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class _NonceState:
    last: int
    # Nonces accepted below `last` inside the window, so each is still used only once.
    recent: set[int] = field(default_factory=set)


class NonceTracker:
    """Strictly increasing nonces per key, with Kraken's optional out-of-order window."""

    def __init__(self) -> None:
        self._state: dict[str, _NonceState] = {}

    def check_and_record(self, key: str, nonce: int, window: int) -> bool:
        state = self._state.get(key)
        if state is None:
            self._state[key] = _NonceState(last=nonce)
            return True
        if nonce > state.last:
            state.recent.add(state.last)
            state.last = nonce
            state.recent = {n for n in state.recent if n > nonce - window}
            return True
        if window and nonce > state.last - window and nonce not in state.recent:
            if nonce == state.last:
                return False
            state.recent.add(nonce)
            return True
        return False

    def last(self, key: str) -> int | None:
        state = self._state.get(key)
        return state.last if state else None


def parse_nonce(value: object) -> int | None:
    """Nonces arrive as JSON numbers or decimal strings; only unsigned integers are valid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


SIGNED_LOG_SIZE = 100_000

# The `KrakenGW-Lease` header of the private REST request being handled ("" when absent), for a
# handler that hands out a credential used later: a WS token carries it to its WS requests.
REQUEST_SENDER: ContextVar[str] = ContextVar("request_sender", default="")


@dataclass(frozen=True)
class SignedRequest:
    """One request made with a key's credentials, as the simulator saw it arrive."""

    at: float  # simulator time
    sender: str  # the lease it named: its `KrakenGW-Lease` header, or its WS token's
    via: str  # "rest <Method>" or "ws <method>"
    peer: str = ""  # the client's address the request came from, "host:port"
    owner: str = ""  # who owns that connection, per `SpotAuthenticator.peer_owner`


def peer_address(peername: object) -> str:
    """ "host:port" of a transport's `peername` extra info ("" when unknown)."""
    if isinstance(peername, tuple) and len(peername) >= 2:
        return f"{peername[0]}:{peername[1]}"
    return ""


class SpotAuthenticator:
    """Checks one private request; raises KrakenError with Kraken's exact strings."""

    def __init__(self, accounts: KrakenAccounts, lockout: AuthLockout) -> None:
        self._accounts = accounts
        self._lockout = lockout
        self.nonces = NonceTracker()
        # Requests per API key that carried a valid signature, whatever their nonce: who signed
        # with a key, and how often (tests prove a refused gateway signed nothing).
        self.signed_requests: Counter[str] = Counter()
        # The last SIGNED_LOG_SIZE requests per key, signed REST ones and WS trading ones (a
        # token is the key's credential there), in arrival order, each with the lease it was
        # sent under (see SignedRequest), so a test can check who signed when: a fleet's
        # takeovers must never interleave two holders' requests.
        self.signed_log: dict[str, deque[SignedRequest]] = {}
        # Optional: who owns a client connection, by its address (a test harness names the
        # process behind it, so the log does not rest on what the sender says about itself).
        self.peer_owner: Callable[[str], str] | None = None
        # Requests refused with EAPI:Invalid nonce, per key.
        self.invalid_nonces: Counter[str] = Counter()

    def authenticate(
        self,
        *,
        path: str,
        api_key: str | None,
        api_sign: str | None,
        nonce: object,
        body: bytes,
        now: float,
        sender: str = "",
        peer: str = "",
    ) -> KrakenApiKey:
        lock_id = api_key or ""
        if self._lockout.locked(lock_id, now):
            raise KrakenError("EGeneral:Temporary lockout")
        try:
            key = self._verify(path, api_key, api_sign, nonce, body, now, sender, peer)
        except KrakenError:
            self._lockout.failure(lock_id, now)
            raise
        self._lockout.success(lock_id)
        return key

    def _verify(
        self,
        path: str,
        api_key: str | None,
        api_sign: str | None,
        nonce: object,
        body: bytes,
        now: float,
        sender: str,
        peer: str,
    ) -> KrakenApiKey:
        key = self._accounts.key(api_key) if api_key else None
        if key is None or key.venue != "spot":
            raise KrakenError(INVALID_KEY)
        nonce_int = parse_nonce(nonce)
        if nonce_int is None or not api_sign:
            raise KrakenError(INVALID_NONCE if nonce_int is None else INVALID_SIGNATURE)
        try:
            expected = spot_signature(key.secret, path, str(nonce), body)
            given = base64.b64decode(api_sign, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KrakenError(INVALID_SIGNATURE) from exc
        if not hmac.compare_digest(base64.b64decode(expected), given):
            raise KrakenError(INVALID_SIGNATURE)
        self.signed_requests[key.key] += 1
        via = "rest " + path.rsplit("/", 1)[-1]
        self.log_signed(key.key, SignedRequest(now, sender, via, peer))
        if not self.nonces.check_and_record(key.key, nonce_int, key.nonce_window):
            self.invalid_nonces[key.key] += 1
            raise KrakenError(INVALID_NONCE)
        return key

    def log_signed(self, key: str, request: SignedRequest) -> None:
        if self.peer_owner is not None and request.peer:
            request = replace(request, owner=self.peer_owner(request.peer))
        log = self.signed_log.setdefault(key, deque(maxlen=SIGNED_LOG_SIZE))
        log.append(request)


def require_permission(key: KrakenApiKey, method: str) -> None:
    needed = METHOD_PERMISSIONS.get(method)
    if needed is not None and not key.allows(needed):
        raise KrakenError(PERMISSION_DENIED)
