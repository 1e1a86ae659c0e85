"""Process logging: one line per record on stderr, as text or as JSON.

- `text`: `time level logger message`, then the `extra` fields as key=value.
- `json`: one JSON object per line: `time` (UTC, ISO 8601 with milliseconds and `Z`), `level`,
  `logger`, `message`, every `extra` field as its own key, `exc` with the traceback if any.

Defence in depth against leaks: every registered secret (the API keys and secrets loaded from
the config, the console's admin token) is masked in the fully formatted line, tracebacks
included, even though no code is meant to log them. Tokens are never held in plain form beyond
the auth interceptor.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["LOG_FORMATS", "JsonFormatter", "LogFormat", "MaskingFormatter", "configure_logging"]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_MIN_SECRET_LEN = 6  # shorter strings would mask ordinary words


class MaskingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._secrets: list[str] = []
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        merged = set(self._secrets) | {s for s in secrets if len(s) >= _MIN_SECRET_LEN}
        self._secrets = sorted(merged, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.mask(self.render(record))

    def render(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return line

    def mask(self, text: str) -> str:
        """`text` with every known secret replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class JsonFormatter(MaskingFormatter):
    """One JSON object per record; masking runs on the serialized line, like the text form."""

    def render(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


def configure_logging(
    level: str = "INFO", secrets: Iterable[str] = (), fmt: LogFormat = "text"
) -> MaskingFormatter:
    formatter = JsonFormatter(secrets) if fmt == "json" else MaskingFormatter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return formatter
