"""Run the benchmarks: `python -m bench` runs every one, `python -m bench NAME [ARGS...]` one.

A benchmark is any `bench/<name>.py` with a top-level `main()` (found by reading the source, not
by importing it). Each runs in its own `python -m bench.<name>` process, so none inherits
another's threads, caches or garbage, with its default sizes (a few minutes in all); a failing
one is reported and the others still run. The known ones come first, in a fixed order.

    python -m bench                     # all, default sizes
    python -m bench --quick             # all; `--quick` goes to those that accept it
    python -m bench order_entry --orders 1000
    python -m bench --list
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FIRST = ("journal_stream", "order_entry", "sim_rest", "sim_ws", "kraken_parse")
NOT_BENCHES = frozenset({"__init__", "__main__", "common"})


def _has_main(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in tree.body
    )


def discover() -> list[str]:
    """Benchmark module names, the known ones first, then the others alphabetically."""
    found = {
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if path.stem not in NOT_BENCHES and _has_main(path)
    }
    return [name for name in FIRST if name in found] + sorted(found.difference(FIRST))


def _accepts_quick(name: str) -> bool:
    return '"--quick"' in (BENCH_DIR / f"{name}.py").read_text()


def run_one(name: str, args: list[str]) -> int:
    print(f"=== bench.{name} {' '.join(args)}".rstrip(), flush=True)
    start = time.perf_counter()
    code = subprocess.call([sys.executable, "-m", f"bench.{name}", *args], cwd=BENCH_DIR.parent)
    status = "ok" if code == 0 else f"FAILED (exit {code})"
    print(f"=== bench.{name}: {status} in {time.perf_counter() - start:.1f} s\n", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = discover()
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        print("benchmarks:", " ".join(names))
        return 0
    if args[:1] == ["--list"]:
        print("\n".join(names))
        return 0
    if args and not args[0].startswith("-"):
        name = args[0].removeprefix("bench.")
        if name not in names:
            print(f"no benchmark {name!r}; known: {' '.join(names)}", file=sys.stderr)
            return 2
        return run_one(name, args[1:])
    quick = "--quick" in args
    unknown = [a for a in args if a != "--quick"]
    if unknown:
        print(f"unknown arguments {unknown}; see python -m bench --help", file=sys.stderr)
        return 2
    start = time.perf_counter()
    failed = [
        name
        for name in names
        if run_one(name, ["--quick"] if quick and _accepts_quick(name) else []) != 0
    ]
    total = time.perf_counter() - start
    print(f"{len(names) - len(failed)}/{len(names)} benchmarks ok in {total:.0f} s", end="")
    print(f"; failed: {' '.join(failed)}" if failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
