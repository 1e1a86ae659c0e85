"""A protoc plugin that places files exactly as protoc-gen-go does, without generating Go.

protoc-gen-go (google.golang.org/protobuf/compiler/protogen) names each output
`<import path>/<proto file base name>.pb.go`, the import path being `go_package` up to an
optional `;package name`; `paths=source_relative` uses the proto's own directory instead, and
`module=PREFIX` strips PREFIX from the import path (and fails if a file's path lies outside it).
A file without `go_package` (and no `M` mapping) is an error. This plugin applies those rules to
the CodeGeneratorRequest real protoc sends, and writes one small file per placement.
"""

from __future__ import annotations

import sys
from pathlib import PurePosixPath

from google.protobuf.compiler import plugin_pb2


def _placement(name: str, go_package: str, params: dict[str, str]) -> str:
    base = PurePosixPath(name).with_suffix("").name + ".pb.go"
    if params.get("paths") == "source_relative":
        return str(PurePosixPath(name).parent / base)
    import_path = go_package.split(";", 1)[0]
    path = f"{import_path}/{base}"
    module = params.get("module")
    if module:
        if not path.startswith(module + "/"):
            raise ValueError(f"{name}: {path} is outside module {module}")
        path = path.removeprefix(module + "/")
    return path


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    params = dict(p.split("=", 1) for p in request.parameter.split(",") if "=" in p)
    files = {f.name: f for f in request.proto_file}
    # Like protoc-gen-go: proto3 `optional` is supported (protoc refuses plugins that do not).
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    try:
        for name in request.file_to_generate:
            go_package = files[name].options.go_package
            if not go_package:
                raise ValueError(f"unable to determine Go import path for {name!r}")
            package = go_package.split(";", 1)[1] if ";" in go_package else ""
            out = response.file.add()
            out.name = _placement(name, go_package, params)
            out.content = f"// {name}\npackage {package}\n"
    except ValueError as exc:
        response.error = str(exc)
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
