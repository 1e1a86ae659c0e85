"""The one error the futures engine raises: a request Kraken answers with `result: error`."""

from __future__ import annotations


class KrakenFuturesRequestError(Exception):
    """`code` is the wire error string (contractNotFound, invalidAmount, insufficientFunds...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
