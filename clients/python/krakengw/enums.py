"""Python enums mirroring the contract's proto enums (member name = proto value name without
its `<ENUM>_` prefix), and their conversion to and from proto numbers.

Inputs accept a member or its name in any case, with "-" or "_" ("stop-loss-limit").
"""

from __future__ import annotations

from enum import StrEnum
from types import ModuleType
from typing import Any, TypeVar

from google.protobuf.descriptor import EnumDescriptor

from krakengw.v1 import (
    accounts_pb2,
    common_pb2,
    executions_pb2,
    instruments_pb2,
    orders_pb2,
    sessions_pb2,
)

__all__ = [
    "ExecType",
    "FeeCurrency",
    "InstrumentStatus",
    "Liquidity",
    "OffsetUnit",
    "OrdStatus",
    "OrderType",
    "Permission",
    "ProductType",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "TransferStatus",
    "TriggerReference",
    "coerce",
    "from_proto",
    "to_proto",
]


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"
    TRAILING_STOP_LIMIT = "TRAILING_STOP_LIMIT"
    ICEBERG = "ICEBERG"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"
    FOK = "FOK"


class TriggerReference(StrEnum):
    LAST = "LAST"
    INDEX = "INDEX"
    MARK = "MARK"


class OffsetUnit(StrEnum):
    ABSOLUTE = "ABSOLUTE"
    PERCENT = "PERCENT"


class SelfTradePrevention(StrEnum):
    CANCEL_NEWEST = "CANCEL_NEWEST"
    CANCEL_OLDEST = "CANCEL_OLDEST"
    CANCEL_BOTH = "CANCEL_BOTH"


class FeeCurrency(StrEnum):
    BASE = "BASE"
    QUOTE = "QUOTE"


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class OrdStatus(StrEnum):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    VALIDATED = "VALIDATED"


class ExecType(StrEnum):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"
    RESTATED = "RESTATED"
    ORDER_STATUS = "ORDER_STATUS"


class ProductType(StrEnum):
    SPOT = "SPOT"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"


class InstrumentStatus(StrEnum):
    ONLINE = "ONLINE"
    CANCEL_ONLY = "CANCEL_ONLY"
    POST_ONLY = "POST_ONLY"
    LIMIT_ONLY = "LIMIT_ONLY"
    REDUCE_ONLY = "REDUCE_ONLY"
    MAINTENANCE = "MAINTENANCE"
    DELISTED = "DELISTED"


class Permission(StrEnum):
    READ = "READ"
    TRADE = "TRADE"
    CANCEL_ONLY = "CANCEL_ONLY"
    TRANSFER = "TRANSFER"
    DROP_COPY = "DROP_COPY"


class TransferStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


E = TypeVar("E", bound=StrEnum)


def _upper_snake(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name)).upper()


def _twins(module: ModuleType, *classes: type[StrEnum]) -> dict[type[StrEnum], _Twin]:
    # Python and proto enums share their names; proto values carry the UPPER_SNAKE prefix.
    return {
        cls: (module.DESCRIPTOR.enum_types_by_name[cls.__name__], _upper_snake(cls.__name__))
        for cls in classes
    }


_Twin = tuple[EnumDescriptor, str]

# Each Python enum's proto twin and the prefix its value names carry.
PROTO_ENUMS: dict[type[StrEnum], _Twin] = {
    **_twins(
        common_pb2,
        Side,
        OrderType,
        TimeInForce,
        TriggerReference,
        OffsetUnit,
        SelfTradePrevention,
        FeeCurrency,
        Liquidity,
    ),
    **_twins(orders_pb2, OrdStatus),
    **_twins(executions_pb2, ExecType),
    **_twins(instruments_pb2, ProductType, InstrumentStatus),
    **_twins(sessions_pb2, Permission),
    **_twins(accounts_pb2, TransferStatus),
}


def coerce(enum_cls: type[E], value: E | str) -> E:
    """`value` as a member of `enum_cls`; names are matched case-insensitively, "-" as "_"."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(str(value).strip().upper().replace("-", "_"))
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValueError(f"{value!r} is not a {enum_cls.__name__} ({allowed})") from None


def to_proto(enum_cls: type[E], value: E | str | None) -> Any:
    """The proto number of `value` (0 = UNSPECIFIED for None).

    Typed Any because each proto enum's ValueType is its own NewType of int.
    """
    if value is None:
        return 0
    descriptor, prefix = PROTO_ENUMS[enum_cls]
    return descriptor.values_by_name[f"{prefix}_{coerce(enum_cls, value).value}"].number


def _members_by_number(enum_cls: type[StrEnum]) -> dict[int, StrEnum]:
    descriptor, prefix = PROTO_ENUMS[enum_cls]
    members: dict[int, StrEnum] = {}
    for value in descriptor.values:
        short = value.name.removeprefix(f"{prefix}_")
        if short != "UNSPECIFIED":
            members[value.number] = enum_cls(short)
    return members


# Proto number -> member, per enum, built once: every report of a stream converts six enums,
# and a dict lookup is ~10x cheaper than finding the value name and constructing the member.
_BY_NUMBER: dict[type[StrEnum], dict[int, StrEnum]] = {
    cls: _members_by_number(cls) for cls in PROTO_ENUMS
}


def from_proto(enum_cls: type[E], number: int) -> E | None:
    """The member for a proto number; None for UNSPECIFIED and for numbers this client does
    not know yet (a newer server), so old clients keep working."""
    return _BY_NUMBER[enum_cls].get(number)  # type: ignore[return-value]
