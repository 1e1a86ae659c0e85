"""A private feed handler's failure on one message: an expected gateway error (Kraken's rate
limit during a restart storm) is one WARNING line without a traceback; a bug keeps its
traceback at ERROR."""

from __future__ import annotations

import logging

import pytest

from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.venues.kraken.common.errors import log_feed_handler_failure

LOG = logging.getLogger("tests.feed")


def test_a_gateway_error_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    exc = ResourceExhausted("Kraken rate limit", ErrorReason.VENUE_RATE_LIMITED)
    with caplog.at_level(logging.WARNING, logger="tests.feed"):
        log_feed_handler_failure(LOG, "Kraken executions", exc)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "VENUE_RATE_LIMITED" in record.getMessage()
    assert "\n" not in caplog.text.strip()


def test_a_bug_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise KeyError("txid")
    except KeyError as exc:
        with caplog.at_level(logging.WARNING, logger="tests.feed"):
            log_feed_handler_failure(LOG, "Kraken executions", exc)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Traceback" in caplog.text
