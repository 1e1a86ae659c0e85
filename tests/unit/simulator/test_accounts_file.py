"""The accounts file format: masters, subaccounts, keys, and clear errors for bad entries."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.accounts import (
    DEMO_SPOT_KEY,
    KEY_PERMISSIONS,
    AccountsFileError,
    KrakenTier,
    demo_accounts,
    load_accounts,
    parse_accounts,
)


def test_json_file_with_master_and_sub(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"accounts": [
        {"id": "M1", "tier": "pro", "balances": {"ZUSD": "12.5"},
         "keys": [{"key": "k", "secret": "c2VjcmV0", "nonce_window": 5000}]},
        {"id": "S1", "master": "M1", "keys": [{"key": "s", "secret": "c2VjcmV0",
                                               "permissions": ["query_funds"]}]},
    ]}))  # fmt: skip
    accounts = load_accounts(path)
    assert accounts.tier_of("S1") is KrakenTier.PRO
    assert accounts.account("M1").balances == {"ZUSD": Decimal("12.5")}  # type: ignore[union-attr]
    master_key, sub_key = accounts.key("k"), accounts.key("s")
    assert master_key is not None and master_key.nonce_window == 5000
    assert master_key.permissions == KEY_PERMISSIONS
    assert sub_key is not None and sub_key.permissions == {"query_funds"}
    assert [a.account_id for a in accounts.subaccounts_of("M1")] == ["S1"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"accounts": []}, "non-empty"),
        ({"accounts": [{"id": "A", "tier": "gold"}]}, "unknown tier"),
        ({"accounts": [{"id": "S", "master": "M"}]}, "not a master"),
        ({"accounts": [{"id": "A", "balances": {"ZUSD": "-1"}}]}, "negative"),
        ({"accounts": [{"id": "A", "balances": {"ZUSD": "lots"}}]}, "not a decimal"),
        (
            {
                "accounts": [
                    {"id": "A", "keys": [{"key": "k", "secret": "s", "permissions": ["root"]}]}
                ]
            },
            "unknown permissions",
        ),
        ({"accounts": [{"id": "A"}, {"id": "A"}]}, "duplicate account"),
        ({"accounts": [{"id": "A", "keys": [{"key": "k"}]}]}, "secret"),
    ],
)
def test_bad_files_name_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(AccountsFileError, match=message):
        parse_accounts(raw)


def test_demo_accounts_and_secret_not_in_repr() -> None:
    accounts = demo_accounts()
    key = accounts.key(DEMO_SPOT_KEY)
    assert key is not None
    assert key.secret not in repr(key)
    assert accounts.tier_of(key.account_id) is KrakenTier.INTERMEDIATE
