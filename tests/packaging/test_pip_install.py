"""The README's one-command install from built wheels, in a fresh venv that sees nothing of
this checkout: `pip install --find-links dist krakengw` brings the server, the simulator and the
client (dependencies resolved by pip as usual: the configured index and wheelhouse), and the
installed commands run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import Wheels, scratch_env


@pytest.mark.timeout(300)
def test_one_pip_command_installs_server_simulator_and_client(
    wheels: Wheels, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for wheel in (wheels.server, wheels.client):
        shutil.copy(wheel, dist)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--find-links", str(dist), "krakengw"],
        capture_output=True,
        text=True,
        env=scratch_env(),
        timeout=280,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    check = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import gateway.cli, simulator.app, krakengw, krakengw_testing.local_kraken\n"
            "print('ok')",
        ],
        capture_output=True,
        text=True,
        env=scratch_env(),
        check=False,
    )
    assert check.stdout.strip() == "ok", check.stderr
    for script in ("kraken-gateway", "krakengw"):
        shown = subprocess.run(
            [str(venv / "bin" / script), "--version"],
            capture_output=True,
            text=True,
            env=scratch_env(),
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
    # Runtime only: no development tools came along.
    listed = subprocess.run(
        [str(venv / "bin" / "pip"), "list", "--format=freeze"],
        capture_output=True,
        text=True,
        env=scratch_env(),
        check=True,
    ).stdout.lower()
    for dev_tool in ("mypy", "ccxt", "ruff", "pytest"):
        assert f"\n{dev_tool}==" not in "\n" + listed, dev_tool
