"""The simulator's package rules (simulator/README.md, "Layout"), checked on its imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "simulator"
TOP_LEVEL = {p.stem for p in ROOT.glob("*.py")}

# package -> the parts of `simulator` its modules may import (besides themselves)
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "wire": {"faults"},
    "spot": {"engine", "wire"} | TOP_LEVEL,
    "futures": {"engine", "wire"} | TOP_LEVEL,
}


def _imported_parts(path: Path) -> set[str]:
    """The second component of every `simulator.<part>...` module the file imports."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "simulator":
                names = [f"simulator.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        parts |= {n.split(".")[1] for n in names if n.startswith("simulator.")}
    return parts


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files, f"simulator/{package}/ has no modules"
    offending = {
        f"{path.relative_to(ROOT.parent)} imports simulator.{part}"
        for path in files
        for part in _imported_parts(path) - ALLOWED[package] - {package}
    }
    assert not offending, sorted(offending)


def test_no_flat_front_end_modules_left_at_the_top() -> None:
    flat = sorted(name for name in TOP_LEVEL if name.startswith(("spot_", "futures_")))
    assert not flat, flat
