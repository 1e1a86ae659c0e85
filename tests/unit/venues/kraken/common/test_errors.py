"""The shared Kraken error classifier over a venue's own table."""

from __future__ import annotations

from gateway.core.errors import ErrorReason, OutcomeUnknown, Unavailable, VenueRejected
from gateway.venues.kraken.common.errors import (
    UNKNOWN_ERROR_SPEC,
    classify,
    gateway_error,
    spec,
)

R = ErrorReason
BUSY = spec(Unavailable, R.VENUE_BUSY, retryable=True, ambiguous=True)
REFUSED = spec(VenueRejected, R.INSUFFICIENT_FUNDS)
TABLE = {"EService:Busy": BUSY, "insufficientAvailableFunds": REFUSED}
PREFIXES = (("Token", spec(VenueRejected, R.VENUE_AUTH_FAILED)),)


def test_lookup_order_full_string_then_head_with_detail_then_prefix_then_unknown() -> None:
    assert classify(" insufficientAvailableFunds ", TABLE) == (REFUSED, "")
    assert classify("EService:Busy:try later", TABLE) == (BUSY, "try later")
    assert classify("Token expired", TABLE, PREFIXES)[0].reason is R.VENUE_AUTH_FAILED
    assert classify("Token expired", TABLE) == (UNKNOWN_ERROR_SPEC, "")


def test_gateway_error_keeps_the_venue_text_and_resolves_ambiguity_after_a_send() -> None:
    before = gateway_error(BUSY, "EService:Busy", venue="Kraken Futures", detail="x")
    assert isinstance(before, Unavailable) and before.reason is R.VENUE_BUSY
    assert before.message == "Kraken Futures: EService:Busy"
    assert before.metadata == {"venue_error": "EService:Busy", "detail": "x", "retryable": "true"}
    after = gateway_error(BUSY, "EService:Busy", venue="Kraken Futures", after_send=True)
    assert isinstance(after, OutcomeUnknown) and after.venue_text == "EService:Busy"
    refused = gateway_error(REFUSED, "insufficientAvailableFunds", venue="Kraken", after_send=True)
    assert isinstance(refused, VenueRejected)
