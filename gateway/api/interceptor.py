"""The one server interceptor: bearer-token auth, GatewayError -> status mapping, logs, metrics.

It wraps every method handler, so servicers stay thin: they raise GatewayError and never touch
status codes. Health and reflection are public; every other method needs exactly one valid
`authorization` bearer token, whose session (and the call's `krakengw-logon-id`, checked against
the live logon by `ApiDeps.active`) is then available to the servicer through
`gateway.api.context`. Requests are decoded only after authentication, so unauthenticated
garbage costs what an auth failure costs; a message that does not decode is INVALID_ARGUMENT
(MALFORMED_REQUEST), one WARNING log line and a metric. Unexpected exceptions become INTERNAL
with a log reference and no exception text.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from grpc import aio

from gateway.api.context import set_caller
from gateway.api.errors import STATUS_DETAILS_KEY, internal_status, to_rpc_status
from gateway.api.metrics import ApiMetrics
from gateway.config import SessionConfig
from gateway.core.errors import ErrorReason, GatewayError, InvalidArgument
from gateway.core.tracing import span
from gateway.sessions.auth import TokenAuthenticator, parse_bearer
from gateway.sessions.errors import UnauthenticatedError

__all__ = ["GatewayInterceptor"]

log = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
LOGON_ID_METADATA = "krakengw-logon-id"
# Longer logon ids are not ours (Logon hands out 32 characters): refused unread.
MAX_LOGON_ID_LEN = 128

Deserializer = Callable[[bytes], Any]


class GatewayInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, authenticator: TokenAuthenticator, metrics: ApiMetrics | None) -> None:
        self._auth = authenticator
        self._metrics = metrics
        # Wrapped handlers are built once per method; the caller is resolved per call.
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(details)
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        wrapped = self._wrapped[method] = _Wrapped(method, self._auth, self._metrics).handler(
            handler
        )
        return wrapped


class _Wrapped:
    """Wraps one method's handler; unary and streaming shapes share auth and error mapping."""

    def __init__(
        self, method: str, authenticator: TokenAuthenticator, metrics: ApiMetrics | None
    ) -> None:
        self.method = method
        self.auth = authenticator
        self.metrics = metrics

    def handler(self, h: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        # Requests arrive as bytes and are decoded after authentication (see _decoder).
        kw = {"request_deserializer": None, "response_serializer": h.response_serializer}
        decode = h.request_deserializer or (lambda raw: raw)
        if h.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(h.unary_unary, self._decoder(decode)), **kw
            )
        if h.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(h.stream_unary, self._stream_decoder(decode)), **kw
            )
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(h.unary_stream, self._decoder(decode)), **kw
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream(h.stream_stream, self._stream_decoder(decode)), **kw
        )

    def _decode_one(self, decode: Deserializer, raw: Any) -> Any:
        try:
            return decode(raw)
        except (DecodeError, ValueError, TypeError, RecursionError):
            # One line, no traceback: garbage is the sender's problem, not ours.
            log.warning("malformed request message on %s", self.method)
            if self.metrics is not None:
                self.metrics.malformed.labels(self.method).inc()
            raise InvalidArgument(
                "the request message is not a valid protobuf of this method's type",
                ErrorReason.MALFORMED_REQUEST,
            ) from None

    def _decoder(self, decode: Deserializer) -> Callable[[Any], Any]:
        return lambda raw: self._decode_one(decode, raw)

    def _stream_decoder(self, decode: Deserializer) -> Callable[[Any], Any]:
        async def messages(raw_iterator: Any) -> AsyncIterator[Any]:
            async for raw in raw_iterator:
                yield self._decode_one(decode, raw)

        return messages

    def _unary(
        self,
        behavior: Callable[[Any, aio.ServicerContext], Awaitable[Any]],
        decode: Callable[[Any], Any],
    ) -> Callable[[Any, aio.ServicerContext], Awaitable[Any]]:
        span_name = "grpc " + self.method

        async def call(request: Any, context: aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            session: SessionConfig | None = None
            try:
                session = self._authenticate(context)
                with span(span_name):
                    return await behavior(decode(request), context)
            except aio.AbortError:
                raise
            except Exception as exc:
                code, status = self._status_for(exc, session)
                await _abort(context, code, status)
                raise  # unreachable: abort raises
            finally:
                self._observe(code, started)

        return call

    def _stream(
        self,
        behavior: Callable[[Any, aio.ServicerContext], AsyncIterator[Any]],
        decode: Callable[[Any], Any],
    ) -> Callable[[Any, aio.ServicerContext], AsyncIterator[Any]]:
        async def call(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            session: SessionConfig | None = None
            if self.metrics is not None:
                self.metrics.open_streams.labels(self.method).inc()
            try:
                session = self._authenticate(context)
                async for item in behavior(decode(request), context):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                code, status = self._status_for(exc, session)
                await _abort(context, code, status)
                raise  # unreachable: abort raises
            finally:
                if self.metrics is not None:
                    self.metrics.open_streams.labels(self.method).dec()
                self._observe(code, started)

        return call

    def _authenticate(self, context: aio.ServicerContext) -> SessionConfig:
        headers: list[Any] = []
        logon_ids: list[Any] = []
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                headers.append(value)
            elif key == LOGON_ID_METADATA:
                logon_ids.append(value)
        if len(headers) > 1:
            # Which one would count is a proxy's guess; refuse rather than pick.
            raise UnauthenticatedError("more than one authorization header")
        if len(logon_ids) > 1:
            raise UnauthenticatedError(f"more than one {LOGON_ID_METADATA} header")
        header = headers[0] if headers and isinstance(headers[0], str) else None
        token = parse_bearer(header)
        session = self.auth.authenticate(token) if token is not None else None
        if session is None:
            raise UnauthenticatedError(
                "missing, unknown or expired bearer token "
                "(metadata 'authorization: Bearer <token>')"
            )
        logon_id = logon_ids[0] if logon_ids else None
        if not isinstance(logon_id, str) or len(logon_id) > MAX_LOGON_ID_LEN:
            logon_id = None
        set_caller(session, logon_id)
        return session

    def _status_for(
        self, exc: Exception, session: SessionConfig | None
    ) -> tuple[grpc.StatusCode, status_pb2.Status]:
        session_id = session.session_id if session else None
        if isinstance(exc, GatewayError):
            code, status = to_rpc_status(exc)
            log.info(
                "rpc refused",
                extra={
                    "method": self.method,
                    "session_id": session_id,
                    "code": code.name,
                    "reason": exc.reason.name,
                },
            )
        else:
            ref = uuid.uuid4().hex[:12]
            code, status = internal_status(ref)
            # The traceback goes to the log only; secrets are Secret objects that redact.
            log.error(
                "unexpected error in %s (ref %s): %s",
                self.method,
                ref,
                type(exc).__name__,
                exc_info=exc,
                extra={"session_id": session_id},
            )
        return code, status

    def _observe(self, code: grpc.StatusCode, started: float) -> None:
        if self.metrics is None:
            return
        self.metrics.rpcs.labels(self.method, code.name).inc()
        self.metrics.latency.labels(self.method).observe(time.perf_counter() - started)


async def _abort(
    context: aio.ServicerContext, code: grpc.StatusCode, status: status_pb2.Status
) -> None:
    trailer = ((STATUS_DETAILS_KEY, status.SerializeToString()),)
    await context.abort(code, status.message, trailing_metadata=trailer)
