"""The suite-wide log scan must catch what it claims to catch."""

from __future__ import annotations

import base64
import logging

from tests.conftest import _capture
from tests.secret_scan import find_leaks, known_secrets


def test_known_secret_is_found_and_masked() -> None:
    secret = "s3cr3t-token-value"
    leaks = find_leaks(["connected", f"auth header Bearer {secret} sent"], {secret})
    assert leaks == ["auth header Bearer <secret> sent"]


def test_unregistered_secret_shaped_value_is_found() -> None:
    secret = base64.b64encode(bytes(range(64))).decode()
    assert find_leaks([f"signing with {secret}"], set()) == ["signing with <secret>"]


def test_ordinary_log_lines_pass() -> None:
    lines = ["order OQCLML-BW3P3-BUCMWZ accepted", "key fingerprint ab12cd34", "x" * 200]
    assert find_leaks(lines, known_secrets()) == []


def test_capture_sees_application_log_records() -> None:
    logging.getLogger("gateway.test").info("probe-%s", "line")
    assert "probe-line" in _capture.lines
