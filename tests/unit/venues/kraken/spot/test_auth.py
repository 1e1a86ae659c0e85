"""Spot API-Sign (wire 2.3) and the credentials holder."""

from __future__ import annotations

import pickle

import pytest

from gateway.venues.kraken.common.credentials import KrakenCredentials, KrakenCredentialsError
from gateway.venues.kraken.spot.auth import KrakenSpotSigner, kraken_spot_signature

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = "1616492376594"
PATH = "/0/private/AddOrder"
FORM_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"


def test_official_vector() -> None:
    creds = KrakenCredentials("public-key", SECRET)
    expected = (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    )
    assert kraken_spot_signature(PATH, NONCE, FORM_BODY, creds.secret_bytes()) == expected
    headers = KrakenSpotSigner(creds).headers(PATH, int(NONCE), FORM_BODY.encode())
    assert headers == {"API-Key": "public-key", "API-Sign": expected}


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            PATH,
            '{"nonce":"1616492376594","ordertype":"limit","pair":"XBTUSD","price":"37500",'
            '"type":"buy","volume":"1.25"}',
            "r/o+GpKxXjV/mls/r5CKLu5R+yzK5psqvQ4hXxMX1nzdxTBhV+ui82QGgPZMMitpFwCOAdPEZMmXgZxD2chJEg==",
        ),
        (
            "/0/private/GetWebSocketsToken",
            "nonce=1616492376594",
            "+mRDmY9Ks0Moc1zjv/BjfvYa98buO0x1yHChZR5onlfAzAUbfIYlLggUZzdQ0RsmXm4Sh+Q8iAIZdo2wSeHeiA==",
        ),
    ],
)
def test_self_derived_vectors(path: str, body: str, expected: str) -> None:
    creds = KrakenCredentials("k", SECRET)
    assert kraken_spot_signature(path, NONCE, body, creds.secret_bytes()) == expected


def test_signature_covers_body_and_path() -> None:
    secret = KrakenCredentials("k", SECRET).secret_bytes()
    base = kraken_spot_signature(PATH, NONCE, FORM_BODY, secret)
    assert kraken_spot_signature(PATH, NONCE, FORM_BODY + "&x=1", secret) != base
    assert kraken_spot_signature("/0/private/CancelOrder", NONCE, FORM_BODY, secret) != base


def test_secret_never_printed() -> None:
    creds = KrakenCredentials("my-public-key", SECRET)
    for text in (repr(creds), str(creds), repr(KrakenSpotSigner(creds)), f"{creds}"):
        assert SECRET not in text
        assert SECRET[:16] not in text
        assert "my-public-key" not in text
        assert creds.key_id in text
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_bad_secret_error_hides_it() -> None:
    bad = "not*base64*" + SECRET[:20]
    with pytest.raises(KrakenCredentialsError) as info:
        KrakenCredentials("k", bad)
    assert bad not in str(info.value)
    assert SECRET[:20] not in str(info.value)
    assert info.value.__cause__ is None


def test_unpadded_secret_accepted() -> None:
    unpadded = SECRET.rstrip("=")
    assert (
        KrakenCredentials("k", unpadded).secret_bytes()
        == KrakenCredentials("k", SECRET).secret_bytes()
    )


def test_key_id_is_stable_and_distinct() -> None:
    assert KrakenCredentials("a", SECRET).key_id == KrakenCredentials("a", SECRET).key_id
    assert KrakenCredentials("a", SECRET).key_id != KrakenCredentials("b", SECRET).key_id


def test_signed_form_reproduces_the_official_vector() -> None:
    signer = KrakenSpotSigner(KrakenCredentials("k", SECRET))
    params = {"ordertype": "limit", "pair": "XBTUSD", "price": "37500", "type": "buy",
              "volume": "1.25"}  # fmt: skip
    body, headers = signer.signed_form(PATH, params, int(NONCE))
    assert body.decode() == FORM_BODY
    assert headers["API-Sign"].startswith("4/dpxb3iT4tp/")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    body, headers = signer.signed_json(PATH, params, int(NONCE))
    assert headers["API-Sign"].startswith("r/o+GpKxXjV/")  # wire 2.3 self-derived JSON vector
    assert headers["Content-Type"] == "application/json"
