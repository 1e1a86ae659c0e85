"""The README's one-command installs, in fresh venvs that see nothing of this checkout:
`pip install --find-links dist krakengw` from built wheels brings the server, the simulator and
the client with their dependencies (resolved by pip as usual: the configured index and
wheelhouse), the installed commands run, and no development tool comes along;
`pip install ./clients/python .` builds and installs both projects from a clone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.packaging.conftest import Wheels, make_venv, scratch_env


def _pip_install(venv: Path, *args: str, cwd: Path | None = None) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-compile", *args],
        capture_output=True,
        text=True,
        env=scratch_env(),
        cwd=cwd,
        timeout=280,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]


@pytest.mark.timeout(300)
def test_one_pip_command_installs_server_simulator_and_client(
    wheels: Wheels, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for wheel in (wheels.server, wheels.client):
        shutil.copy(wheel, dist)
    _pip_install(tmp_path / "venv", "--find-links", str(dist), "krakengw")
    _assert_runtime_installed(tmp_path / "venv")


def test_the_clone_command_builds_and_installs_both_projects(
    checkout: Path, tmp_path: Path
) -> None:
    """`pip install ./clients/python .` from a clone. Dependency resolution is the wheel test's
    part; here the shared site-packages provide the dependencies (`make_venv`), which keeps this
    to seconds: it proves both projects build from a clone and install side by side."""
    clone = tmp_path / "clone"
    shutil.copytree(checkout, clone, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    python = make_venv(tmp_path / "venv")
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-compile",
            "--no-deps",
            "--ignore-installed",
            "--no-build-isolation",
            "./clients/python",
            ".",
        ],
        capture_output=True,
        text=True,
        env=scratch_env(),
        cwd=clone,
        timeout=280,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    where = subprocess.run(
        [str(python), "-c", "import gateway, krakengw; print(gateway.__file__, krakengw.__file__)"],
        capture_output=True,
        text=True,
        env=scratch_env(),
        cwd=tmp_path,  # `python -c` puts the working directory first on the path
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(tmp_path / "venv")) for path in where), where


def _assert_runtime_installed(venv: Path) -> None:
    check = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import gateway.cli, simulator.app, krakengw, krakengw_testing.local_kraken\n"
            "print(gateway.cli.__file__)",
        ],
        capture_output=True,
        text=True,
        env=scratch_env(),
        cwd=venv,  # not the checkout: `python -c` puts the working directory first on the path
        check=False,
    )
    assert check.stdout.strip().startswith(str(venv)), check.stdout + check.stderr
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
