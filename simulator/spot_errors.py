"""The one exception the Spot front ends raise: it carries Kraken's exact error string."""

from __future__ import annotations


class KrakenError(Exception):
    """A request Kraken would refuse; `code` is the wire string, e.g. `EAPI:Invalid nonce`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
