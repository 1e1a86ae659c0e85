"""Futures REST Authent (wire 8.2) and WS v1 signed challenge (wire 9.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gateway.venues.kraken.common.credentials import KrakenCredentials
from gateway.venues.kraken.futures.auth import (
    KrakenFuturesSigner,
    futures_endpoint_path,
    kraken_futures_authent,
    kraken_futures_sign_challenge,
)

# Kraken's published Futures REST secret lacks one '=' of padding; decoded leniently.
DOC_SECRET = (
    "rttp4AzwRfYEdQ7R7X8Z/04Y4TZPa97pqCypi3xXxAqftygftnI6H9yGV+OcUOOJeFtZkr8mVwbAndU3Kz4Q+eG"
)
NO_NONCE_AUTHENT = (
    "BGOdiF//YXbOtKUkyFFRqKAft7gai33YfScxFrXMdMHGUJ6wSaMA6y0p6UzfYzj5Flgvv+SFQe53h2KrEe37Ng=="
)
PKS_SECRET = base64.b64encode(b"python-kraken-sdk unit-test secret value").decode()


def _secret(b64: str) -> bytes:
    return KrakenCredentials("k", b64).secret_bytes()


@pytest.mark.parametrize(
    ("post_data", "nonce", "path", "secret", "expected"),
    [
        (  # doc inputs, with nonce (matches independent third-party suites)
            "symbol=fi_xbtusd_180615",
            "1415957147987",
            "/derivatives/api/v3/orderbook",
            DOC_SECRET,
            "DqUyz8Wh/72af7dimSXHw91IFxrAriTgVodyg2s67PU2mVStwLDQak+uIoCtfb43XONq0xVAp+vm5dqnhFAB1Q==",
        ),
        (  # doc inputs, no nonce
            "symbol=fi_xbtusd_180615",
            "",
            "/derivatives/api/v3/orderbook",
            DOC_SECRET,
            "BGOdiF//YXbOtKUkyFFRqKAft7gai33YfScxFrXMdMHGUJ6wSaMA6y0p6UzfYzj5Flgvv+SFQe53h2KrEe37Ng==",
        ),
        (  # python-kraken-sdk golden test
            "orderType=lmt&symbol=PI_XBTUSD",
            "1616492376594",
            "/api/v3/sendorder",
            PKS_SECRET,
            "Txi+gJVXe3EN1brXYQ46FuV6UVtEVSKhc6dYMhPb7a/HXZLGvO6m9UUg+KVKqhLxrbllOPI7qRkHYmPfJZZSGA==",
        ),
    ],
)
def test_verified_vectors(
    post_data: str, nonce: str, path: str, secret: str, expected: str
) -> None:
    assert kraken_futures_authent(post_data, nonce, path, _secret(secret)) == expected


def test_matches_documented_algorithm_step_by_step() -> None:
    secret = _secret(DOC_SECRET)
    post = "orderType=lmt&symbol=PI_XBTUSD&side=buy&size=1&limitPrice=9400"
    nonce = "1415957147987"
    digest = hashlib.sha256((post + nonce + "/api/v3/sendorder").encode()).digest()
    expected = base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()
    got = kraken_futures_authent(post, nonce, "/derivatives/api/v3/sendorder", secret)
    assert got == expected
    # the self-derived regression vector of wire 8.2
    assert got == (
        "9jU8VaIi5I80/hLESQwzNO/Mnn7QYH+ofIallnTi2uHmAG9ipWUi+9vPQ4R7+dxpye8vUheh1FWqJHkZazgMFA=="
    )


@pytest.mark.parametrize(
    ("url_path", "signed"),
    [
        ("/derivatives/api/v3/sendorder", "/api/v3/sendorder"),
        ("/api/v3/sendorder", "/api/v3/sendorder"),
        ("/api/history/v2/executions", "/api/history/v2/executions"),
        ("/derivatives/derivatives/api/v3/x", "/derivatives/api/v3/x"),  # exactly one prefix
        ("/derivativesX/api", "/derivativesX/api"),
    ],
)
def test_endpoint_path_rule(url_path: str, signed: str) -> None:
    assert futures_endpoint_path(url_path) == signed


def test_official_ws_challenge_vector() -> None:
    secret = _secret(
        "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm"
    )
    assert kraken_futures_sign_challenge("c100b894-1729-464d-ace1-52dbce11db42", secret) == (
        "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="
    )


def test_signer_headers_and_repr_keep_secret_out() -> None:
    signer = KrakenFuturesSigner(KrakenCredentials("pub", DOC_SECRET))
    headers = signer.headers("/derivatives/api/v3/orderbook", "symbol=fi_xbtusd_180615", None)
    assert headers == {"APIKey": "pub", "Authent": NO_NONCE_AUTHENT}
    with_nonce = signer.headers("/api/v3/orderbook", "symbol=fi_xbtusd_180615", 1415957147987)
    assert with_nonce["Nonce"] == "1415957147987"
    assert with_nonce["Authent"].startswith("DqUyz8Wh")
    assert DOC_SECRET not in repr(signer) and "pub" not in repr(signer)
