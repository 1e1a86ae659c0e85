"""Kraken-shaped identifiers, drawn from a seeded generator so runs are reproducible.

Formats seen on the wire: order txid `OQCLML-BW3P3-BUCMWZ` (6-5-6), trade id `TCWJEG-FL4SZ-3FKGH6`,
ledger id `L4UESK-KG3EQ-BJM7HJ`, amend id `TTW6PD-RC36L-ZZSWNU`, transfer id
`TOH3AS2-LPCWR8-JDQGEU` (7-6-6), account id `AA96N74GCGEFN8KI`. Characters are base32 (A-Z, 2-7).
"""

from __future__ import annotations

import random

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class IdFactory:
    """Unique Kraken-style ids plus the integer public trade-id sequence."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")
        self._issued: set[str] = set()
        self._trade_seq = 0

    def _make(self, prefix: str, groups: tuple[int, ...]) -> str:
        """`prefix` replaces the first character of the first group."""
        length = sum(groups)
        while True:
            bits = self._rng.getrandbits(5 * length)
            chars = [_ALPHABET[(bits >> (5 * i)) & 31] for i in range(length)]
            chars[0] = prefix
            parts, start = [], 0
            for size in groups:
                parts.append("".join(chars[start : start + size]))
                start += size
            text = "-".join(parts)
            if text not in self._issued:
                self._issued.add(text)
                return text

    def forget(self, text: str) -> None:
        """`text` names nothing any more (pruned history): stop reserving it."""
        self._issued.discard(text)

    def issued_count(self) -> int:
        return len(self._issued)

    def order_id(self) -> str:
        return self._make("O", (6, 5, 6))

    def trade_txid(self) -> str:
        return self._make("T", (6, 5, 6))

    def ledger_id(self) -> str:
        return self._make("L", (6, 5, 6))

    def amend_id(self) -> str:
        return self._make("T", (6, 5, 6))

    def transfer_id(self) -> str:
        return self._make("T", (7, 6, 6))

    def account_id(self) -> str:
        """Public account id like Kraken's `AA96N74GCGEFN8KI` (IIBAN-style, 16 characters)."""
        return "A" + self._make("A", (15,))

    def next_trade_id(self) -> int:
        """Public integer trade id (WS v2 `trade_id`, REST `trade_id`), strictly increasing."""
        self._trade_seq += 1
        return self._trade_seq
