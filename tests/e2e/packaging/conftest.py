"""Wheels of this checkout and scratch virtualenvs to install them in, outside the repository.

The wheels are built from a copy of the checkout's files (tracked plus untracked, not ignored),
so building never writes into the working tree. A scratch venv reuses the shared venv's
site-packages for third-party dependencies through a `.pth` line (appended after the scratch
venv's own site-packages, and `.pth` files of that directory are not run, so the repository's
editable installs stay invisible): installing from the index would download grpcio and friends
on every run, and this keeps the test well under a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Wheels:
    server: Path  # krakengw: gateway, simulator, krakengw_testing
    client: Path  # krakengw-client: krakengw


def _copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = Path(os.fsdecode(raw))
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def _build(project: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
        cwd=project,
        check=True,
        capture_output=True,
    )
    (wheel,) = sorted(out.glob("*.whl"))
    return wheel


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout's files (what a fresh clone with these changes would hold)."""
    src = tmp_path_factory.mktemp("checkout")
    _copy_checkout(src)
    return src


@pytest.fixture(scope="session")
def wheels(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    src = checkout
    server = _build(src, tmp_path_factory.mktemp("dist-server"))
    client = _build(src / "clients" / "python", tmp_path_factory.mktemp("dist-client"))
    return Wheels(server=server, client=client)


def scratch_env() -> dict[str, str]:
    """The environment for processes of the scratch venv: nothing of this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def make_venv(root: Path, *wheels: Path) -> Path:
    """A venv at `root` whose third-party imports come from the shared site-packages, with
    `wheels` installed (no dependency resolution); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=scratch_env(),
    ).stdout.strip()
    Path(purelib, "_shared_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    if not wheels:
        return python
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--ignore-installed",  # never touch the shared venv's own installs
            *map(str, wheels),
        ],
        check=True,
        capture_output=True,
        env=scratch_env(),
    )
    return python
