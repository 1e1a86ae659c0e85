"""Simulated Kraken accounts, subaccounts and API keys, loaded from a TOML or JSON file.

File format (TOML shown; JSON has the same shape)::

    [[accounts]]
    id = "AA00MASTER0001"          # public account id, used by AccountTransfer from/to
    name = "master"
    tier = "intermediate"           # starter | intermediate | pro (subaccounts inherit it)
    balances = { ZUSD = "100000", XXBT = "5" }
    futures_balances = { USD = "50000" }

      [[accounts.keys]]
      key = "my-public-key"
      secret = "<base64 secret>"
      permissions = ["all"]          # or a list of KEY_PERMISSIONS
      nonce_window = 0               # tolerated out-of-order nonce distance (0 = strict)
      venue = "spot"                 # spot | futures

    [[accounts]]
    id = "AA00SUBACCT0001"
    name = "strategy-a"
    master = "AA00MASTER0001"       # makes this a subaccount of that master

Without a file the simulator runs one master account with the fixed demo keys below.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any


class KrakenTier(StrEnum):
    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


# Kraken's key permission checkboxes, by the names used in the accounts file.
KEY_PERMISSIONS = frozenset(
    {
        "query_funds",
        "deposit",
        "withdraw",
        "query_open",
        "query_closed",
        "modify_orders",
        "cancel_orders",
        "query_ledger",
        "export",
        "websocket",
        "futures_read",
        "futures_trade",
    }
)

# Fixed, documented demo credentials (README). The secrets are 64 bytes, base64, like Kraken's.
DEMO_ACCOUNT_ID = "AA00DEMO000001"
DEMO_SPOT_KEY = "krakengw-sim-demo-spot-key"
DEMO_SPOT_SECRET = (
    "a3Jha2VuZ3ctc2ltLWRlbW8tc3BvdC1zZWNyZXQtLWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwta2V5LjAwMA=="  # noqa: S105 - documented demo secret
)
DEMO_FUTURES_KEY = "krakengw-sim-demo-futures-key"
DEMO_FUTURES_SECRET = (
    "a3Jha2VuZ3ctc2ltLWRlbW8tZnV0dXJlcy1zZWNyZXQtZm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXkuMA=="  # noqa: S105 - documented demo secret
)
DEMO_BALANCES: Mapping[str, Decimal] = {
    "ZUSD": Decimal("1000000"),
    "XXBT": Decimal("100"),
    "XETH": Decimal("1000"),
    "XXDG": Decimal("1000000"),
    "USDT": Decimal("1000000"),
}
DEMO_FUTURES_BALANCES: Mapping[str, Decimal] = {"USD": Decimal("1000000"), "XBT": Decimal("10")}


class AccountsFileError(ValueError):
    """The accounts file is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class KrakenApiKey:
    key: str
    secret: str = field(repr=False)  # base64, never printed
    account_id: str
    permissions: frozenset[str]
    nonce_window: int = 0
    venue: str = "spot"

    def allows(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass
class KrakenAccount:
    account_id: str
    name: str
    tier: KrakenTier
    master_id: str | None = None
    balances: dict[str, Decimal] = field(default_factory=dict)
    futures_balances: dict[str, Decimal] = field(default_factory=dict)

    @property
    def is_master(self) -> bool:
        return self.master_id is None


class KrakenAccounts:
    """All accounts and keys of one simulator run; subaccounts can be added at run time."""

    def __init__(self, accounts: Iterable[KrakenAccount], keys: Iterable[KrakenApiKey]) -> None:
        self._accounts: dict[str, KrakenAccount] = {}
        self._keys: dict[str, KrakenApiKey] = {}
        for account in accounts:
            self.add_account(account)
        for key in keys:
            self.add_key(key)

    def add_account(self, account: KrakenAccount) -> None:
        if account.account_id in self._accounts:
            raise AccountsFileError(f"duplicate account id {account.account_id!r}")
        if account.master_id is not None:
            master = self._accounts.get(account.master_id)
            if master is None or not master.is_master:
                raise AccountsFileError(
                    f"account {account.account_id!r}: master {account.master_id!r} is not a "
                    "master account declared before it"
                )
        self._accounts[account.account_id] = account

    def add_key(self, key: KrakenApiKey) -> None:
        if key.key in self._keys:
            raise AccountsFileError("duplicate API key")
        if key.account_id not in self._accounts:
            raise AccountsFileError(f"key for unknown account {key.account_id!r}")
        self._keys[key.key] = key

    def key(self, public_key: str) -> KrakenApiKey | None:
        return self._keys.get(public_key)

    def account(self, account_id: str) -> KrakenAccount | None:
        return self._accounts.get(account_id)

    def account_of(self, key: KrakenApiKey) -> KrakenAccount:
        return self._accounts[key.account_id]

    def by_name_or_id(self, ref: str) -> KrakenAccount | None:
        """AccountTransfer names accounts by public id; accept the username too."""
        found = self._accounts.get(ref)
        if found is not None:
            return found
        return next((a for a in self._accounts.values() if a.name == ref), None)

    def accounts(self) -> list[KrakenAccount]:
        return list(self._accounts.values())

    def keys(self) -> list[KrakenApiKey]:
        return list(self._keys.values())

    def subaccounts_of(self, master_id: str) -> list[KrakenAccount]:
        return [a for a in self._accounts.values() if a.master_id == master_id]

    def master_of(self, account: KrakenAccount) -> KrakenAccount:
        return self._accounts[account.master_id] if account.master_id else account

    def tier_of(self, account_id: str) -> KrakenTier:
        """Subaccounts trade under their master's tier (wire 10)."""
        return self.master_of(self._accounts[account_id]).tier


def demo_accounts() -> KrakenAccounts:
    account = KrakenAccount(
        account_id=DEMO_ACCOUNT_ID,
        name="demo",
        tier=KrakenTier.INTERMEDIATE,
        balances=dict(DEMO_BALANCES),
        futures_balances=dict(DEMO_FUTURES_BALANCES),
    )
    keys = [
        KrakenApiKey(DEMO_SPOT_KEY, DEMO_SPOT_SECRET, DEMO_ACCOUNT_ID, KEY_PERMISSIONS),
        KrakenApiKey(
            DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET, DEMO_ACCOUNT_ID, KEY_PERMISSIONS, venue="futures"
        ),
    ]
    return KrakenAccounts([account], keys)


def load_accounts(path: Path) -> KrakenAccounts:
    """Read a `.toml` or `.json` accounts file (format in the module docstring)."""
    text = path.read_text()
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccountsFileError(f"{path}: {exc}") from exc
    return parse_accounts(raw)


def parse_accounts(raw: Mapping[str, Any]) -> KrakenAccounts:
    entries = raw.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise AccountsFileError("expected a non-empty `accounts` list")
    accounts: list[KrakenAccount] = []
    keys: list[KrakenApiKey] = []
    for index, entry in enumerate(entries):
        where = f"accounts[{index}]"
        if not isinstance(entry, Mapping):
            raise AccountsFileError(f"{where}: expected a table")
        account_id = _required_str(entry, "id", where)
        try:
            tier = KrakenTier(str(entry.get("tier", "intermediate")).lower())
        except ValueError as exc:
            raise AccountsFileError(f"{where}: unknown tier {entry.get('tier')!r}") from exc
        accounts.append(
            KrakenAccount(
                account_id=account_id,
                name=str(entry.get("name", account_id)),
                tier=tier,
                master_id=entry.get("master"),
                balances=_balances(entry.get("balances", {}), f"{where}.balances"),
                futures_balances=_balances(
                    entry.get("futures_balances", {}), f"{where}.futures_balances"
                ),
            )
        )
        for k_index, key in enumerate(entry.get("keys", [])):
            keys.append(_key(key, account_id, f"{where}.keys[{k_index}]"))
    return KrakenAccounts(accounts, keys)


def _key(raw: Any, account_id: str, where: str) -> KrakenApiKey:
    if not isinstance(raw, Mapping):
        raise AccountsFileError(f"{where}: expected a table")
    perms_raw = raw.get("permissions", ["all"])
    if not isinstance(perms_raw, list):
        raise AccountsFileError(f"{where}.permissions: expected a list")
    perms = frozenset(KEY_PERMISSIONS if "all" in perms_raw else (str(p) for p in perms_raw))
    unknown = perms - KEY_PERMISSIONS
    if unknown:
        raise AccountsFileError(f"{where}: unknown permissions {sorted(unknown)}")
    venue = str(raw.get("venue", "spot"))
    if venue not in ("spot", "futures"):
        raise AccountsFileError(f"{where}: venue must be spot or futures")
    window = raw.get("nonce_window", 0)
    if not isinstance(window, int) or window < 0:
        raise AccountsFileError(f"{where}.nonce_window: expected a non-negative integer")
    return KrakenApiKey(
        key=_required_str(raw, "key", where),
        secret=_required_str(raw, "secret", where),
        account_id=account_id,
        permissions=perms,
        nonce_window=window,
        venue=venue,
    )


def _balances(raw: Any, where: str) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        raise AccountsFileError(f"{where}: expected a table of asset = amount")
    out: dict[str, Decimal] = {}
    for asset, amount in raw.items():
        try:
            value = Decimal(str(amount))
        except InvalidOperation as exc:
            raise AccountsFileError(f"{where}.{asset}: not a decimal") from exc
        if value < 0:
            raise AccountsFileError(f"{where}.{asset}: negative balance")
        out[str(asset)] = value
    return out


def _required_str(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise AccountsFileError(f"{where}: `{name}` must be a non-empty string")
    return value
