"""The committed Python stubs match the protos, and the protos pass buf lint."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = REPO / "clients" / "python" / "krakengw" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def _generated(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if p.name.endswith(GENERATED_SUFFIXES)
    }


def test_regenerating_stubs_changes_nothing(tmp_path: Path) -> None:
    subprocess.run([str(REPO / "scripts" / "gen_protos.sh"), str(tmp_path)], check=True)
    fresh = _generated(tmp_path / "krakengw" / "v1")
    committed = _generated(STUB_DIR)
    assert fresh, "the generator produced no stubs"
    assert sorted(fresh) == sorted(committed), "stub file set differs: run scripts/gen_protos.sh"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale stubs {stale}: run scripts/gen_protos.sh and commit"


def test_buf_lint_passes() -> None:
    result = subprocess.run(
        ["npx", "--no-install", "buf", "lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
