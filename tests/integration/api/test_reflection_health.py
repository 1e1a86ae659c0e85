"""Server reflection lists the whole contract plus health; health reports SERVING."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.integration.api.conftest import RunningGateway

CONTRACT = {
    "krakengw.v1.SessionService",
    "krakengw.v1.OrderService",
    "krakengw.v1.ExecutionService",
    "krakengw.v1.AccountService",
    "krakengw.v1.InstrumentService",
    "krakengw.v1.MarketDataService",
}


async def test_reflection_lists_every_contract_service_and_health(
    gateway: RunningGateway,
) -> None:
    # The reflection client is synchronous; it runs in a thread, over a real socket.
    def list_services() -> set[str]:
        with grpc.insecure_channel(gateway.target) as channel:
            db = ProtoReflectionDescriptorDatabase(channel)
            names = set(db.get_services())
            # Each contract service resolves to a full descriptor too.
            for name in CONTRACT:
                db.FindFileContainingSymbol(name)
            return names

    names = await asyncio.to_thread(list_services)
    assert names >= CONTRACT
    assert "grpc.health.v1.Health" in names


async def test_health_serving_without_a_token(gateway: RunningGateway) -> None:
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "krakengw.v1.OrderService"):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
