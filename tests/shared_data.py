"""Locate the shared Kraken fixtures (`../shared/data/kraken`) that sit beside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The `shared/` folder: $KRAKENGW_SHARED, else `../shared` beside the repo."""
    env = os.environ.get("KRAKENGW_SHARED")
    path = Path(env) if env else _REPO.parent / "shared"
    if not (path / "data" / "kraken").is_dir():
        raise FileNotFoundError(f"shared fixtures not found at {path}; set KRAKENGW_SHARED")
    return path


def kraken_fixture(name: str) -> Any:
    """Parse one recorded Kraken payload, e.g. `kraken_fixture("http_ticker.json")`."""
    return json.loads((shared_dir() / "data" / "kraken" / name).read_text())
