"""Optional port for venue adapters: how the venue connection of one key is doing right now.

Read by the operator console and the metrics exporter; venue-neutral (a Kraken adapter fills
it from its private WebSocket, the exchange's system status and its dead man's switch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["VenueStatus", "VenueStatusPort"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueStatus:
    venue: str
    key_id: str  # a non-secret fingerprint of the API key ("" for venues without keys)
    connected: bool  # the private (order/execution) connection is up
    system_status: str  # the venue's own word, e.g. online, maintenance, cancel_only
    dead_man_armed: bool = False
    dead_man_timeout_s: int | None = None
    # Seconds until the venue cancels every order of the key, if nothing refreshes it; None
    # while the switch is not armed (or before the venue accepted the first refresh).
    dead_man_expires_in_s: float | None = None


@runtime_checkable
class VenueStatusPort(Protocol):
    def venue_status(self) -> VenueStatus: ...
