"""Lock-file key leases (real files in tmp_path): exclusive, fenced, freed on release."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core.leases import KeyInUse, KeyLeases, LeaseLost
from gateway.leases.data_dir import DataDirInUse, DataDirLock
from gateway.leases.local import LocalKeyLeases, default_lock_dir


async def test_one_holder_per_key_and_the_token_grows_with_each_grant(tmp_path: Path) -> None:
    a = LocalKeyLeases(tmp_path / "locks", "gateway a")
    b = LocalKeyLeases(tmp_path / "locks", "gateway b")
    assert isinstance(a, KeyLeases)
    first = await a.acquire("abc123")
    assert (first.key, first.holder, first.token) == ("abc123", "gateway a", 1)
    with pytest.raises(KeyInUse) as taken:
        await b.acquire("abc123")
    assert taken.value.holder == "gateway a"
    assert "one signer per key" in taken.value.message
    assert await a.renew(first) == first
    other = await b.acquire("def456")  # another key is free
    assert other.token == 1
    await a.release(first)
    with pytest.raises(LeaseLost):
        await a.renew(first)
    second = await b.acquire("abc123")
    assert second.token == 2  # fencing: a later grant always carries a larger token
    await b.close()
    assert (await a.acquire("abc123")).token == 3
    await a.close()


async def test_a_key_cannot_be_leased_twice_in_one_process(tmp_path: Path) -> None:
    leases = LocalKeyLeases(tmp_path, "gw")
    await leases.acquire("k1")
    with pytest.raises(KeyInUse):
        await leases.acquire("k1")
    await leases.close()


async def test_lease_keys_are_fingerprints_not_paths(tmp_path: Path) -> None:
    leases = LocalKeyLeases(tmp_path, "gw")
    with pytest.raises(ValueError, match="fingerprint"):
        await leases.acquire("../escape")


def test_lock_files_and_dir_are_private(tmp_path: Path) -> None:
    lock = DataDirLock.acquire(tmp_path / "data", "gw one")
    assert (tmp_path / "data" / "gateway.lock").stat().st_mode & 0o077 == 0
    with pytest.raises(DataDirInUse, match=r"in use by another gateway \(gw one\)"):
        DataDirLock.acquire(tmp_path / "data", "gw two")
    lock.release()
    DataDirLock.acquire(tmp_path / "data", "gw two").release()


def test_default_lock_dir() -> None:
    assert default_lock_dir({"XDG_RUNTIME_DIR": "/run/user/7"}) == Path("/run/user/7/krakengw")
    assert default_lock_dir({}).name.startswith("krakengw-locks-")


def test_key_lock_dir_config(tmp_path: Path) -> None:
    config = parse_config({"server": {"key_lock_dir": "locks"}}, base_dir=tmp_path)
    assert config.server.key_lock_dir == tmp_path / "locks"
    assert parse_config({}, base_dir=tmp_path).server.key_lock_dir is None
