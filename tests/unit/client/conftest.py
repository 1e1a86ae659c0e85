"""Fixtures of the Python client's tests: a scripted fake gateway on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.client.fake_gateway import FakeGateway, serve_fake_gateway


@pytest.fixture
def fake_gateway() -> Iterator[tuple[str, FakeGateway]]:
    with serve_fake_gateway() as served:
        yield served
