"""The Authent vectors of wire 8.2 and the WS challenge vector of wire 9.1 verify."""

from __future__ import annotations

import base64

import pytest

from simulator.futures.auth import (
    KrakenFuturesNonceError,
    KrakenFuturesNonceWindow,
    compute_authent,
    compute_ws_signed_challenge,
    decode_secret,
    signing_path,
    verify_authent,
)

DOC_SECRET = (
    "rttp4AzwRfYEdQ7R7X8Z/04Y4TZPa97pqCypi3xXxAqftygftnI6H9yGV+OcUOOJeFtZkr8mVwbAndU3Kz4Q+eG"
)
PKS_SECRET = base64.b64encode(b"python-kraken-sdk unit-test secret value").decode()

VECTORS = [
    (
        "symbol=fi_xbtusd_180615",
        "1415957147987",
        "/api/v3/orderbook",
        DOC_SECRET,
        "DqUyz8Wh/72af7dimSXHw91IFxrAriTgVodyg2s67PU2mVStwLDQak+uIoCtfb43XONq0xVAp+vm5dqnhFAB1Q==",
    ),
    (
        "symbol=fi_xbtusd_180615",
        "",
        "/api/v3/orderbook",
        DOC_SECRET,
        "BGOdiF//YXbOtKUkyFFRqKAft7gai33YfScxFrXMdMHGUJ6wSaMA6y0p6UzfYzj5Flgvv+SFQe53h2KrEe37Ng==",
    ),
    (
        "orderType=lmt&symbol=PI_XBTUSD",
        "1616492376594",
        "/api/v3/sendorder",
        PKS_SECRET,
        "Txi+gJVXe3EN1brXYQ46FuV6UVtEVSKhc6dYMhPb7a/HXZLGvO6m9UUg+KVKqhLxrbllOPI7qRkHYmPfJZZSGA==",
    ),
    (
        "orderType=lmt&symbol=PI_XBTUSD&side=buy&size=1&limitPrice=9400",
        "1415957147987",
        "/api/v3/sendorder",
        DOC_SECRET,
        "9jU8VaIi5I80/hLESQwzNO/Mnn7QYH+ofIallnTi2uHmAG9ipWUi+9vPQ4R7+dxpye8vUheh1FWqJHkZazgMFA==",
    ),
]


@pytest.mark.parametrize(("post_data", "nonce", "path", "secret", "expected"), VECTORS)
def test_wire_8_2_vectors(
    post_data: str, nonce: str, path: str, secret: str, expected: str
) -> None:
    key = decode_secret(secret)
    assert compute_authent(key, post_data, nonce, path) == expected
    # The verifier sees the full URL path and finds the query-string reading.
    assert verify_authent(key, expected, post_data, "", nonce, "/derivatives" + path)
    assert verify_authent(key, expected, "", post_data, nonce, "/derivatives" + path)
    assert not verify_authent(key, expected, post_data, "", nonce + "1", "/derivatives" + path)


def test_ws_challenge_vector() -> None:
    secret = decode_secret(
        "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm"
    )
    assert compute_ws_signed_challenge(secret, "c100b894-1729-464d-ace1-52dbce11db42") == (
        "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="
    )


def test_signing_path_strips_only_derivatives() -> None:
    assert signing_path("/derivatives/api/v3/sendorder") == "/api/v3/sendorder"
    assert signing_path("/api/history/v2/orders") == "/api/history/v2/orders"


def test_query_plus_body_and_decoded_forms_verify() -> None:
    key = decode_secret(PKS_SECRET)
    both = compute_authent(key, "a=1" + "cliOrdId=x%2Fy", "", "/api/v3/sendorder")
    assert verify_authent(key, both, "a=1", "cliOrdId=x%2Fy", "", "/derivatives/api/v3/sendorder")
    decoded = compute_authent(key, "cliOrdId=x/y", "", "/api/v3/sendorder")
    assert verify_authent(key, decoded, "cliOrdId=x%2Fy", "", "", "/derivatives/api/v3/sendorder")


def test_nonce_window() -> None:
    window = KrakenFuturesNonceWindow(size=3)
    for n in ("10", "12", "11"):
        window.accept(n)
    with pytest.raises(KrakenFuturesNonceError) as dup:
        window.accept("12")
    assert dup.value.code == "nonceDuplicate"
    window.accept("13")  # window now 11, 12, 13
    with pytest.raises(KrakenFuturesNonceError) as low:
        window.accept("5")
    assert low.value.code == "nonceBelowThreshold"
