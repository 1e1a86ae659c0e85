"""What a starting gateway claims before it touches a journal or a venue: its data directory
(exclusively, or it does not start) and the lease of every configured venue key.

An account whose key another gateway holds is refused: one log line says why, the gateway builds
no venue for it (so it signs nothing with that key) and refuses its sessions' logons; every
other account is served. Accounts without keys (paper, embedded simulator) lease nothing here.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import AccountConfig, ServerConfig
from gateway.core.errors import GatewayError
from gateway.core.leases import KeyInUse, KeyLease, KeyLeases
from gateway.leases.data_dir import DataDirLock
from gateway.leases.local import LocalKeyLeases, default_lock_dir

__all__ = ["Claims", "claim", "instance_name"]

log = logging.getLogger(__name__)


def instance_name(data_dir: Path) -> str:
    """How this gateway names itself in lock files and refusals (no secret in it)."""
    return f"pid {os.getpid()} on {socket.gethostname()}, data_dir {data_dir.resolve()}"


@dataclass
class Claims:
    key_leases: KeyLeases
    data_dir_lock: DataDirLock | None
    leases: dict[str, list[KeyLease]] = field(default_factory=dict)  # account -> its keys
    # account -> why, one line (a fleet stores a SessionMovedError naming the holder instead)
    refused: dict[str, str | GatewayError] = field(default_factory=dict)

    async def release(self) -> None:
        await self.key_leases.close()
        if self.data_dir_lock is not None:
            self.data_dir_lock.release()
            self.data_dir_lock = None


async def claim(
    server: ServerConfig, accounts: Iterable[AccountConfig], key_leases: KeyLeases | None = None
) -> Claims:
    """Lock the data dir (raises `DataDirInUse`), then lease each account's keys."""
    holder = instance_name(server.data_dir)
    data_dir_lock = DataDirLock.acquire(server.data_dir, holder)
    if key_leases is None:
        key_leases = LocalKeyLeases(server.key_lock_dir or default_lock_dir(), holder)
    claims = Claims(key_leases, data_dir_lock)
    try:
        for account in accounts:
            await _claim_account(claims, account)
    except BaseException:
        await claims.release()
        raise
    return claims


async def _claim_account(claims: Claims, account: AccountConfig) -> None:
    held: list[KeyLease] = []
    try:
        for fingerprint in account.key_fingerprints:
            held.append(await claims.key_leases.acquire(fingerprint))
    except KeyInUse as exc:
        for lease in held:
            await claims.key_leases.release(lease)
        why = f"account {account.name!r} refused: {exc.message}; this gateway signs nothing for it"
        log.error(why, extra={"account": account.name, "key_fingerprint": exc.key})
        claims.refused[account.name] = why
        return
    claims.leases[account.name] = held
