"""Kraken error strings -> core errors."""

from __future__ import annotations

import pytest

from gateway.core.errors import (
    AlreadyExists,
    ErrorReason,
    GatewayError,
    Internal,
    InvalidArgument,
    OutcomeUnknown,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    VenueRejected,
)
from gateway.venues.kraken.spot.errors import (
    KRAKEN_SPOT_ERROR_TABLE,
    classify_kraken_error,
    kraken_error,
    kraken_errors,
)
from tests.fixtures import kraken_fixture

R = ErrorReason


@pytest.mark.parametrize(
    ("text", "cls", "reason"),
    [
        ("EOrder:Insufficient funds", VenueRejected, R.INSUFFICIENT_FUNDS),
        ("EOrder:Post only order", VenueRejected, R.POST_ONLY_WOULD_TAKE),
        ("EOrder:Unknown order", VenueRejected, R.UNKNOWN_ORDER),
        ("EOrder:Order minimum not met", VenueRejected, R.VENUE_MIN_NOT_MET),
        ("EOrder:Invalid price:Invalid price argument", VenueRejected, R.VENUE_INVALID_PRICE),
        ("EOrder:Reduce only:No position exists", VenueRejected, R.REDUCE_ONLY_VIOLATION),
        ("EOrder:Rate limit exceeded", ResourceExhausted, R.VENUE_RATE_LIMITED),
        ("EAPI:Rate limit exceeded", ResourceExhausted, R.VENUE_RATE_LIMITED),
        ("EGeneral:Temporary lockout", ResourceExhausted, R.VENUE_LOCKOUT),
        ("EAPI:Invalid key", Unauthenticated, R.VENUE_AUTH_FAILED),
        ("EAPI:Invalid nonce", Unauthenticated, R.VENUE_AUTH_FAILED),
        ("EGeneral:Permission denied", PermissionDenied, R.VENUE_PERMISSION_DENIED),
        ("EService:Unavailable", Unavailable, R.VENUE_UNAVAILABLE),
        ("EService:Market in cancel_only mode", Unavailable, R.VENUE_CANCEL_ONLY),
        ("EService:Deadline elapsed", VenueRejected, R.DEADLINE_ELAPSED),
        ("EQuery:Unknown asset pair", InvalidArgument, R.UNKNOWN_SYMBOL),
        ("EGeneral:Unknown method", Internal, R.INTERNAL),
        ("Currency pair not supported XBT/USD", InvalidArgument, R.UNKNOWN_SYMBOL),
        ("EGeneral:Internal error:1234", Unavailable, R.VENUE_UNAVAILABLE),
        (
            "EOrder:Duplicate cl_ord_id",
            AlreadyExists,
            R.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST,
        ),
    ],
)
def test_table(text: str, cls: type[GatewayError], reason: ErrorReason) -> None:
    err = kraken_error(text)
    assert type(err) is cls
    assert err.reason is reason
    assert err.venue_text == text


def test_detail_suffix_kept() -> None:
    err = kraken_error("EGeneral:Invalid arguments:volume")
    assert err.reason is R.VENUE_INVALID_ARGUMENT
    assert err.metadata["detail"] == "volume"
    assert classify_kraken_error("EGeneral:Invalid arguments:Index unavailable")[1] == (
        "Index unavailable"
    )


def test_unknown_string_keeps_venue_text() -> None:
    err = kraken_error("EOrder:Something brand new")
    assert type(err) is VenueRejected
    assert err.reason is R.VENUE_REJECTED_OTHER
    assert err.venue_text == "EOrder:Something brand new"
    assert "Something brand new" in err.message


def test_ambiguous_after_send_is_outcome_unknown() -> None:
    assert isinstance(kraken_error("EGeneral:Internal error", after_send=True), OutcomeUnknown)
    assert isinstance(kraken_error("EDatabase:Internal error", after_send=True), OutcomeUnknown)
    # A definitive refusal stays a rejection even after a send.
    assert isinstance(kraken_error("EOrder:Insufficient funds", after_send=True), VenueRejected)


def test_throttled_retry_after_from_timestamp() -> None:
    err = kraken_error("EService: Throttled: 1700000010", now=lambda: 1700000000.0)
    assert isinstance(err, ResourceExhausted)
    assert err.retry_after == 10


def test_lockout_and_rate_have_retry_after() -> None:
    assert kraken_error("EGeneral:Temporary lockout").retry_after == 900
    assert kraken_error("EAPI:Rate limit exceeded").retry_after is not None


def test_error_array_skips_warnings() -> None:
    err = kraken_errors(["WGeneral:Deprecated", "EOrder:Insufficient funds"])
    assert err.reason is R.INSUFFICIENT_FUNDS
    with pytest.raises(ValueError):
        kraken_errors(["WGeneral:Deprecated"])


def test_ws_failure_fixture() -> None:
    msg = kraken_fixture("ws_add_order_response_failure.json")
    assert kraken_error(msg["error"]).reason is R.INSUFFICIENT_FUNDS


def test_every_wire_table_head_is_known() -> None:
    # A sample of the heads of wire 1.4 must all be in the table (guards accidental deletion).
    heads = ["EGeneral:Invalid arguments", "EOrder:Cancel pending", "ETrade:User Locked"]
    heads += ["EAccount:Invalid permissions", "EFunding:Invalid amount", "EBM:limit exceeded"]
    for head in heads:
        assert head in KRAKEN_SPOT_ERROR_TABLE
