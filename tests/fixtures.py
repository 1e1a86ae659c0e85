"""Recorded Kraken payloads kept in this repository (`tests/fixtures/kraken/`).

Every fixture a test reads lives beside this module, so a bare clone passes its tests with
nothing beside it; `tests/fixtures/kraken/README.md` names each file's origin.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

KRAKEN_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kraken"


def kraken_fixture_path(name: str) -> Path:
    """The path of one recorded Kraken payload; a missing file is a hard error, never a skip."""
    path = KRAKEN_FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(f"no Kraken fixture {name!r} in {KRAKEN_FIXTURES}")
    return path


def kraken_fixture(name: str) -> Any:
    """Parse one recorded Kraken payload, e.g. `kraken_fixture("http_ticker.json")`."""
    return json.loads(kraken_fixture_path(name).read_text())


def kraken_ws_fixture(name: str) -> Any:
    """A WS v2 payload decoded the way the WS client must: JSON numbers as Decimal."""
    return json.loads(kraken_fixture_path(name).read_text(), parse_float=Decimal)
