"""One INFO line per order event (each committed execution report), on logger `gateway.orders`.

Ids and figures only: session, account, client and venue order ids, exec id, status, symbol,
side, quantities and prices, the reject reason. Nothing of the venue's credentials or the
sessions' tokens is on a report, so nothing secret can reach these lines. Silence them with
the logger's level (`gateway.orders` at WARNING) where the journal already serves as the audit.
"""

from __future__ import annotations

import logging

from gateway.core.model import ExecutionReport

__all__ = ["ORDER_LOGGER", "log_order_event"]

ORDER_LOGGER = "gateway.orders"
_log = logging.getLogger(ORDER_LOGGER)


def log_order_event(report: ExecutionReport) -> None:
    if not _log.isEnabledFor(logging.INFO):
        return
    extra: dict[str, object] = {
        "session_id": report.session_id,
        "account": report.account,
        "sequence": report.sequence,
        "exec_id": report.exec_id,
        "exec_type": report.exec_type.name,
        "ord_status": report.ord_status.name,
        "client_order_id": report.client_order_id,
        "venue_order_id": report.venue_order_id or "",
        "venue": report.venue,
        "symbol": report.symbol,
        "side": report.side.name,
        "order_qty": str(report.order_qty),
        "cum_qty": str(report.cum_qty),
    }
    if report.price is not None:
        extra["price"] = str(report.price)
    if report.last_qty:
        extra["last_qty"] = str(report.last_qty)
        extra["last_px"] = str(report.last_px)
    if report.orig_client_order_id:
        extra["orig_client_order_id"] = report.orig_client_order_id
    if report.reject is not None:
        extra["reason"] = report.reject.reason.name
    _log.info("order %s", report.exec_type.name.lower(), extra=extra)
