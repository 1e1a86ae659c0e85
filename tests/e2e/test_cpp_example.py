"""The C++ example client (examples/cpp) built with the system's gRPC and run against a live
gateway on the simulator: it logs on, places and cancels an order, gets a fill on the execution
stream and shows an ErrorInfo reason.

The build is cached in `.cache/cpp-example/<hash>` (gitignored), keyed by the example's sources,
the protos and the toolchain versions, so only the first run pays for compiling (minutes on a
busy 2-core machine); the toolchain is installed by `make cpp-toolchain` (part of `make test`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from krakengw_testing import LocalGateway

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cpp"
CACHE = REPO / ".cache" / "cpp-example"


def _toolchain_versions() -> str:
    missing = [
        tool
        for tool in ("protoc", "grpc_cpp_plugin", "pkg-config", "make")
        if not shutil.which(tool)
    ]
    assert not missing, (
        f"missing {missing}: run `make cpp-toolchain` (installs the Debian packages)"
    )
    versions = subprocess.run(
        ["pkg-config", "--modversion", "grpc++", "protobuf"], capture_output=True, text=True
    )
    assert versions.returncode == 0, (
        "grpc++/protobuf dev packages missing: run `make cpp-toolchain`"
    )
    protoc = subprocess.run(["protoc", "--version"], capture_output=True, text=True, check=True)
    return versions.stdout + protoc.stdout


def _source_hash() -> str:
    digest = hashlib.sha256(_toolchain_versions().encode())
    inputs = [EXAMPLE / "client.cc", EXAMPLE / "Makefile"]
    inputs += sorted((REPO / "proto").rglob("*.proto"))
    for path in inputs:
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def built_example() -> Path:
    """The example binary, built once per source hash."""
    done = CACHE / _source_hash()
    binary = done / "krakengw_example"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE))
    build = subprocess.run(
        ["make", "-C", str(EXAMPLE), f"OUT={work}", f"-j{os.cpu_count() or 2}"],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    try:
        work.rename(done)  # atomic: a half-built directory never looks like a cached build
    except OSError:  # a concurrent run cached it first
        shutil.rmtree(work, ignore_errors=True)
    for stale in CACHE.iterdir():  # builds of older sources are never used again
        if stale != done and not stale.name.startswith("build-"):
            shutil.rmtree(stale, ignore_errors=True)
    return binary


@pytest.mark.timeout(900)  # a cold build compiles the generated stubs
def test_cpp_example_places_cancels_and_fills(krakengw_gateway: LocalGateway) -> None:
    binary = built_example()
    run = subprocess.run(
        [str(binary), krakengw_gateway.target, krakengw_gateway.token, "BTC/USD", "1000", "0.01"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    first = {line.split()[0]: line for line in reversed(lines)}
    assert first["logon"].startswith("logon demo ")
    placed = [line.split() for line in lines if line.startswith("placed ")]
    assert [p[1].split("-")[1] for p in placed] == ["rest", "mkt"]
    assert first["canceled"].split()[2] == "ORD_STATUS_CANCELED"
    fill = first["fill"].split()
    assert fill[1] == placed[1][1] and fill[2] == "qty=0.01" and fill[3].startswith("price=")
    assert "reason=ORDER_NOT_FOUND" in first["error"]
    assert first["logout"] == "logout canceled=0"
    assert krakengw_gateway.token not in run.stdout + run.stderr
