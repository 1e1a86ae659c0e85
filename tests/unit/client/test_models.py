"""Proto -> typed views: Decimals, enums, optional fields and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from krakengw import (
    BookUpdate,
    ExecType,
    ExecutionReport,
    Instrument,
    InstrumentStatus,
    Limits,
    Liquidity,
    Position,
    ProductType,
    Ticker,
)
from krakengw.v1 import (
    accounts_pb2,
    common_pb2,
    errors_pb2,
    executions_pb2,
    instruments_pb2,
    market_data_pb2,
)

BTC_PERP = common_pb2.InstrumentId(venue="krakenfutures", symbol="BTC/USD:USD")
T0 = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


def _ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def test_fill_report_with_fee_liquidity_and_reject_absent() -> None:
    raw = executions_pb2.ExecutionReport(
        sequence=12,
        exec_type=executions_pb2.EXEC_TYPE_PARTIAL_FILL,
        instrument=BTC_PERP,
        last_qty="0.5",
        last_px="65000.1",
        cum_qty="0.5",
        leaves_qty="1.0",
        fee=common_pb2.Fee(asset="USD", amount="0.0001"),
        liquidity=common_pb2.LIQUIDITY_MAKER,
        venue_time=_ts(T0),
    )
    report = ExecutionReport.from_proto(raw)
    assert report.exec_type is ExecType.PARTIAL_FILL
    assert (report.venue, report.symbol) == ("krakenfutures", "BTC/USD:USD")
    assert (report.last_qty, report.last_px) == (Decimal("0.5"), Decimal("65000.1"))
    assert report.fee is not None and report.fee.amount == Decimal("0.0001")
    assert report.liquidity is Liquidity.MAKER
    assert report.reject is None
    assert report.stop_price is None
    assert report.venue_time == T0
    assert report.gateway_time is None
    assert report.raw is raw


def test_rejected_report_names_its_reason() -> None:
    raw = executions_pb2.ExecutionReport(
        exec_type=executions_pb2.EXEC_TYPE_REJECTED,
        reject_reason=errors_pb2.RejectReason(
            code=errors_pb2.ERROR_REASON_INSUFFICIENT_FUNDS,
            text="not enough USD",
            venue_text="EOrder:Insufficient funds",
        ),
    )
    reject = ExecutionReport.from_proto(raw).reject
    assert reject is not None
    assert (reject.reason, reject.venue_text) == ("INSUFFICIENT_FUNDS", "EOrder:Insufficient funds")
    # A reason newer than this client keeps its number instead of failing the report.
    newer = errors_pb2.RejectReason(code=errors_pb2.ErrorReason.ValueType(9999))
    newer_reject = ExecutionReport.from_proto(
        executions_pb2.ExecutionReport(reject_reason=newer)
    ).reject
    assert newer_reject is not None and newer_reject.reason == "9999"


def test_book_ticker_instrument_position_and_limits() -> None:
    book = BookUpdate.from_proto(
        market_data_pb2.StreamBookResponse(
            instrument=BTC_PERP,
            snapshot=True,
            bids=[market_data_pb2.PriceLevel(price="100.5", qty="2")],
            asks=[market_data_pb2.PriceLevel(price="101", qty="0")],
            checksum=123,
            checksum_verified=True,
        )
    )
    assert book.bids[0].price == Decimal("100.5")
    assert book.asks[0].qty == Decimal(0)
    assert book.checksum_verified and book.checksum == 123

    ticker = Ticker.from_proto(market_data_pb2.Ticker(instrument=BTC_PERP, bid="1.1", ask=""))
    assert (ticker.bid, ticker.ask) == (Decimal("1.1"), None)

    instrument = Instrument.from_proto(
        instruments_pb2.Instrument(
            id=BTC_PERP,
            venue_symbol="PF_XBTUSD",
            product_type=instruments_pb2.PRODUCT_TYPE_PERPETUAL,
            tick_size="0.5",
            status=instruments_pb2.INSTRUMENT_STATUS_POST_ONLY,
        )
    )
    assert instrument.product_type is ProductType.PERPETUAL
    assert instrument.status is InstrumentStatus.POST_ONLY
    assert instrument.tick_size == Decimal("0.5")
    assert instrument.min_cost is None

    position = Position.from_proto(accounts_pb2.Position(instrument=BTC_PERP, qty="-3"))
    assert position.qty == Decimal(-3)

    limits = Limits.from_proto(
        accounts_pb2.GetLimitsResponse(
            rate_budgets=[accounts_pb2.RateBudget(name="spot_rest", limit="20", headroom="7.5")],
            risk_limits=accounts_pb2.RiskLimits(max_notional="100000", kill_switch_engaged=True),
            retry_after=Duration(seconds=2),
        )
    )
    assert limits.rate_budgets[0].headroom == Decimal("7.5")
    assert limits.risk_limits.max_notional == Decimal(100000)
    assert limits.risk_limits.kill_switch_engaged
    assert limits.retry_after == timedelta(seconds=2)


def test_report_times_are_what_timestamp_to_datetime_gives() -> None:
    # Before the epoch, at it, with nanoseconds below a microsecond (truncated), at the limits.
    for seconds, nanos in (
        (-86_400 * 365, 999_999_999),
        (0, 0),
        (1_767_225_845, 600_000_999),
        (253_402_300_799, 999_999_999),
        (-62_135_596_800, 0),
    ):
        stamp = Timestamp(seconds=seconds, nanos=nanos)
        raw = executions_pb2.ExecutionReport(venue_time=stamp, gateway_time=stamp)
        report = ExecutionReport.from_proto(raw)
        assert report.venue_time == stamp.ToDatetime(tzinfo=UTC)
        assert report.venue_time is not None and report.venue_time.tzinfo is UTC
        assert report.gateway_time == report.venue_time
