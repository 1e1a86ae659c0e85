"""Find secrets and bearer tokens in captured log text.

Known values (the simulator's documented demo secrets, the gateway's development token, anything a
test registers) are matched exactly; anything shaped like a Kraken API secret (64 bytes, base64)
is matched by pattern, so a secret nobody registered is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A Kraken spot/futures secret is 64 random bytes in base64: 86 characters plus padding.
_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==")

_registered: set[str] = set()
# Text the gateway served to a client during the run (console pages and API answers, metrics
# scrapes, log files of subprocesses): the suite-wide scan checks it along with the log lines.
served_lines: list[str] = []


def record_served(text: str) -> None:
    """Hand text a test received from the gateway to the final secret scan."""
    served_lines.extend(text.splitlines())


def register_secret(value: str) -> None:
    """Tests that mint their own tokens or secrets register them so the final scan knows them."""
    if len(value) >= 8:
        _registered.add(value)


def known_secrets() -> set[str]:
    from gateway.cli import DEV_TOKEN
    from simulator.accounts import DEMO_FUTURES_SECRET, DEMO_SPOT_SECRET

    return {DEV_TOKEN, DEMO_SPOT_SECRET, DEMO_FUTURES_SECRET, *_registered}


def find_leaks(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """Lines that contain a known secret or a secret-shaped string (the value itself masked)."""
    values = [s for s in secrets if s]
    leaks = []
    for line in lines:
        hit = any(v in line for v in values) or _SECRET_SHAPE.search(line) is not None
        if hit:
            masked = _SECRET_SHAPE.sub("<secret>", line)
            for v in values:
                masked = masked.replace(v, "<secret>")
            leaks.append(masked)
    return leaks
