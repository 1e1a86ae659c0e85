"""The Kraken Futures REST v3 client: one pooled aiohttp session, `Authent`-signed private calls.

aiohttp rather than httpx (which Spot's REST fallback uses): order entry goes over this client,
and on loopback httpx costs about 5 ms per request against aiohttp's 0.3 ms.

Paths: `/derivatives/api/v3/<endpoint>` (trading, account, public market data) and
`/api/history/v2/<endpoint>` (account history, its own rate pool). GET parameters travel in the
query string, POST parameters as a form body (batchorder: `json=<URL-encoded JSON>`); the
signature covers exactly that text (wire 8.2). Every private call carries a `Nonce` header from
the key's journal-backed nonce source: Futures tolerates briefly out-of-order nonces, so calls
of one key run concurrently (no lock around the round trip, unlike Spot).

Reads that fail without a Kraken answer, or with a retryable error, are retried with backoff.
Writes are sent once: anything after the request may have reached Kraken (timeout, 5xx, dropped
connection, unparseable body, internal error) becomes `OutcomeUnknown`, settled by query.
JSON numbers decode as `Decimal`.

A gate (`before_send`, a fleet's lease fence) stops signed requests: checked before a call
takes a nonce, and again at the last moment by the session's request class
(`gated_request_class`, aiohttp's `request_class`): in `send`, once the connector handed over a
connection, where a bodiless request's bytes are written in the same step, and for a request
with a body at the start of aiohttp's body writer, which writes the headers and body (Python
3.11 runs it as a task one event-loop turn after `send`; 3.12+ starts it eagerly). Neither
check has an await between it and the write. Public requests pass ungated: they use no key.
Signed requests also carry `private_headers` (a fleet names its lease there).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from gateway.core.errors import (
    ErrorReason,
    GatewayError,
    OutcomeUnknown,
    ResourceExhausted,
    Unavailable,
)
from gateway.core.telemetry import NO_TELEMETRY, Telemetry
from gateway.core.tracing import span
from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.common.nonce import KrakenNonceSource
from gateway.venues.kraken.futures.auth import KrakenFuturesSigner
from gateway.venues.kraken.futures.errors import futures_error
from gateway.venues.kraken.futures.rate_budget import (
    CANCEL_ENDPOINTS,
    KrakenFuturesRateGovernor,
    derivatives_cost,
)
from gateway.venues.kraken.futures.wire_values import VENUE

log = logging.getLogger(__name__)

DERIVATIVES_PATH = "/derivatives/api/v3/"
HISTORY_PATH = "/api/history/v2/"
DEFAULT_TIMEOUT_S = 10.0
READ_ATTEMPTS = 4

Params = Mapping[str, str] | Sequence[tuple[str, str]]
Json = dict[str, Any]


# Raise to stop a signed request before it is written (a fleet's lease fence).
SendGate = Callable[[], None]


def gated_request_class(gate: SendGate) -> type[aiohttp.ClientRequest]:
    """An aiohttp request class whose signed requests (an `Authent` header) pass `gate` right
    before their bytes are written (see the module docstring); the caller gets its exception."""

    class GatedRequest(aiohttp.ClientRequest):
        def _signed(self) -> bool:
            return "Authent" in self.headers

        async def send(self, conn: Any) -> aiohttp.ClientResponse:
            if self._signed():
                gate()  # a request without a body is written before `send` first awaits
            return await super().send(conn)

        async def write_bytes(self, writer: Any, conn: Any, *args: Any, **kwargs: Any) -> None:
            if self._signed():
                try:
                    gate()  # the headers and body go out before this coroutine first awaits
                except Exception as exc:
                    if conn.protocol is None:
                        raise
                    # Raised here it would be lost in aiohttp's writer task: hand it to the
                    # response the caller awaits, and nothing is written.
                    conn.protocol.set_exception(exc)
                    return
            await super().write_bytes(writer, conn, *args, **kwargs)

    return GatedRequest


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, GatewayError):
        return exc.metadata.get("retryable") == "true" and not isinstance(exc, ResourceExhausted)
    return False


def _no_answer(text: str, reason: ErrorReason, after_send: bool) -> GatewayError:
    if after_send:
        return OutcomeUnknown(text, reason, metadata={"retryable": "false"})
    return Unavailable(text, reason, metadata={"retryable": "true"})


def parse_futures_response(
    status: int, body: bytes, *, after_send: bool = False, history: bool = False
) -> Json:
    """The payload of a Futures REST answer (`result: success`), or raise what it means.

    Kraken's envelope decides when there is one (errors come as 200 or 4xx/5xx with
    `result: error`); without one, 429 is a rate limit and anything else no answer. The
    history API (`history`) answers a bare JSON object on success, with no `result`.
    """
    try:
        msg = json.loads(body, parse_float=Decimal)
    except ValueError:
        msg = None
    if isinstance(msg, dict) and msg.get("result") == "success":
        return msg
    if history and status == 200 and isinstance(msg, dict) and "result" not in msg:
        return msg
    if isinstance(msg, dict) and msg.get("result") == "error":
        code = msg.get("error")
        if not code and isinstance(msg.get("errors"), list) and msg["errors"]:
            first = msg["errors"][0]
            code = first.get("message") if isinstance(first, dict) else first
        raise futures_error(str(code or "unknownError"), after_send=after_send)
    if status == 429:
        raise ResourceExhausted(
            "Kraken Futures edge rate limit (HTTP 429)",
            ErrorReason.VENUE_RATE_LIMITED,
            retry_after=1.0,
        )
    if status != 200:
        raise _no_answer(f"Kraken Futures HTTP {status}", ErrorReason.VENUE_UNAVAILABLE, after_send)
    raise _no_answer(
        "unparseable Kraken Futures response", ErrorReason.VENUE_RESPONSE_UNPARSEABLE, after_send
    )


def _transport_error(exc: Exception, *, after_send: bool) -> GatewayError:
    """No Kraken answer. Failing to connect proves nothing was sent; anything later does not."""
    kind = type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return Unavailable(
            f"Kraken Futures unreachable ({kind})",
            ErrorReason.VENUE_UNAVAILABLE,
            metadata={"retryable": "true"},
        )
    if after_send:
        return OutcomeUnknown(
            f"no answer from Kraken Futures ({kind}); the outcome is being resolved",
            ErrorReason.VENUE_TIMEOUT
            if isinstance(exc, TimeoutError)
            else ErrorReason.VENUE_CONNECTION_LOST,
        )
    return _no_answer(
        f"no answer from Kraken Futures ({kind})", ErrorReason.VENUE_CONNECTION_LOST, False
    )


class KrakenFuturesRestClient:
    """Futures REST for one API key (public calls need no key but share the pool)."""

    def __init__(
        self,
        base_url: str,
        credentials: KrakenCredentials,
        nonces: KrakenNonceSource,
        governor: KrakenFuturesRateGovernor,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        read_attempts: int = READ_ATTEMPTS,
        retry_wait_s: float = 0.05,
        http: aiohttp.ClientSession | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
        before_send: SendGate | None = None,
        private_headers: Mapping[str, str] | None = None,
        pool_size: int = 16,
    ) -> None:
        if before_send is not None and http is not None:
            raise ValueError("before_send gates the client's own session only; pass no http")
        self._base = base_url.rstrip("/")
        self._before_send = before_send
        self._private_headers = dict(private_headers or {})
        self._pool_size = pool_size
        self.telemetry = telemetry
        self.signer = KrakenFuturesSigner(credentials)
        self._nonces = nonces
        self.governor = governor
        self._attempts = max(1, read_attempts)
        self._retry_wait = retry_wait_s
        self._own_http = http is None
        self._http_given = http
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @property
    def key_id(self) -> str:
        return self.signer.key_id

    def __repr__(self) -> str:
        return f"KrakenFuturesRestClient(base={self._base!r}, key_id={self.key_id!r})"

    def _http(self) -> aiohttp.ClientSession:
        """The session, made on first use (aiohttp sessions belong to the running loop)."""
        if self._http_given is not None:
            return self._http_given
        if self._session is None:
            gate = self._before_send
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30.0),
                request_class=aiohttp.ClientRequest if gate is None else gated_request_class(gate),
            )
        return self._session

    async def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        async with self._http().request(method, url, data=body, headers=headers) as response:
            return response.status, await response.read()

    async def _exchange(
        self,
        label: str,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        after_send: bool,
        history: bool = False,
    ) -> Json:
        """One request and its parsed answer, timed for telemetry under `label` (the
        endpoint's name) and traced when tracing is on."""
        started = time.perf_counter()
        try:
            with span("kraken.futures.rest " + label):
                status, content = await self._send(method, url, body, headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._observe(label, started, "no_answer")
            raise _transport_error(exc, after_send=after_send) from None
        try:
            result = parse_futures_response(status, content, after_send=after_send, history=history)
        except GatewayError:
            self._observe(label, started, "error")
            raise
        self._observe(label, started, "ok")
        return result

    def _observe(self, label: str, started: float, outcome: str) -> None:
        self.telemetry.venue_request(VENUE, label, time.perf_counter() - started, outcome)

    async def close(self) -> None:
        if self._own_http and self._session is not None:
            await self._session.close()

    # -- public ---------------------------------------------------------------------------
    async def public(self, endpoint: str, params: Params | None = None) -> Json:
        """GET /derivatives/api/v3/<endpoint> without auth, retried like a read."""

        async def once() -> Json:
            query = urlencode(params or {})
            url = f"{self._base}{DERIVATIVES_PATH}{endpoint}" + (f"?{query}" if query else "")
            return await self._exchange(endpoint, "GET", url, None, {}, after_send=False)

        return await self._retrying(once)

    # -- private --------------------------------------------------------------------------
    async def read(self, endpoint: str, params: Params | None = None) -> Json:
        """A private GET that changes nothing (retried)."""
        cost = derivatives_cost(
            "GET", endpoint, with_last_fill_time="lastFillTime" in dict(params or {})
        )

        async def once() -> Json:
            async with self.governor.spending(cost):
                path = DERIVATIVES_PATH + endpoint
                return await self._call("GET", path, params, after_send=False)

        return await self._retrying(once)

    async def history(self, endpoint: str, params: Params | None = None) -> Json:
        """A GET on the history API (its own pool), retried."""

        async def once() -> Json:
            async with self.governor.spending(1, history=True):
                return await self._call("GET", HISTORY_PATH + endpoint, params, after_send=False)

        return await self._retrying(once)

    async def put(self, endpoint: str, params: Params) -> Json:
        """A private PUT that sets a preference to a value: sending it twice leaves the same
        state, so it is retried like a read."""
        cost = derivatives_cost("PUT", endpoint)

        async def once() -> Json:
            async with self.governor.spending(cost):
                path = DERIVATIVES_PATH + endpoint
                return await self._call("PUT", path, params, after_send=False)

        return await self._retrying(once)

    async def write(
        self,
        endpoint: str,
        params: Params,
        *,
        method: str = "POST",
        batch_size: int = 0,
        cancel: bool = False,
    ) -> Json:
        """A private call that may change state at Kraken; sent at most once. Cancels (the
        cancel endpoints, or `cancel=True` for a batch of cancels) use the governor's reserve."""
        cost = derivatives_cost(method, endpoint, batch_size=batch_size)
        cancel = cancel or endpoint in CANCEL_ENDPOINTS
        async with self.governor.spending(cost, cancel=cancel):
            return await self._call(method, DERIVATIVES_PATH + endpoint, params, after_send=True)

    async def _call(
        self, method: str, path: str, params: Params | None, *, after_send: bool
    ) -> Json:
        if self._before_send is not None:
            self._before_send()  # early: no nonce, no signature, no pooled connection wasted
        text = urlencode(params or {})
        nonce = await self._nonces.next_nonce()
        headers = self.signer.headers(path, text, nonce) | self._private_headers
        label = path.rpartition("/")[2]
        if method == "GET":
            url, body = self._base + path + (f"?{text}" if text else ""), None
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            url, body = self._base + path, text.encode()
        history = path.startswith(HISTORY_PATH)
        try:
            return await self._exchange(
                label, method, url, body, headers, after_send=after_send, history=history
            )
        except ResourceExhausted as exc:
            if exc.reason is ErrorReason.VENUE_RATE_LIMITED:
                self.governor.observe_venue_rate_limited(history=history)
            raise

    async def _retrying(self, once: Callable[[], Awaitable[Json]]) -> Json:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._retry_wait, max=2.0),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await once()
        raise AssertionError("unreachable")  # pragma: no cover
