"""Kraken Futures request signing: the REST `Authent` header (wire 8.2) and the WS v1 signed
challenge (wire 9.1).

REST: `Authent = base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce +
endpointPath)))`, where `postData` is the parameter string exactly as sent (URL-encoded; the
query string for GETs, the body for POSTs, their concatenation when both carry parameters),
`nonce` the `Nonce` header (or empty) and `endpointPath` the URL path without the leading
`/derivatives` (`/api/v3/sendorder`; history paths keep `/api/history/...`).

WS: `signed_challenge = base64(HMAC-SHA512(base64decode(secret), SHA256(challenge)))`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from gateway.venues.kraken.common.credentials import KrakenCredentials

DERIVATIVES_PREFIX = "/derivatives"


def futures_endpoint_path(url_path: str) -> str:
    """The signed path: exactly one leading `/derivatives` stripped (as every client does)."""
    if url_path.startswith(DERIVATIVES_PREFIX + "/"):
        return url_path[len(DERIVATIVES_PREFIX) :]
    return url_path


def _hmac_b64(secret: bytes, message: bytes) -> str:
    digest = hashlib.sha256(message).digest()
    return base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()


def kraken_futures_authent(post_data: str, nonce: str, url_path: str, secret: bytes) -> str:
    """The `Authent` header of one request to `url_path` (with or without `/derivatives`)."""
    message = post_data + nonce + futures_endpoint_path(url_path)
    return _hmac_b64(secret, message.encode())


def kraken_futures_sign_challenge(challenge: str, secret: bytes) -> str:
    """The WS v1 `signed_challenge` for the challenge UUID the server sent."""
    return _hmac_b64(secret, challenge.encode())


class KrakenFuturesSigner:
    """Auth headers of private Futures REST calls and the WS challenge answer, for one key."""

    __slots__ = ("_credentials",)

    def __init__(self, credentials: KrakenCredentials) -> None:
        self._credentials = credentials

    @property
    def key_id(self) -> str:
        return self._credentials.key_id

    @property
    def api_key(self) -> str:
        return self._credentials.api_key

    def headers(self, url_path: str, post_data: str, nonce: int | str | None) -> dict[str, str]:
        """`APIKey`, `Authent` and (when given) `Nonce` for one request.

        `post_data` must be the exact parameter text on the wire (query string + body).
        """
        nonce_text = "" if nonce is None else str(nonce)
        authent = kraken_futures_authent(
            post_data, nonce_text, url_path, self._credentials.secret_bytes()
        )
        headers = {"APIKey": self._credentials.api_key, "Authent": authent}
        if nonce_text:
            headers["Nonce"] = nonce_text
        return headers

    def sign_challenge(self, challenge: str) -> str:
        return kraken_futures_sign_challenge(challenge, self._credentials.secret_bytes())

    def __repr__(self) -> str:
        return f"KrakenFuturesSigner(key_id={self.key_id!r})"
