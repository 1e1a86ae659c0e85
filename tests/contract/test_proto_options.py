"""Every contract file carries the same per-language options, the descriptor set built by
`make descriptors` (buf build) has them, and real protoc with a Go plugin would place the Go
files by `go_package` (tests/contract/go_placement_plugin.py applies protoc-gen-go's rules)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

REPO = Path(__file__).resolve().parents[2]
PROTO = REPO / "proto"
GO_IMPORT = "github.com/krakengw/krakengw/gen/go/krakengw/v1"
CONTRACT = sorted(
    p.relative_to(PROTO).as_posix() for p in (PROTO / "krakengw" / "v1").glob("*.proto")
)


def descriptor_set(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    out = tmp_path / "krakengw.binpb"
    subprocess.run(["npx", "--no-install", "buf", "build", "-o", str(out)], cwd=REPO, check=True)
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def test_descriptor_set_carries_the_same_options_in_every_file(tmp_path: Path) -> None:
    files = {f.name: f for f in descriptor_set(tmp_path).file}
    assert set(CONTRACT) <= set(files)
    assert "google/rpc/status.proto" in files  # imports included: self-contained for tools
    for name in CONTRACT:
        o = files[name].options
        assert o.go_package == f"{GO_IMPORT};krakengwv1", name
        assert o.java_package == "com.krakengw.v1" and o.java_multiple_files, name
        assert o.csharp_namespace == "KrakenGw.V1", name
        assert o.php_namespace == "KrakenGw\\V1" and o.ruby_package == "KrakenGw::V1", name
        assert o.objc_class_prefix == "KGW", name
    outer = [files[n].options.java_outer_classname for n in CONTRACT]
    assert len(set(outer)) == len(outer)  # one outer class per file, no clash
    # Comments survive: tools that render docs from the descriptor set need them.
    assert any(
        loc.leading_comments for loc in files["krakengw/v1/orders.proto"].source_code_info.location
    )


def _protoc_go(tmp_path: Path, *go_opts: str) -> list[str]:
    plugin = tmp_path / "protoc-gen-go"
    script = REPO / "tests" / "contract" / "go_placement_plugin.py"
    plugin.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "go"
    out.mkdir()
    opts = [f"--go_opt={o}" for o in go_opts]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            str(PROTO),
            "-I",
            str(PROTO / "third_party"),
            f"--plugin=protoc-gen-go={plugin}",
            f"--go_out={out}",
            *opts,
            *CONTRACT,
        ],
        check=True,
        capture_output=True,
    )
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.go"))


def test_protoc_go_plugin_places_files_by_go_package(tmp_path: Path) -> None:
    expected = [f"{GO_IMPORT}/{Path(n).stem}.pb.go" for n in CONTRACT]
    assert _protoc_go(tmp_path) == sorted(expected)


def test_protoc_go_plugin_module_option_strips_the_module(tmp_path: Path) -> None:
    placed = _protoc_go(tmp_path, "module=github.com/krakengw/krakengw/gen/go")
    assert placed == sorted(f"krakengw/v1/{Path(n).stem}.pb.go" for n in CONTRACT)
    content = (tmp_path / "go" / "krakengw" / "v1" / "orders.pb.go").read_text()
    assert "package krakengwv1" in content


def test_a_file_without_go_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bare.proto").write_text('syntax = "proto3";\npackage bare.v1;\n')
    plugin = tmp_path / "protoc-gen-go"
    script = REPO / "tests" / "contract" / "go_placement_plugin.py"
    plugin.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            str(tmp_path),
            f"--plugin=protoc-gen-go={plugin}",
            f"--go_out={tmp_path}",
            "bare.proto",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and "Go import path" in run.stderr
