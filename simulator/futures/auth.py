"""Kraken Futures REST `Authent` verification and the optional `Nonce` header (wire 8.2).

Authent = base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath))),
where endpointPath is the URL path without the `/derivatives` prefix. Clients disagree on what
postData is (query string, form body, both concatenated, URL-encoded or decoded), so the verifier
accepts any of those candidate strings; each is a string the client could legitimately have signed.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

_DERIVATIVES_PREFIX = "/derivatives"


def decode_secret(secret_b64: str) -> bytes:
    """Base64-decode a Futures API secret, tolerating missing padding (the docs' own secret)."""
    padded = secret_b64 + "=" * (-len(secret_b64) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise ValueError("API secret is not base64") from exc


def signing_path(url_path: str) -> str:
    """The endpointPath clients hash: the URL path with exactly `/derivatives` stripped."""
    if url_path.startswith(_DERIVATIVES_PREFIX + "/"):
        return url_path[len(_DERIVATIVES_PREFIX) :]
    return url_path


def compute_authent(secret: bytes, post_data: str, nonce: str, endpoint_path: str) -> str:
    """The Authent header a client sends for these inputs."""
    digest = hashlib.sha256((post_data + nonce + endpoint_path).encode()).digest()
    return base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()


def compute_ws_signed_challenge(secret: bytes, challenge: str) -> str:
    """WS v1 `signed_challenge`: the same HMAC construction over SHA256(challenge) (wire 9.1)."""
    digest = hashlib.sha256(challenge.encode()).digest()
    return base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()


def post_data_candidates(query: str, body: str) -> list[str]:
    """Every postData string a well-behaved client may have hashed for this request.

    CCXT signs the query string (or the raw `json=` body of batchorder), PKS signs query + body,
    form-body clients sign the body, and pre-2024 clients signed the URL-decoded form.
    """
    raw = [query, body, query + body]
    if query and body:
        raw.append(query + "&" + body)
    out: list[str] = []
    for item in raw:
        for variant in (item, unquote_plus(item)):
            if variant not in out:
                out.append(variant)
    return out


def verify_authent(
    secret: bytes, authent: str, query: str, body: str, nonce: str, url_path: str
) -> bool:
    """True when `authent` matches one of the legitimate postData readings of this request."""
    path = signing_path(url_path)
    ok = False
    for candidate in post_data_candidates(query, body):
        # No early exit: every candidate is compared so timing does not reveal which matched.
        ok |= hmac.compare_digest(compute_authent(secret, candidate, nonce, path), authent)
    return ok


class KrakenFuturesNonceError(Exception):
    """A Nonce header that Kraken would refuse; `code` is the wire error string."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class KrakenFuturesNonceWindow:
    """Per-key nonce memory: out-of-order nonces are tolerated within the last `size` accepted.

    Kraken "tolerates nonces that are out of order for a brief period"; the window here is counted
    in requests, which keeps the simulator deterministic under an injected clock.
    """

    size: int = 100
    _recent: list[int] = field(default_factory=list)

    def accept(self, nonce: str) -> None:
        """Record `nonce` or raise `nonceDuplicate` / `nonceBelowThreshold`."""
        try:
            value = int(nonce)
        except ValueError:
            raise KrakenFuturesNonceError("nonceBelowThreshold") from None
        pos = bisect.bisect_left(self._recent, value)
        if pos < len(self._recent) and self._recent[pos] == value:
            raise KrakenFuturesNonceError("nonceDuplicate")
        if len(self._recent) >= self.size and pos == 0:
            raise KrakenFuturesNonceError("nonceBelowThreshold")
        self._recent.insert(pos, value)
        if len(self._recent) > self.size:
            del self._recent[0]
