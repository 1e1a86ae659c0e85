"""Kraken API key + secret holder whose repr, str and errors never reveal the secret."""

from __future__ import annotations

import base64
import binascii
import hashlib


class KrakenCredentialsError(ValueError):
    """The secret is not usable; the message never contains the secret itself."""


def _decode_secret(secret_b64: str) -> bytes:
    # Kraken's published futures secret lacks one '=' of padding: decode leniently, as clients do.
    text = secret_b64.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise KrakenCredentialsError("API secret is not valid base64") from None
    if not raw:
        raise KrakenCredentialsError("API secret is empty")
    return raw


class KrakenCredentials:
    """A public API key and its base64 secret (decoded once, kept as bytes).

    `key_id` is a short stable fingerprint of the public key, safe for logs, metrics and as the
    journal's nonce key; the public key itself is also kept out of repr on purpose.
    """

    __slots__ = ("_api_key", "_key_id", "_secret")

    def __init__(self, api_key: str, secret_b64: str) -> None:
        if not api_key or api_key != api_key.strip():
            raise KrakenCredentialsError("API key is empty or has surrounding whitespace")
        self._api_key = api_key
        self._secret = _decode_secret(secret_b64)
        self._key_id = "kk_" + hashlib.sha256(api_key.encode()).hexdigest()[:12]

    @property
    def api_key(self) -> str:
        """The public key, sent verbatim in the `API-Key` / `APIKey` header."""
        return self._api_key

    @property
    def key_id(self) -> str:
        return self._key_id

    def secret_bytes(self) -> bytes:
        """The decoded HMAC key. Call sites: the signers only."""
        return self._secret

    def __repr__(self) -> str:
        return f"KrakenCredentials(key_id={self._key_id!r}, secret=<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KrakenCredentials):
            return NotImplemented
        return self._api_key == other._api_key and self._secret == other._secret

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would copy the secret into whatever store receives it; refuse.
        raise TypeError("KrakenCredentials cannot be pickled")
