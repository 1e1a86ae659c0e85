"""`kraken-gateway check-config FILE`: validate a config and show what the gateway would run.

The effective config is the parsed one (defaults filled in, paths resolved, key files and token
files read and checked), printed with every secret masked: API keys show only their fingerprint
(the same one the logs and key leases use), secrets and TLS private keys `***`, session tokens
only that one is set. The walk is generic over the config dataclasses, so a new config field is
shown without touching this module; `Secret`, `ApiKeyPair` and `bytes` never print their value.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from gateway.config import ApiKeyPair, ConfigError, GatewayConfig, Secret, load_config

__all__ = ["check_config", "effective_config"]

MASK = "***"


def effective_config(config: GatewayConfig) -> dict[str, Any]:
    """The config as plain JSON types, secrets masked."""
    shown = _plain(config)
    assert isinstance(shown, dict)
    return shown


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, ApiKeyPair):
        return {"fingerprint": value.fingerprint, "key": MASK, "secret": MASK}
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.name == "token_sha256":
                out["token"] = "set" if getattr(value, f.name) else "missing"
            else:
                out[f.name] = _plain(getattr(value, f.name))
        return out
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _problems(config: GatewayConfig) -> list[str]:
    """What parsing accepts but serving would trip over."""
    found: list[str] = []
    data_dir = config.server.data_dir
    existing = next((p for p in (data_dir, *data_dir.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        found.append(f"server.data_dir: {existing} is not a directory")
    elif existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        found.append(f"server.data_dir: {existing} is not writable")
    for session in config.sessions.values():
        if session.account not in config.accounts:
            found.append(f"sessions.{session.session_id}: unknown account {session.account!r}")
    return found


def check_config(path: Path, out: TextIO, err: TextIO, *, as_json: bool = False) -> int:
    """0 when `path` is a valid config (the effective config printed), 1 otherwise."""
    try:
        config = load_config(path)
    except (ConfigError, OSError) as exc:
        err.write(f"kraken-gateway check-config: {path}: {exc}\n")
        return 1
    problems = _problems(config)
    for problem in problems:
        err.write(f"kraken-gateway check-config: {path}: {problem}\n")
    shown = effective_config(config)
    if as_json:
        out.write(json.dumps(shown, indent=2, sort_keys=True) + "\n")
    else:
        _print_text(shown, out)
        out.write("config ok\n" if not problems else f"{len(problems)} problem(s)\n")
    return 1 if problems else 0


def _print_text(shown: Mapping[str, Any], out: TextIO, indent: str = "") -> None:
    for key, value in shown.items():
        if isinstance(value, Mapping) and value:
            out.write(f"{indent}{key}:\n")
            _print_text(value, out, indent + "  ")
        else:
            text = ", ".join(map(str, value)) if isinstance(value, list) else value
            out.write(f"{indent}{key}: {'' if text is None else text}\n")
