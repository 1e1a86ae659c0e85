"""Exit codes of the `krakengw` command (documented in `krakengw --help` and the README).

Scripts branch on the class of failure, not on messages: a gateway that is down (retry later)
is not a bad token (fix the config) nor a refused order (fix the request).
"""

from __future__ import annotations

import grpc

__all__ = ["EXIT_CODES_HELP", "exit_code_of"]

OK = 0
FAILURE = 1  # anything unexpected (a bug, a broken pipe)
USAGE = 2  # bad arguments, no token
UNAVAILABLE = 3  # the gateway could not be reached or did not answer in time
AUTH = 4  # the token is unknown, or the session may not do this
REFUSED = 5  # the request was refused as invalid now (or an order came back REJECTED)
NOT_FOUND = 6  # no such order (or other object)
RATE_LIMITED = 7  # the gateway's rate governor said: later
SERVER = 8  # the gateway failed (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS)
INTERRUPTED = 130  # Ctrl-C

_BY_CODE = {
    grpc.StatusCode.UNAVAILABLE: UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: UNAVAILABLE,
    grpc.StatusCode.CANCELLED: UNAVAILABLE,
    grpc.StatusCode.UNAUTHENTICATED: AUTH,
    grpc.StatusCode.PERMISSION_DENIED: AUTH,
    grpc.StatusCode.INVALID_ARGUMENT: REFUSED,
    grpc.StatusCode.FAILED_PRECONDITION: REFUSED,
    grpc.StatusCode.OUT_OF_RANGE: REFUSED,
    grpc.StatusCode.ALREADY_EXISTS: REFUSED,
    grpc.StatusCode.ABORTED: REFUSED,
    grpc.StatusCode.NOT_FOUND: NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RATE_LIMITED,
}

EXIT_CODES_HELP = f"""exit codes:
  {OK}    ok
  {FAILURE}    unexpected failure
  {USAGE}    usage error (bad arguments, no token)
  {UNAVAILABLE}    gateway unavailable (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED)
  {AUTH}    not allowed (UNAUTHENTICATED, PERMISSION_DENIED)
  {REFUSED}    request refused (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE,
       ALREADY_EXISTS, ABORTED), or the order came back REJECTED
  {NOT_FOUND}    not found (NOT_FOUND)
  {RATE_LIMITED}    rate limited (RESOURCE_EXHAUSTED)
  {SERVER}    gateway error (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS)
  {INTERRUPTED}  interrupted (Ctrl-C)"""


def exit_code_of(code: grpc.StatusCode) -> int:
    return _BY_CODE.get(code, SERVER)
