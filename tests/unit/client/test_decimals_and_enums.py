"""Decimal <-> wire strings and the Python enums' mirror of the proto enums."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import pytest

from krakengw.decimals import from_wire, from_wire_or_zero, to_wire
from krakengw.enums import PROTO_ENUMS, ExecType, OrderType, Side, coerce, from_proto, to_proto
from krakengw.v1 import common_pb2, executions_pb2


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("0.00010"), "0.00010"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E-8"), "0.00000001"),
        (5, "5"),
        ("50000.5", "50000.5"),
        (None, ""),
    ],
)
def test_to_wire_writes_fixed_point_strings(value: Decimal | int | str | None, wire: str) -> None:
    assert to_wire(value) == wire


@pytest.mark.parametrize("value", [0.1, True, object()])
def test_to_wire_refuses_floats_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_wire(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "NaN", Decimal("Infinity"), ""])
def test_to_wire_refuses_non_numbers(value: str | Decimal) -> None:
    with pytest.raises(ValueError):
        to_wire(value)


def test_from_wire_is_exact_and_empty_means_unset() -> None:
    assert from_wire("0.1") == Decimal("0.1")
    assert isinstance(from_wire("0.1"), Decimal)
    assert from_wire("") is None
    assert from_wire_or_zero("") == Decimal(0)


@pytest.mark.parametrize("enum_cls", list(PROTO_ENUMS))
def test_python_enums_mirror_the_proto_enums(enum_cls: type[StrEnum]) -> None:
    descriptor, prefix = PROTO_ENUMS[enum_cls]
    proto_names = {v.name.removeprefix(f"{prefix}_") for v in descriptor.values} - {"UNSPECIFIED"}
    assert {m.value for m in enum_cls} == proto_names
    assert all(v.name.startswith(f"{prefix}_") for v in descriptor.values)


def test_enum_conversion_both_ways() -> None:
    assert to_proto(OrderType, "stop-loss-limit") == common_pb2.ORDER_TYPE_STOP_LOSS_LIMIT
    assert to_proto(Side, Side.SELL) == common_pb2.SIDE_SELL
    assert to_proto(Side, None) == common_pb2.SIDE_UNSPECIFIED
    assert from_proto(ExecType, executions_pb2.EXEC_TYPE_PARTIAL_FILL) is ExecType.PARTIAL_FILL
    assert from_proto(ExecType, 0) is None
    assert from_proto(ExecType, 999) is None  # a newer server's value does not break the client
    with pytest.raises(ValueError, match="not a Side"):
        coerce(Side, "long")


@pytest.mark.parametrize("enum_cls", list(PROTO_ENUMS))
def test_every_member_survives_the_round_trip_through_its_number(enum_cls: type[StrEnum]) -> None:
    for member in enum_cls:
        assert from_proto(enum_cls, to_proto(enum_cls, member)) is member
