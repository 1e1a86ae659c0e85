"""The report hot path of `convert` (field dicts, name-keyed enum tables, str-based decimals)
builds exactly the messages the plain per-field construction does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from google.protobuf import timestamp_pb2

from gateway.api import convert
from gateway.core import model as m
from gateway.core.errors import ErrorReason
from krakengw.v1 import common_pb2, errors_pb2, executions_pb2, orders_pb2


def _reference(r: m.ExecutionReport) -> executions_pb2.ExecutionReport:
    """Field by field, with the protobuf helpers: the slow, obvious conversion."""

    def ts(value: datetime | None) -> timestamp_pb2.Timestamp | None:
        if value is None:
            return None
        out = timestamp_pb2.Timestamp()
        out.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
        return out

    def d(value: Decimal | None) -> str:
        return "" if value is None else format(value, "f")

    return executions_pb2.ExecutionReport(
        sequence=r.sequence,
        account_sequence=r.account_sequence,
        session_id=r.session_id,
        account=r.account,
        exec_id=r.exec_id,
        exec_type=executions_pb2.ExecType.Value(f"EXEC_TYPE_{r.exec_type.name}"),
        ord_status=orders_pb2.OrdStatus.Value(f"ORD_STATUS_{r.ord_status.name}"),
        client_order_id=r.client_order_id,
        orig_client_order_id=r.orig_client_order_id or "",
        venue_order_id=r.venue_order_id or "",
        instrument=common_pb2.InstrumentId(venue=r.venue, symbol=r.symbol),
        side=common_pb2.Side.Value(f"SIDE_{r.side.name}"),
        order_type=common_pb2.OrderType.Value(f"ORDER_TYPE_{r.order_type.name}"),
        time_in_force=common_pb2.TimeInForce.Value(f"TIME_IN_FORCE_{r.time_in_force.name}"),
        order_qty=d(r.order_qty),
        price=d(r.price),
        stop_price=d(r.stop_price),
        cum_qty=d(r.cum_qty),
        leaves_qty=d(r.leaves_qty),
        avg_px=d(r.avg_px),
        last_qty=d(r.last_qty),
        last_px=d(r.last_px),
        fee=None if r.fee is None else common_pb2.Fee(asset=r.fee.asset, amount=d(r.fee.amount)),
        liquidity=common_pb2.Liquidity.Value(
            f"LIQUIDITY_{r.liquidity.name if r.liquidity else 'UNSPECIFIED'}"
        ),
        reject_reason=None
        if r.reject is None
        else errors_pb2.RejectReason(
            code=errors_pb2.ErrorReason.Value(f"ERROR_REASON_{r.reject.reason.name}"),
            text=r.reject.text,
            venue_text=r.reject.venue_text,
        ),
        venue_time=ts(r.venue_time),
        gateway_time=ts(r.gateway_time),
        poss_resend=r.poss_resend,
        trade_id=r.trade_id or "",
        text=r.text,
    )


def _fill() -> m.ExecutionReport:
    return m.ExecutionReport(
        sequence=7,
        account_sequence=11,
        session_id="s1",
        account="a1",
        exec_id="e-1",
        exec_type=m.ExecType.PARTIAL_FILL,
        ord_status=m.OrdStatus.PARTIALLY_FILLED,
        client_order_id="c-1",
        orig_client_order_id="c-0",
        venue_order_id="V-1",
        venue="kraken",
        symbol="BTC/USD",
        side=m.Side.SELL,
        order_type=m.OrderType.STOP_LOSS_LIMIT,
        time_in_force=m.TimeInForce.IOC,
        order_qty=Decimal("1E+2"),
        price=Decimal("40000.10"),
        stop_price=Decimal("1E-8"),
        cum_qty=Decimal("0.001"),
        leaves_qty=Decimal("99.999"),
        avg_px=Decimal("40000.1"),
        last_qty=Decimal("0.001"),
        last_px=Decimal("40000.1"),
        trade_id="T-1",
        fee=m.Fee(asset="USD", amount=Decimal("-0.0000001")),
        liquidity=m.Liquidity.TAKER,
        text='ünïcode "text"\n',
        venue_time=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        gateway_time=datetime(2026, 1, 2, 5, 4, 5, 999999, tzinfo=timezone(timedelta(hours=2))),
        poss_resend=True,
    )


def _reject() -> m.ExecutionReport:
    return m.ExecutionReport(
        session_id="s1",
        account="a1",
        exec_id="e-2",
        exec_type=m.ExecType.REJECTED,
        ord_status=m.OrdStatus.REJECTED,
        client_order_id="c-2",
        venue="kraken",
        symbol="ETH/USD",
        side=m.Side.BUY,
        order_type=m.OrderType.MARKET,
        time_in_force=m.TimeInForce.GTC,
        order_qty=Decimal("0"),
        reject=m.RejectInfo(reason=ErrorReason.INVALID_FIELD, text="no", venue_text="EGeneral"),
        gateway_time=datetime(1970, 1, 1),  # naive: taken as UTC
    )


@pytest.mark.parametrize("report", [_fill(), _reject()], ids=["fill", "reject"])
def test_execution_report_matches_the_field_by_field_conversion(report: m.ExecutionReport) -> None:
    expected = _reference(report)
    assert convert.execution_report(report) == expected
    response = convert.execution_response(report)
    assert response.WhichOneof("event") == "execution_report"
    assert response == executions_pb2.StreamExecutionsResponse(execution_report=expected)


def test_batch_response_holds_the_same_reports_in_order() -> None:
    reports = [_fill(), _reject(), _fill()]
    response = convert.execution_batch_response(reports)
    assert response.WhichOneof("event") == "execution_reports"
    assert list(response.execution_reports.reports) == [_reference(r) for r in reports]


def test_every_core_enum_member_used_in_reports_has_a_number() -> None:
    for table, core in (
        (convert._EXEC_TYPES, m.ExecType),
        (convert._ORD_STATUSES, m.OrdStatus),
        (convert._SIDES, m.Side),
        (convert._ORDER_TYPES, m.OrderType),
        (convert._TIFS, m.TimeInForce),
        (convert._LIQUIDITIES, m.Liquidity),
    ):
        assert set(table) == {member.name for member in core}


def test_dec_is_plain_notation_for_any_decimal() -> None:
    rng = random.Random(7)
    values = [Decimal(s) for s in ("0", "-0", "0.0", "1E+2", "-1E-8", "1.000", "123E-20")]
    values += [
        Decimal(rng.randint(-(10**15), 10**15)).scaleb(rng.randint(-30, 12)) for _ in range(5000)
    ]
    for value in values:
        assert convert.dec(value) == format(value, "f"), value
