"""API-Sign verification (wire 2.3 vectors) and the per-key nonce rules."""

from __future__ import annotations

import pytest

from simulator.accounts import (
    KEY_PERMISSIONS,
    KrakenAccount,
    KrakenAccounts,
    KrakenApiKey,
    KrakenTier,
)
from simulator.engine.errors import KrakenError
from simulator.spot.auth import NonceTracker, SpotAuthenticator, parse_nonce, spot_signature
from simulator.spot.limits import AuthLockout

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = "1616492376594"
FORM = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
OFFICIAL = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_official_vector() -> None:
    assert spot_signature(SECRET, "/0/private/AddOrder", NONCE, FORM) == OFFICIAL


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "/0/private/AddOrder",
            b'{"nonce":"1616492376594","ordertype":"limit","pair":"XBTUSD","price":"37500",'
            b'"type":"buy","volume":"1.25"}',
            "r/o+GpKxXjV/mls/r5CKLu5R+yzK5psqvQ4hXxMX1nzdxTBhV+ui82QGgPZMMitpFwCOAdPEZMmXgZxD2chJEg==",
        ),
        (
            "/0/private/GetWebSocketsToken",
            b"nonce=1616492376594",
            "+mRDmY9Ks0Moc1zjv/BjfvYa98buO0x1yHChZR5onlfAzAUbfIYlLggUZzdQ0RsmXm4Sh+Q8iAIZdo2wSeHeiA==",
        ),
    ],
)
def test_self_derived_vectors(path: str, body: bytes, expected: str) -> None:
    assert spot_signature(SECRET, path, NONCE, body) == expected


def _authenticator(window: int = 0) -> SpotAuthenticator:
    account = KrakenAccount("AA1", "a", KrakenTier.PRO)
    key = KrakenApiKey("k1", SECRET, "AA1", KEY_PERMISSIONS, nonce_window=window)
    return SpotAuthenticator(KrakenAccounts([account], [key]), AuthLockout(threshold=3))


def _auth(auth: SpotAuthenticator, body: bytes, nonce: str, sign: str, now: float = 0) -> str:
    try:
        auth.authenticate(
            path="/0/private/AddOrder", api_key="k1", api_sign=sign, nonce=nonce, body=body, now=now
        )
    except KrakenError as exc:
        return exc.code
    return "ok"


def test_official_request_verifies_and_tampering_fails() -> None:
    auth = _authenticator()
    assert _auth(auth, FORM.replace(b"1.25", b"1.26"), NONCE, OFFICIAL) == "EAPI:Invalid signature"
    assert _auth(auth, FORM, NONCE, OFFICIAL) == "ok"
    assert _auth(auth, FORM, NONCE, OFFICIAL) == "EAPI:Invalid nonce"


def test_garbage_signature_and_missing_nonce() -> None:
    auth = _authenticator()
    assert _auth(auth, FORM, NONCE, "not base64!") == "EAPI:Invalid signature"
    assert _auth(auth, b"pair=XBTUSD", "", OFFICIAL) == "EAPI:Invalid nonce"


def test_lockout_after_threshold_failures_then_expiry() -> None:
    auth = _authenticator()
    for _ in range(3):
        assert _auth(auth, FORM, NONCE, "A" * 88) == "EAPI:Invalid signature"
    assert _auth(auth, FORM, NONCE, OFFICIAL, now=1) == "EGeneral:Temporary lockout"
    assert _auth(auth, FORM, NONCE, OFFICIAL, now=901) == "ok"


def test_nonce_strictly_increasing_without_window() -> None:
    tracker = NonceTracker()
    assert tracker.check_and_record("k", 10, 0)
    assert not tracker.check_and_record("k", 10, 0)
    assert not tracker.check_and_record("k", 9, 0)
    assert tracker.check_and_record("k", 11, 0)
    assert tracker.check_and_record("other", 1, 0)


def test_nonce_window_tolerates_out_of_order_once() -> None:
    tracker = NonceTracker()
    assert tracker.check_and_record("k", 1000, 100)
    assert tracker.check_and_record("k", 1050, 100)
    assert tracker.check_and_record("k", 1020, 100)  # late but inside the window
    assert not tracker.check_and_record("k", 1020, 100)  # still only once
    assert not tracker.check_and_record("k", 1000, 100)  # already used
    assert not tracker.check_and_record("k", 950, 100)  # outside the window
    assert tracker.last("k") == 1050


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("1616492376594", 1616492376594),
        (1695828490, 1695828490),
        ("", None),
        ("-1", None),
        (True, None),
        ("1e5", None),
        (None, None),
        (2**70, 2**70),
    ],
)
def test_parse_nonce(raw: object, parsed: int | None) -> None:
    assert parse_nonce(raw) == parsed
