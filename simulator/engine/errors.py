"""Kraken's error type and the exact strings the engine produces (wire 1.4).

`KrakenError` is also the one exception the Spot front ends raise, so a front end catches a single
class and writes `err.code` into the envelope.
"""

from __future__ import annotations

__all__ = [
    "CANCEL_REASON_USER",
    "INSUFFICIENT_FUNDS",
    "INVALID_ORDER",
    "POST_ONLY",
    "UNKNOWN_ORDER",
    "KrakenError",
]


class KrakenError(Exception):
    """A request Kraken would refuse; `code` is the wire string, e.g. `EAPI:Invalid nonce`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
POST_ONLY = "EOrder:Post only order"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ORDER = "EOrder:Invalid order"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
VOLUME_MINIMUM = "EGeneral:Invalid arguments:volume minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
PERMISSION_DENIED = "EGeneral:Permission denied"
INDEX_UNAVAILABLE = "EGeneral:Invalid arguments:Index unavailable"

# Reasons carried by cancel/expire events and the REST `reason` field.
CANCEL_REASON_USER = "User requested"
REASON_POST_ONLY = "Post only order"
REASON_IOC = "Order has not been fully filled and has been cancelled"  # IOC/FOK remainder
REASON_STP = "Self trade prevention"
REASON_EXPIRED = "Order expired"
REASON_CANCEL_AFTER = "Dead man's switch"
REASON_INSUFFICIENT = "Insufficient funds"
REASON_EDIT = "Order replaced"
REASON_NO_LIQUIDITY = "No liquidity"
