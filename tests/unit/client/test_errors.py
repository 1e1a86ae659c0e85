"""KrakenGwError: status code and ErrorInfo reason parsed from a real call's trailers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import grpc
import pytest

from krakengw import AsyncClient, Client, KrakenGwError
from tests.unit.client.fake_gateway import TOKEN, FakeGateway, error_status


def test_error_carries_code_reason_metadata_and_retry_delay(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.unary_error = error_status(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "rate budget spent", "RATE_LIMITED", retry_after_s=3
    )
    with Client(target, TOKEN) as client, pytest.raises(KrakenGwError) as caught:
        client.submit_order("BTC/USD", "buy", Decimal(1), price=Decimal(100))
    err = caught.value
    assert err.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert err.reason == "RATE_LIMITED"
    assert err.domain == "krakengw"
    assert err.metadata == {"field": "price"}
    assert err.retry_after == timedelta(seconds=3)
    assert str(err) == "RESOURCE_EXHAUSTED [RATE_LIMITED]: rate budget spent"


def test_token_echoed_by_a_server_is_redacted(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.unary_error = error_status(
        grpc.StatusCode.UNAUTHENTICATED, f"unknown token {TOKEN}", "UNAUTHENTICATED"
    )
    with Client(target, TOKEN) as client, pytest.raises(KrakenGwError) as caught:
        client.submit_order("BTC/USD", "sell", 1)
    assert caught.value.reason == "UNAUTHENTICATED"
    for text in (str(caught.value), repr(caught.value), repr(client), str(client)):
        assert TOKEN not in text
    assert "[redacted]" in str(caught.value)


def test_error_without_details_still_has_the_code(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.unary_error = error_status(grpc.StatusCode.NOT_FOUND, "no such order")
    with Client(target, TOKEN) as client, pytest.raises(KrakenGwError) as caught:
        client.submit_order("BTC/USD", "buy", 1)
    assert caught.value.code is grpc.StatusCode.NOT_FOUND
    assert caught.value.reason == ""
    assert caught.value.retry_after is None


async def test_async_client_raises_the_same_error(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.unary_error = error_status(
        grpc.StatusCode.FAILED_PRECONDITION, "kill switch engaged", "KILL_SWITCH_ACTIVE"
    )
    async with AsyncClient(target, TOKEN) as client:
        with pytest.raises(KrakenGwError) as caught:
            await client.submit_order("BTC/USD", "buy", 1)
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.reason == "KILL_SWITCH_ACTIVE"


def test_unreachable_gateway_is_unavailable() -> None:
    with Client("127.0.0.1:1", TOKEN, timeout=5) as client, pytest.raises(KrakenGwError) as caught:
        client.logon()
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE


def test_token_must_be_printable_without_spaces() -> None:
    with pytest.raises(ValueError):
        Client("127.0.0.1:1", "bad token\n")
