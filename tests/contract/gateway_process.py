"""Runs the real `kraken-gateway serve` (development config: the embedded simulator) as a
child process on 127.0.0.1, for the client contract tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GATEWAY = Path(sys.executable).with_name("kraken-gateway")
TOKEN = "contract-test-token"


class GatewayProcess:
    """One gateway process over a data directory that outlives it (restarts keep the journal)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.target = "127.0.0.1:0"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        """Starts on the previous port (or a free one the first time); returns host:port."""
        self._process = subprocess.Popen(
            [str(GATEWAY), "serve", "--listen", self.target, "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "KRAKENGW_TOKEN": TOKEN},
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()  # "" if it died before listening
        assert line.startswith("listening on "), f"gateway did not start: {line!r}"
        self.target = line.removeprefix("listening on ")
        # New orders are accepted once it has reconciled with the venue: it then says so.
        while not line.startswith("serving "):
            line = self._process.stdout.readline()
            assert line, "gateway stopped before serving"
        return self.target

    def kill(self) -> None:
        """kill -9: no graceful shutdown, no journal flush beyond what was committed."""
        self._stop(signal.SIGKILL)

    def _stop(self, sig: signal.Signals) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(sig)
            self._process.wait()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def stop(self) -> None:
        self._stop(signal.SIGTERM)


@contextmanager
def running_gateway(data_dir: Path) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(data_dir)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()
