"""The one server interceptor: bearer-token auth, GatewayError -> status mapping, logs, metrics.

It wraps every method handler, so servicers stay thin: they raise GatewayError and never touch
status codes. Health and reflection are public; every other method needs a valid token, whose
session is then available to the servicer through `gateway.api.context.caller()`.
Unexpected exceptions become INTERNAL with a log reference and no exception text.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.rpc import status_pb2
from grpc import aio

from gateway.api.context import set_caller
from gateway.api.errors import STATUS_DETAILS_KEY, internal_status, to_rpc_status
from gateway.api.metrics import ApiMetrics
from gateway.config import SessionConfig
from gateway.core.errors import GatewayError
from gateway.core.tracing import span
from gateway.sessions.auth import TokenAuthenticator, parse_bearer
from gateway.sessions.errors import UnauthenticatedError

__all__ = ["GatewayInterceptor"]

log = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


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
        kw = {
            "request_deserializer": h.request_deserializer,
            "response_serializer": h.response_serializer,
        }
        if h.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(self._unary(h.unary_unary), **kw)
        if h.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(self._unary(h.stream_unary), **kw)
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(self._stream(h.unary_stream), **kw)
        return grpc.stream_stream_rpc_method_handler(self._stream(h.stream_stream), **kw)

    def _unary(
        self, behavior: Callable[[Any, aio.ServicerContext], Awaitable[Any]]
    ) -> Callable[[Any, aio.ServicerContext], Awaitable[Any]]:
        span_name = "grpc " + self.method

        async def call(request: Any, context: aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            session: SessionConfig | None = None
            try:
                session = self._authenticate(context)
                with span(span_name):
                    return await behavior(request, context)
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
        self, behavior: Callable[[Any, aio.ServicerContext], AsyncIterator[Any]]
    ) -> Callable[[Any, aio.ServicerContext], AsyncIterator[Any]]:
        async def call(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            session: SessionConfig | None = None
            if self.metrics is not None:
                self.metrics.open_streams.labels(self.method).inc()
            try:
                session = self._authenticate(context)
                async for item in behavior(request, context):
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
        header = None
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and isinstance(value, str):
                header = value
        token = parse_bearer(header)
        session = self.auth.authenticate(token) if token is not None else None
        if session is None:
            raise UnauthenticatedError(
                "missing or unknown bearer token (metadata 'authorization: Bearer <token>')"
            )
        set_caller(session)
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
