"""Suite-wide guard: no log line emitted during the whole test run, and nothing the gateway
served to a test (console pages and API answers, metrics scrapes, subprocess logs handed over
with `record_served`), may carry a secret or token."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.secret_scan import find_leaks, known_secrets, served_lines
from tests.support.postgres import PostgresServer

# The plugin users get through the `pytest11` entry point; listed here too so a checkout whose
# installed metadata predates the entry point still has the fixtures.
pytest_plugins = ["krakengw_testing.plugin"]


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string is not this handler's problem
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


_capture = _LogCapture()


def _attach() -> None:
    root = logging.getLogger()
    if _capture not in root.handlers:
        root.addHandler(_capture)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_configure(config: pytest.Config) -> None:
    _attach()
    # Gateways lock their venue keys in $XDG_RUNTIME_DIR/krakengw (gateway.leases.local): each
    # test run gets its own, so runs side by side (or a gateway on this machine) never collide.
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="krakengw-test-run-")


# A slow test in its full form (SOAK unset) runs for minutes (the memory soak: 30): the default
# per-test timeout (pyproject) is for the short form, so a full run gets this one unless the test
# sets its own.
FULL_SOAK_TIMEOUT_S = 3 * 3600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SOAK") == "short":
        return
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(FULL_SOAK_TIMEOUT_S))


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ["XDG_RUNTIME_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _scan_logs_of_every_test() -> None:
    # In-process servers may reconfigure the root logger (gateway.logging_setup replaces its
    # handlers), so the capture is put back before each test.
    _attach()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = find_leaks([*_capture.lines, *served_lines], known_secrets())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"secret scan: {len(_capture.lines)} log lines, {len(served_lines)} served lines "
            f"(console, metrics, subprocess logs), {len(leaks)} leaks"
        )
    if leaks:
        for line in leaks[:20]:
            if reporter is not None:
                reporter.write_line(f"  LEAK: {line[:300]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run (started on first use); tests take a fresh
    database each with `create_database()`. Its password is also in $KRAKENGW_TEST_PG_PASSWORD
    for child processes."""
    server = PostgresServer.start()
    os.environ["KRAKENGW_TEST_PG_PASSWORD"] = server.password
    try:
        yield server
    finally:
        server.stop()
