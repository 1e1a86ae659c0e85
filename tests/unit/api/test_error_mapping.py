"""The GatewayError -> gRPC status + ErrorInfo table, and the proto <-> core converters."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from google.rpc import error_details_pb2

from gateway.api import convert
from gateway.api.errors import DOMAIN, internal_status, proto_reason, to_rpc_status
from gateway.core import errors as core
from krakengw.v1 import common_pb2, errors_pb2, orders_pb2

CATEGORY_CODES = {
    core.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    core.NotFound: grpc.StatusCode.NOT_FOUND,
    core.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    core.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    core.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    core.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    core.RiskRejected: grpc.StatusCode.FAILED_PRECONDITION,
    core.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    core.VenueRejected: grpc.StatusCode.FAILED_PRECONDITION,
    core.Unavailable: grpc.StatusCode.UNAVAILABLE,
    core.OutcomeUnknown: grpc.StatusCode.DEADLINE_EXCEEDED,
    core.Internal: grpc.StatusCode.INTERNAL,
    core.IllegalTransition: grpc.StatusCode.INTERNAL,
}


@pytest.mark.parametrize(("cls", "code"), list(CATEGORY_CODES.items()))
def test_each_category_has_its_code_and_a_contract_reason(
    cls: type[core.GatewayError], code: grpc.StatusCode
) -> None:
    got, status = to_rpc_status(cls("why", metadata={"field": "price"}))
    assert got is code and status.code == code.value[0] and status.message == "why"
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.domain == DOMAIN
    assert info.reason in set(errors_pb2.ErrorReason.keys())
    assert info.reason != "ERROR_REASON_UNSPECIFIED"
    assert info.metadata["field"] == "price"
    assert info.metadata["gateway_reason"] == cls.default_reason.name


@pytest.mark.parametrize("reason", list(core.ErrorReason)[1:])
def test_every_core_reason_is_in_the_contract_by_name(reason: core.ErrorReason) -> None:
    assert proto_reason(core.InvalidArgument("x", reason)) == f"ERROR_REASON_{reason.name}"


def test_retry_after_becomes_retry_info() -> None:
    _, status = to_rpc_status(core.ResourceExhausted("slow down", retry_after=1.25))
    retry = error_details_pb2.RetryInfo()
    assert status.details[1].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 1250


def test_internal_status_carries_no_exception_text() -> None:
    code, status = internal_status("ref123")
    assert code is grpc.StatusCode.INTERNAL
    assert "ref123" in status.message


def test_order_spec_round_trip_keeps_decimals_exact() -> None:
    spec = orders_pb2.OrderSpec(
        client_order_id="c-1",
        instrument=common_pb2.InstrumentId(venue="kraken", symbol="BTC/USD"),
        side=common_pb2.SIDE_SELL,
        order_type=common_pb2.ORDER_TYPE_STOP_LOSS_LIMIT,
        time_in_force=common_pb2.TIME_IN_FORCE_IOC,
        order_qty="0.00000001",
        price="12345.6",
        stop_price="12000",
        post_only=True,
    )
    request = convert.order_request(spec)
    assert request.qty == Decimal("0.00000001") and request.price == Decimal("12345.6")
    back = convert.order_spec(request)
    assert (back.order_qty, back.price, back.stop_price) == ("0.00000001", "12345.6", "12000")
    assert back.side == spec.side and back.order_type == spec.order_type
    assert back.time_in_force == spec.time_in_force and back.post_only


@pytest.mark.parametrize(
    "text", ["1e-8", "1E5", "Infinity", "nan", "0x10", " 1", "1\n", "1_000", "\u0663"]
)
def test_decimal_strings_must_be_plain(text: str) -> None:
    with pytest.raises(core.InvalidArgument) as err:
        convert.decimal(text, "price")
    assert err.value.reason is core.ErrorReason.INVALID_DECIMAL


def test_outbound_decimals_never_use_exponents() -> None:
    assert convert.dec(Decimal("1E+3")) == "1000"
    assert convert.dec(Decimal("1E-10")) == "0.0000000001"
    assert convert.dec(None) == ""


@pytest.mark.parametrize("value", ["a\n", "a b", "\u00e9t\u00e9", "tab\there"])
def test_client_order_ids_are_printable_ascii(value: str) -> None:
    with pytest.raises(core.InvalidArgument) as err:
        convert.client_order_id(value)
    assert err.value.reason is core.ErrorReason.INVALID_CLIENT_ORDER_ID
