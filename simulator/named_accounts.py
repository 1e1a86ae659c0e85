"""Test accounts named by the caller, with API keys derived from their names.

A test (or a user's own test through the krakengw pytest plugin) says "accounts `trader` and
`maker`" and gets both on the simulator, each with one spot key and one futures key whose
secrets are derived from the name, so the gateway side can compute the same keys without sharing
state. The secrets are test-only values: anyone who knows a name knows its secret.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from simulator.accounts import KrakenAccounts, parse_accounts

__all__ = [
    "NAMED_BALANCES",
    "NAMED_FUTURES_BALANCES",
    "named_accounts",
    "named_futures_key",
    "named_key",
]

# Deep enough that a test never runs out of funds by accident.
NAMED_BALANCES: Mapping[str, Decimal] = {
    "ZUSD": Decimal("10000000"),
    "XXBT": Decimal("1000"),
    "XETH": Decimal("10000"),
    "XXDG": Decimal("1000000"),
}
# The futures wallets (flex USD and BTC collateral, cash BTC).
NAMED_FUTURES_BALANCES: Mapping[str, Decimal] = {"USD": Decimal("10000000"), "XBT": Decimal("1000")}


def named_key(name: str) -> tuple[str, str]:
    """(api key, base64 secret) of the named test account."""
    secret = base64.b64encode(hashlib.sha512(f"test-only-{name}".encode()).digest()).decode()
    return f"test-key-{name}", secret


def named_futures_key(name: str) -> tuple[str, str]:
    """(api key, base64 secret) of the named test account's Kraken Futures key."""
    raw = hashlib.sha512(f"test-only-futures-{name}".encode()).digest()
    return f"test-futures-key-{name}", base64.b64encode(raw).decode()


def named_accounts(
    names: Sequence[str],
    *,
    balances: Mapping[str, Decimal | str] | None = None,
    tier: str = "pro",
) -> KrakenAccounts:
    """One master account per name (ids AA000000000000, AA000000000001, ...), each with one
    spot key (`named_key(name)`) and one futures key (`named_futures_key(name)`) of every
    permission, `balances` (default NAMED_BALANCES) and futures wallets holding
    NAMED_FUTURES_BALANCES."""
    funds = {asset: str(v) for asset, v in (balances or NAMED_BALANCES).items()}
    raw: dict[str, Any] = {"accounts": []}
    for i, name in enumerate(names):
        key, secret = named_key(name)
        fkey, fsecret = named_futures_key(name)
        raw["accounts"].append(
            {
                "id": f"AA{i:012d}",
                "name": name,
                "tier": tier,
                "balances": dict(funds),
                "futures_balances": {a: str(v) for a, v in NAMED_FUTURES_BALANCES.items()},
                "keys": [
                    {"key": key, "secret": secret, "permissions": ["all"]},
                    {"key": fkey, "secret": fsecret, "permissions": ["all"], "venue": "futures"},
                ],
            }
        )
    return parse_accounts(raw)
