#!/usr/bin/env bash
# Generates the contract's Go code into build/go (git-ignored) and builds build/go/bin/agent-runtime-go.
# GOPATH mode: the libraries are Debian's in /usr/share/gocode (clients/go/install-toolchain.sh), so the
# build needs no network and no go.mod. Python (PYTHON, default .venv/bin/python) finds google/api's protos.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-.venv/bin/python}"
OUT=build/go
# The Go import path of the contract's package, given to the plugins since the protos set no go_package.
GO_PACKAGE=agentruntime/gen/agentruntime/v1

for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing: run clients/go/install-toolchain.sh" >&2; exit 1; }
done
GOOGLEAPIS="$("$PYTHON" -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent.parent)')"

rm -rf "$OUT/src"
mkdir -p "$OUT/src/$GO_PACKAGE" "$OUT/bin"
protos=(proto/agentruntime/v1/*.proto)
mappings=$(printf ",M%s=$GO_PACKAGE" "${protos[@]#proto/}")
protoc -Iproto -I"$GOOGLEAPIS" \
  --go_out="$OUT/src/$GO_PACKAGE" --go_opt="paths=import$mappings,module=$GO_PACKAGE" \
  --go-grpc_out="$OUT/src/$GO_PACKAGE" --go-grpc_opt="paths=import$mappings,module=$GO_PACKAGE" \
  "${protos[@]}"

export GO111MODULE=off GOPATH="$ROOT/$OUT:/usr/share/gocode" GOCACHE="${GOCACHE:-$ROOT/$OUT/cache}"
# Built by directory: in GOPATH mode a package outside GOPATH may still import those inside it.
go build -o "$OUT/bin/agent-runtime-go" ./clients/go/cmd/agent-runtime-go
