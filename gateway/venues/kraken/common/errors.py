"""The Kraken error classifier shared by Spot and Futures: a `KrakenErrorSpec` per venue error
string (in each venue's own table: `spot/errors.py`, `futures/errors.py`), `classify` to look a
string up, `gateway_error` to build the core error that keeps Kraken's text.

Two flags matter to callers beyond the error class:
- `ambiguous`: after an order-entry send, the venue may still have acted (internal errors), so
  the adapter must resolve by query; `gateway_error(..., after_send=True)` then returns
  `OutcomeUnknown` instead.
- `retryable`: a fresh attempt may succeed (busy, nonce race, expired token).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.core.errors import ErrorReason, GatewayError, OutcomeUnknown, VenueRejected

__all__ = [
    "UNKNOWN_ERROR_SPEC",
    "KrakenErrorSpec",
    "classify",
    "gateway_error",
    "log_feed_handler_failure",
    "spec",
]


@dataclass(frozen=True, slots=True)
class KrakenErrorSpec:
    error_class: type[GatewayError]
    reason: ErrorReason
    retryable: bool = False
    ambiguous: bool = False
    retry_after: float | None = None


def spec(
    cls: type[GatewayError],
    reason: ErrorReason,
    *,
    retryable: bool = False,
    ambiguous: bool = False,
    retry_after: float | None = None,
) -> KrakenErrorSpec:
    return KrakenErrorSpec(cls, reason, retryable, ambiguous, retry_after)


# What an error string in no table becomes: a rejection that keeps Kraken's text.
UNKNOWN_ERROR_SPEC = spec(VenueRejected, ErrorReason.VENUE_REJECTED_OTHER)


def classify(
    text: str,
    table: Mapping[str, KrakenErrorSpec],
    prefixes: Sequence[tuple[str, KrakenErrorSpec]] = (),
) -> tuple[KrakenErrorSpec, str]:
    """The spec for one error string and its detail suffix ('' if none). Tries the full string,
    then its `Category:description` head (the rest is the detail), then `prefixes` in order;
    else `UNKNOWN_ERROR_SPEC`."""
    text = text.strip()
    found = table.get(text)
    if found is not None:
        return found, ""
    category, sep, rest = text.partition(":")
    if sep:
        description, _, detail = rest.partition(":")
        found = table.get(f"{category}:{description}")
        if found is not None:
            return found, detail
    for prefix, prefixed in prefixes:
        if text.startswith(prefix):
            return prefixed, ""
    return UNKNOWN_ERROR_SPEC, ""


def gateway_error(
    found: KrakenErrorSpec,
    text: str,
    *,
    venue: str,
    detail: str = "",
    after_send: bool = False,
) -> GatewayError:
    """The core error for `text` classified as `found`, keeping the text as `venue_text` and
    `venue_error` metadata; `venue` names the venue in the message (e.g. `Kraken Futures`)."""
    text = text.strip()
    metadata = {"venue_error": text}
    if detail:
        metadata["detail"] = detail
    if found.retryable:
        metadata["retryable"] = "true"
    if after_send and found.ambiguous:
        return OutcomeUnknown(
            f"{venue} reported an internal error; the order outcome is being resolved",
            # The core has no "venue internal error" reason yet; VENUE_TIMEOUT is the nearest.
            ErrorReason.VENUE_TIMEOUT,
            metadata=metadata,
            venue_text=text,
        )
    return found.error_class(
        f"{venue}: {text}",
        found.reason,
        metadata=metadata,
        retry_after=found.retry_after,
        venue_text=text,
    )


def log_feed_handler_failure(log: logging.Logger, feed: str, exc: Exception) -> None:
    """A private feed's handler failed on one message (the feed reconnects to re-sync). A
    gateway error (e.g. Kraken's rate limit on a REST read it needed, common in a restart
    storm) is an expected condition: one WARNING line. Anything else is a bug: the traceback."""
    if isinstance(exc, GatewayError):
        log.warning(
            "%s handler could not apply a message (%s: %s); reconnecting to re-sync",
            feed,
            exc.reason.value,
            exc.message,
        )
    else:
        log.error("%s handler failed; reconnecting to re-sync", feed, exc_info=exc)
