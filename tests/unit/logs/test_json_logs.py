"""`--log-format json`: one JSON object per line, UTC timestamps, extras as keys, secrets masked;
the order-event line carries ids and figures of a report and nothing else."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason
from gateway.core.model import (
    ExecType,
    ExecutionReport,
    OrderType,
    OrdStatus,
    RejectInfo,
    Side,
    TimeInForce,
)
from gateway.logging_setup import JsonFormatter, MaskingFormatter
from gateway.observability.order_log import ORDER_LOGGER, log_order_event
from tests.secret_scan import find_leaks

SECRET = "kXq9Zt3-secret-value-of-a-test-key"


def _capture(formatter: logging.Formatter, name: str) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_json_lines_parse_with_utc_time_extras_and_masked_secrets() -> None:
    logger, out = _capture(JsonFormatter([SECRET]), "test.json.basic")
    logger.info("venue ready %s", "now", extra={"account": "a1", "key_id": "kk_0123"})
    logger.warning("oops with %s inside", SECRET)
    try:
        raise ValueError(f"boom {SECRET}")
    except ValueError:
        logger.exception("failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    entries = [json.loads(line) for line in lines]
    first = entries[0]
    assert first["message"] == "venue ready now"
    assert first["level"] == "INFO" and first["logger"] == "test.json.basic"
    assert first["account"] == "a1" and first["key_id"] == "kk_0123"
    assert first["time"].endswith("Z")
    stamp = datetime.fromisoformat(first["time"].replace("Z", "+00:00"))
    assert stamp.tzinfo is not None and stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 600
    assert entries[1]["message"] == "oops with *** inside"
    assert "ValueError: boom ***" in entries[2]["exc"]
    assert SECRET not in out.getvalue()
    assert find_leaks(lines, [SECRET]) == []


def _report(**over: object) -> ExecutionReport:
    base: dict[str, object] = {
        "sequence": 7,
        "account_sequence": 9,
        "session_id": "s1",
        "account": "acct",
        "exec_id": "e-1",
        "exec_type": ExecType.PARTIAL_FILL,
        "ord_status": OrdStatus.PARTIALLY_FILLED,
        "client_order_id": "c-1",
        "venue_order_id": "OABC-1",
        "venue": "kraken",
        "symbol": "BTC/USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "order_qty": Decimal("0.5"),
        "price": Decimal("50000.1"),
        "cum_qty": Decimal("0.2"),
        "last_qty": Decimal("0.2"),
        "last_px": Decimal("50000.1"),
        "gateway_time": datetime.now(UTC),
    }
    base.update(over)
    return ExecutionReport(**base)  # type: ignore[arg-type]


def test_order_event_line_has_ids_and_exact_decimals() -> None:
    _, out = _capture(JsonFormatter(), ORDER_LOGGER)
    log_order_event(_report())
    reject = RejectInfo(reason=ErrorReason.INSUFFICIENT_FUNDS, text="no funds", venue_text="x")
    log_order_event(
        _report(exec_type=ExecType.REJECTED, ord_status=OrdStatus.REJECTED, reject=reject)
    )
    trade, rejected = (json.loads(line) for line in out.getvalue().splitlines())
    assert trade["message"] == "order partial_fill"
    assert trade["client_order_id"] == "c-1" and trade["venue_order_id"] == "OABC-1"
    assert trade["exec_id"] == "e-1" and trade["sequence"] == 7
    assert trade["last_qty"] == "0.2" and trade["price"] == "50000.1"
    assert rejected["reason"] == "INSUFFICIENT_FUNDS"
    assert "venue_text" not in rejected  # the venue's free text stays in the journal


def test_order_event_line_is_skipped_below_info() -> None:
    logger, out = _capture(MaskingFormatter(), ORDER_LOGGER)
    logger.setLevel(logging.WARNING)
    log_order_event(_report())
    assert out.getvalue() == ""
