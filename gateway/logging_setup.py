"""Process logging: one line per record on stderr, `extra` fields appended as key=value.

Defence in depth against leaks: every registered secret (the API keys and secrets loaded from
the config) is masked in the fully formatted line, tracebacks included, even though no code is
meant to log them. Tokens are never held in plain form beyond the auth interceptor.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

__all__ = ["MaskingFormatter", "configure_logging"]

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
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> MaskingFormatter:
    formatter = MaskingFormatter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return formatter
