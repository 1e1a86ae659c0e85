"""Kraken Spot REST request signing (`API-Sign`, wire section 2.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from gateway.venues.kraken.common.credentials import KrakenCredentials


def kraken_spot_signature(url_path: str, nonce: int | str, body: bytes | str, secret: bytes) -> str:
    """base64(HMAC-SHA512(secret, path + SHA256(nonce + body))) over the exact body bytes sent."""
    raw_body = body.encode() if isinstance(body, str) else body
    inner = hashlib.sha256(str(nonce).encode() + raw_body).digest()
    mac = hmac.new(secret, url_path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def form_body(params: Mapping[str, str], nonce: int) -> str:
    """`application/x-www-form-urlencoded` body, nonce first (as krakenex/ccxt send it)."""
    return urlencode({"nonce": str(nonce), **params})


def json_body(params: Mapping[str, Any], nonce: int) -> str:
    """`application/json` body (AddOrderBatch, CancelOrderBatch); nonce as a string."""
    return json.dumps({"nonce": str(nonce), **params}, separators=(",", ":"))


class KrakenSpotSigner:
    """Builds the auth headers of one private Spot request for one key."""

    __slots__ = ("_credentials",)

    def __init__(self, credentials: KrakenCredentials) -> None:
        self._credentials = credentials

    @property
    def key_id(self) -> str:
        return self._credentials.key_id

    def headers(self, url_path: str, nonce: int | str, body: bytes | str) -> dict[str, str]:
        """`API-Key` and `API-Sign` for a POST to `url_path` (e.g. `/0/private/AddOrder`).

        `body` must be the exact bytes that go on the wire and must contain the same nonce.
        """
        signature = kraken_spot_signature(url_path, nonce, body, self._credentials.secret_bytes())
        return {"API-Key": self._credentials.api_key, "API-Sign": signature}

    def signed_form(
        self, url_path: str, params: Mapping[str, str], nonce: int
    ) -> tuple[bytes, dict[str, str]]:
        """(body bytes, headers incl. Content-Type) of a form-encoded private call."""
        body = form_body(params, nonce).encode()
        headers = self.headers(url_path, nonce, body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return body, headers

    def signed_json(
        self, url_path: str, params: Mapping[str, Any], nonce: int
    ) -> tuple[bytes, dict[str, str]]:
        """(body bytes, headers incl. Content-Type) of a JSON-encoded private call."""
        body = json_body(params, nonce).encode()
        headers = self.headers(url_path, nonce, body)
        headers["Content-Type"] = "application/json"
        return body, headers

    def __repr__(self) -> str:
        return f"KrakenSpotSigner(key_id={self.key_id!r})"
