"""The Kraken Spot REST client: one pooled httpx client, signed private calls, nonce order kept.

Private calls on one key run under a lock that covers the nonce *and* the round trip: Kraken
rejects a nonce lower than one it already accepted, so two requests of the same key must never
overtake each other on the wire. Order entry goes over the WebSocket, so REST is the read and
fallback path and one request in flight per key costs little.

`gated_http_client` is the pooled client of a key whose signed requests must pass a gate (a
fleet's lease fence) at the last moment: the httpx request hook checks it first (before the
request waits for a pooled connection) and names the request's lease in its headers; httpcore's
`trace` extension checks it again on `http11.send_request_headers.started`, which httpcore emits
once it holds the connection, right before it serializes the request and writes it: no await
between that check and the bytes reaching the socket (HTTP/1.1, the client's only protocol).
Public requests pass ungated: they use no key.

Reads (public and private) that fail without a Kraken answer, or with `EService:Busy` /
`EService:Unavailable` / a lost nonce race, are retried with exponential backoff. Writes are
never resent: anything after the request may have reached Kraken (timeout, 5xx, dropped
connection, unparseable body) becomes `OutcomeUnknown`, settled by querying the order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

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
from gateway.venues.kraken.common.ratelimit import KrakenRateGovernor
from gateway.venues.kraken.spot.auth import KrakenSpotSigner
from gateway.venues.kraken.spot.parse import parse_rest_response
from gateway.venues.kraken.spot.wire_values import VENUE

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
READ_ATTEMPTS = 4


# Raise to stop a signed request before it is written (a fleet's lease fence).
SendGate = Callable[[], None]
_HEADERS_WRITE = "http11.send_request_headers.started"


def gated_http_client(
    gate: SendGate,
    private_headers: Mapping[str, str],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_connections: int | None = None,
) -> httpx.AsyncClient:
    """A pooled client whose signed (`/0/private/`) requests carry `private_headers` and pass
    `gate` twice: in the request hook, and right before their bytes are written (see the
    module docstring). A gate that raises stops the request; the caller gets its exception."""

    async def last_check(event: str, info: Mapping[str, Any]) -> None:
        if event == _HEADERS_WRITE:
            gate()  # no await after this one before the write

    async def early_check(request: httpx.Request) -> None:
        if "/private/" in request.url.path:
            gate()
            request.headers.update(private_headers)
            request.extensions["trace"] = last_check

    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=8, keepalive_expiry=30.0
        ),
        event_hooks={"request": [early_check]},
    )


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, GatewayError):
        return exc.metadata.get("retryable") == "true" and not isinstance(exc, ResourceExhausted)
    return False


class KrakenSpotRestClient:
    """Spot REST for one API key (public calls need no key but share the connection pool)."""

    def __init__(
        self,
        base_url: str,
        credentials: KrakenCredentials,
        nonces: KrakenNonceSource,
        governor: KrakenRateGovernor,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        read_attempts: int = READ_ATTEMPTS,
        retry_wait_s: float = 0.05,
        http: httpx.AsyncClient | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._base = base_url.rstrip("/")
        self.telemetry = telemetry
        self._signer = KrakenSpotSigner(credentials)
        self._nonces = nonces
        self.governor = governor
        self._attempts = max(1, read_attempts)
        self._retry_wait = retry_wait_s
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30.0),
        )
        self._lock = asyncio.Lock()

    @property
    def key_id(self) -> str:
        return self._signer.key_id

    def __repr__(self) -> str:
        return f"KrakenSpotRestClient(base={self._base!r}, key_id={self.key_id!r})"

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # -- public ---------------------------------------------------------------------------
    async def public(self, method: str, params: Mapping[str, str] | None = None) -> Any:
        """GET /0/public/<method>, retried like a read."""

        async def once() -> Any:
            started = time.perf_counter()
            try:
                response = await self._http.get(
                    f"{self._base}/0/public/{method}", params=dict(params or {})
                )
            except httpx.HTTPError as exc:
                self._observe(method, started, "no_answer")
                raise _transport_error(exc, after_send=False) from None
            try:
                result = parse_rest_response(response.status_code, response.content)
            except GatewayError:
                self._observe(method, started, "error")
                raise
            self._observe(method, started, "ok")
            return result

        return await self._retrying(once)

    # -- private --------------------------------------------------------------------------
    async def read(self, method: str, params: Mapping[str, str] | None = None) -> Any:
        """A private call that changes nothing at Kraken (safe to retry)."""

        async def once() -> Any:
            await self.governor.acquire_rest(method)
            return await self._private(method, params or {}, after_send=False, as_json=False)

        return await self._retrying(once)

    async def write(self, method: str, params: Mapping[str, Any], *, as_json: bool = False) -> Any:
        """A private call that may change state at Kraken; sent at most once.

        The caller spends the trading budget (`acquire_trade`) before; REST-counted writes
        (CancelAll, CancelAllOrdersAfter, AccountTransfer) are spent here.
        """
        await self.governor.acquire_rest(method)
        return await self._private(method, params, after_send=True, as_json=as_json)

    async def _private(
        self, method: str, params: Mapping[str, Any], *, after_send: bool, as_json: bool
    ) -> Any:
        path = f"/0/private/{method}"
        async with self._lock:
            nonce = await self._nonces.next_nonce()
            if as_json:
                body, headers = self._signer.signed_json(path, params, nonce)
            else:
                body, headers = self._signer.signed_form(path, params, nonce)
            started = time.perf_counter()
            try:
                with span("kraken.rest " + method):
                    response = await self._http.post(
                        self._base + path, content=body, headers=headers
                    )
            except httpx.HTTPError as exc:
                self._observe(method, started, "no_answer")
                if _never_sent(exc):
                    self.governor.refund_rest(method)  # Kraken never saw it: nothing spent
                raise _transport_error(exc, after_send=after_send) from None
        try:
            result = parse_rest_response(
                response.status_code, response.content, after_send=after_send
            )
        except ResourceExhausted as exc:
            self._observe(method, started, "error")
            if exc.reason is ErrorReason.VENUE_RATE_LIMITED:
                self.governor.observe_venue_rate_limited()
            raise
        except GatewayError:
            self._observe(method, started, "error")
            raise
        self._observe(method, started, "ok")
        return result

    def _observe(self, method: str, started: float, outcome: str) -> None:
        self.telemetry.venue_request(VENUE, method, time.perf_counter() - started, outcome)

    async def _retrying(self, once: Any) -> Any:
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


def _never_sent(exc: httpx.HTTPError) -> bool:
    """Failing to connect proves nothing was sent; anything later does not."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def not_sent(exc: BaseException) -> bool:
    """`exc` (from a REST call) says the request never reached Kraken."""
    return isinstance(exc, Unavailable) and exc.metadata.get("sent") == "false"


def _transport_error(exc: httpx.HTTPError, *, after_send: bool) -> GatewayError:
    """No Kraken answer. Failing to connect proves nothing was sent; anything later does not."""
    kind = type(exc).__name__
    if _never_sent(exc):
        return Unavailable(
            f"Kraken unreachable ({kind})",
            ErrorReason.VENUE_UNAVAILABLE,
            metadata={"retryable": "true", "sent": "false"},
        )
    if after_send:
        return OutcomeUnknown(
            f"no answer from Kraken ({kind}); the outcome is being resolved",
            ErrorReason.VENUE_TIMEOUT
            if isinstance(exc, httpx.TimeoutException)
            else ErrorReason.VENUE_CONNECTION_LOST,
        )
    return Unavailable(
        f"no answer from Kraken ({kind})",
        ErrorReason.VENUE_CONNECTION_LOST,
        metadata={"retryable": "true"},
    )
