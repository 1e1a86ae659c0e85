"""The one rooted error tree of the gateway.

Every refusal the gateway reports is a `GatewayError`. The API layer maps each category (direct
subclass) 1:1 to a gRPC status code and puts `reason` into a google.rpc `ErrorInfo` (the proto
`ErrorReason` enum has the same member names, prefixed `ERROR_REASON_`).

    GatewayError
    ├── InvalidArgument        bad input, caught before any venue call        INVALID_ARGUMENT
    ├── NotFound               unknown order / fill / subaccount               NOT_FOUND
    ├── AlreadyExists          session active, key leased, client id reused     ALREADY_EXISTS
    ├── PermissionDenied       the session lacks a permission                  PERMISSION_DENIED
    ├── Unauthenticated        missing or unknown bearer token                 UNAUTHENTICATED
    ├── FailedPrecondition     kill switch on, order not amendable/cancelable  FAILED_PRECONDITION
    │   └── RiskRejected       a pre-trade risk limit would be breached        FAILED_PRECONDITION
    ├── ResourceExhausted      rate budget spent (carries retry_after)         RESOURCE_EXHAUSTED
    ├── VenueRejected          the venue refused, definitively (venue_text)    FAILED_PRECONDITION*
    ├── Unavailable            the venue is down, in maintenance, cancel-only  UNAVAILABLE
    ├── OutcomeUnknown         sent, but no definitive answer (timeout, 5xx)   DEADLINE_EXCEEDED*
    └── Internal               a bug or a broken invariant                     INTERNAL
        └── IllegalTransition  the order state machine refused a transition

    (*) suggested; the API layer owns the mapping table.

Messages are for humans and never contain secrets, tokens or signatures. `metadata` carries
machine-readable detail (field names, limits), string to string, as ErrorInfo.metadata does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class ErrorReason(enum.Enum):
    """Why a request was refused. Proto mirror: `ErrorReason` with prefix `ERROR_REASON_`."""

    UNSPECIFIED = "UNSPECIFIED"
    # InvalidArgument
    INVALID_DECIMAL = "INVALID_DECIMAL"
    NON_POSITIVE_QUANTITY = "NON_POSITIVE_QUANTITY"
    NON_POSITIVE_PRICE = "NON_POSITIVE_PRICE"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    UNKNOWN_ASSET = "UNKNOWN_ASSET"
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    QTY_OFF_LOT = "QTY_OFF_LOT"
    BELOW_MIN_QTY = "BELOW_MIN_QTY"
    BELOW_MIN_COST = "BELOW_MIN_COST"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_FIELD = "INVALID_FIELD"
    UNSUPPORTED_ORDER_TYPE = "UNSUPPORTED_ORDER_TYPE"
    INVALID_CLIENT_ORDER_ID = "INVALID_CLIENT_ORDER_ID"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"  # noqa: S105 (a pagination cursor)
    # NotFound
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    SUBACCOUNT_NOT_FOUND = "SUBACCOUNT_NOT_FOUND"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    # AlreadyExists
    SESSION_ALREADY_ACTIVE = "SESSION_ALREADY_ACTIVE"
    KEY_LEASED = "KEY_LEASED"
    DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST = "DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST"
    # PermissionDenied
    PERMISSION_DENIED_READ = "PERMISSION_DENIED_READ"
    PERMISSION_DENIED_TRADE = "PERMISSION_DENIED_TRADE"
    PERMISSION_DENIED_CANCEL = "PERMISSION_DENIED_CANCEL"
    PERMISSION_DENIED_TRANSFER = "PERMISSION_DENIED_TRANSFER"
    PERMISSION_DENIED_DROP_COPY = "PERMISSION_DENIED_DROP_COPY"
    VENUE_PERMISSION_DENIED = "VENUE_PERMISSION_DENIED"
    # Unauthenticated
    UNAUTHENTICATED = "UNAUTHENTICATED"
    VENUE_AUTH_FAILED = "VENUE_AUTH_FAILED"
    # FailedPrecondition
    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    ORDER_NOT_AMENDABLE = "ORDER_NOT_AMENDABLE"
    ORDER_NOT_CANCELABLE = "ORDER_NOT_CANCELABLE"
    ORDER_PENDING = "ORDER_PENDING"
    INSTRUMENT_NOT_TRADING = "INSTRUMENT_NOT_TRADING"
    RECONCILING = "RECONCILING"
    # RiskRejected
    RISK_MAX_ORDER_QTY = "RISK_MAX_ORDER_QTY"
    RISK_MAX_NOTIONAL = "RISK_MAX_NOTIONAL"
    RISK_PRICE_BAND = "RISK_PRICE_BAND"
    RISK_MAX_OPEN_ORDERS = "RISK_MAX_OPEN_ORDERS"
    RISK_NO_REFERENCE_PRICE = "RISK_NO_REFERENCE_PRICE"
    # ResourceExhausted
    RATE_LIMITED = "RATE_LIMITED"
    VENUE_RATE_LIMITED = "VENUE_RATE_LIMITED"
    VENUE_LOCKOUT = "VENUE_LOCKOUT"
    # VenueRejected (definitive refusals from the venue)
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    CANCEL_PENDING = "CANCEL_PENDING"
    MARKET_CLOSED = "MARKET_CLOSED"
    VENUE_ORDERS_LIMIT = "VENUE_ORDERS_LIMIT"
    VENUE_POSITIONS_LIMIT = "VENUE_POSITIONS_LIMIT"
    VENUE_MIN_NOT_MET = "VENUE_MIN_NOT_MET"
    VENUE_INVALID_PRICE = "VENUE_INVALID_PRICE"
    VENUE_INVALID_ORDER = "VENUE_INVALID_ORDER"
    VENUE_INVALID_ARGUMENT = "VENUE_INVALID_ARGUMENT"
    REDUCE_ONLY_VIOLATION = "REDUCE_ONLY_VIOLATION"
    SELF_TRADE_PREVENTED = "SELF_TRADE_PREVENTED"
    DEADLINE_ELAPSED = "DEADLINE_ELAPSED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    TRANSFER_REJECTED = "TRANSFER_REJECTED"
    VENUE_REJECTED_OTHER = "VENUE_REJECTED_OTHER"
    # Unavailable
    VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"
    VENUE_BUSY = "VENUE_BUSY"
    VENUE_MAINTENANCE = "VENUE_MAINTENANCE"
    VENUE_CANCEL_ONLY = "VENUE_CANCEL_ONLY"
    VENUE_POST_ONLY = "VENUE_POST_ONLY"
    GATEWAY_SHUTTING_DOWN = "GATEWAY_SHUTTING_DOWN"
    # OutcomeUnknown
    VENUE_TIMEOUT = "VENUE_TIMEOUT"
    VENUE_CONNECTION_LOST = "VENUE_CONNECTION_LOST"
    VENUE_RESPONSE_UNPARSEABLE = "VENUE_RESPONSE_UNPARSEABLE"
    # Internal
    INTERNAL = "INTERNAL"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    JOURNAL_FAILURE = "JOURNAL_FAILURE"
    # Unavailable (appended to the proto enum after the others)
    SESSION_MOVED = "SESSION_MOVED"
    # Appended later (proto numbers 78+); their categories: InvalidArgument, Unauthenticated,
    # InvalidArgument.
    UNKNOWN_VENUE = "UNKNOWN_VENUE"
    LOGON_ID_MISMATCH = "LOGON_ID_MISMATCH"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    # FailedPrecondition (proto 81): the venue exists, but the account is not configured for it.
    VENUE_NOT_CONFIGURED = "VENUE_NOT_CONFIGURED"


class GatewayError(Exception):
    """Root of every error the gateway reports to a client.

    `reason` is machine-readable, `message` human-readable and free of secrets, `metadata`
    carries string detail (e.g. {"field": "price"}), `retry_after` (seconds) is set when a retry
    later may succeed (rate limits), `venue_text` is the venue's own error string if any.
    """

    default_reason: ErrorReason = ErrorReason.UNSPECIFIED

    def __init__(
        self,
        message: str,
        reason: ErrorReason | None = None,
        *,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        venue_text: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: ErrorReason = reason if reason is not None else self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_after = retry_after
        self.venue_text = venue_text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason.name}: {self.message})"

    def __str__(self) -> str:
        return f"{self.reason.name}: {self.message}"


class InvalidArgument(GatewayError):
    """The request is malformed or breaks the instrument's rules; nothing reached the venue."""

    default_reason = ErrorReason.INVALID_FIELD


class NotFound(GatewayError):
    """The object does not exist, or belongs to another session."""

    default_reason = ErrorReason.ORDER_NOT_FOUND


class AlreadyExists(GatewayError):
    """A conflicting object or lease exists (session logged on, key leased, client id reused)."""

    default_reason = ErrorReason.DUPLICATE_CLIENT_ORDER_ID_DIFFERENT_REQUEST


class PermissionDenied(GatewayError):
    """The session is authenticated but not allowed to do this."""

    default_reason = ErrorReason.PERMISSION_DENIED_TRADE


class Unauthenticated(GatewayError):
    """No valid credentials (client token, or the venue refused our key)."""

    default_reason = ErrorReason.UNAUTHENTICATED


class FailedPrecondition(GatewayError):
    """The system is not in a state that allows the request (kill switch, order state)."""

    default_reason = ErrorReason.ORDER_NOT_AMENDABLE


class RiskRejected(FailedPrecondition):
    """A pre-trade risk limit of the account would be breached."""

    default_reason = ErrorReason.RISK_MAX_ORDER_QTY


class ResourceExhausted(GatewayError):
    """A rate budget is spent; `retry_after` says when to try again."""

    default_reason = ErrorReason.RATE_LIMITED


class VenueRejected(GatewayError):
    """The venue definitively refused the request; `venue_text` holds its own words."""

    default_reason = ErrorReason.VENUE_REJECTED_OTHER


class Unavailable(GatewayError):
    """The venue cannot take the request now; it was not (or provably not) executed."""

    default_reason = ErrorReason.VENUE_UNAVAILABLE


class OutcomeUnknown(GatewayError):
    """The request was sent but no definitive answer came back (timeout, 5xx, dropped socket,
    unparseable reply). The gateway resolves it by query, never by resending."""

    default_reason = ErrorReason.VENUE_TIMEOUT


class Internal(GatewayError):
    """A bug or a broken invariant inside the gateway."""

    default_reason = ErrorReason.INTERNAL


class IllegalTransition(Internal):
    """The order state machine refused a transition."""

    default_reason = ErrorReason.ILLEGAL_TRANSITION
