"""Generate the code of the contract: the server's Python (server/agent_runtime/_gen/) and the clients'.

grpcio-tools writes absolute imports (`from agentruntime.v1 import ...`); for the server they are rewritten
to live under `agent_runtime._gen` so the generated code needs nothing on sys.path. The TypeScript client's
code comes from protoc-gen-es (installed by `npm install` in clients/typescript). With --check, the code is
generated into a temporary folder and compared with the committed one: a stale _gen fails.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
SERVER_GEN_DIR = ROOT / "server" / "agent_runtime" / "_gen"
TYPESCRIPT_GEN_DIR = ROOT / "clients" / "typescript" / "src" / "_gen"
PROTOC_GEN_ES = ROOT / "clients" / "typescript" / "node_modules" / ".bin" / "protoc-gen-es"
# google/api/*.proto ship inside the googleapis-common-protos wheel that the runtime already depends on.
GOOGLEAPIS_INCLUDE = Path(next(iter(google.api.__path__))).parent.parent
BIN_DIR = Path(sys.executable).parent
IMPORT_PATTERN = re.compile(r"^(from|import) agentruntime\.", re.MULTILINE)


def contract_protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def run_protoc(*args: str) -> None:
    includes = [f"-I{PROTO_ROOT}", f"-I{GOOGLEAPIS_INCLUDE}", f"-I{Path(protoc.__file__).parent / '_proto'}"]
    if protoc.main(["grpc_tools.protoc", *includes, *args]) != 0:
        raise SystemExit("protoc failed")


def generate_server(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    run_protoc(
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        # The mypy-protobuf plugins sit beside this interpreter, which need not be on PATH.
        f"--plugin=protoc-gen-mypy={BIN_DIR / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN_DIR / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *contract_protos(),
    )
    for path in out_dir.rglob("*_pb2_grpc.py*"):
        if "Stub" not in path.read_text():  # a file without a service has nothing in its grpc module
            path.unlink()
    for path in out_dir.rglob("*.py*"):
        text = path.read_text()
        path.write_text(IMPORT_PATTERN.sub(r"\1 agent_runtime._gen.agentruntime.", text))
    for folder in [out_dir, *(p for p in out_dir.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def generate_typescript(out_dir: Path) -> None:
    """protobuf-es messages and service descriptors, with the google/api files the contract imports and
    google.rpc's ErrorInfo and BadRequest, the details the runtime's errors carry."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_protoc(
        f"--plugin=protoc-gen-es={PROTOC_GEN_ES}",
        f"--es_out={out_dir}",
        # Node's ES modules need the extension in relative imports.
        "--es_opt=target=ts,import_extension=js",
        *contract_protos(),
        "google/api/annotations.proto",
        "google/api/http.proto",
        "google/rpc/error_details.proto",
    )


PYTHON_CLIENT_DIR = ROOT / "clients" / "python"
PYTHON_CLIENT_GEN_DIR = PYTHON_CLIENT_DIR / "src" / "agent_runtime_client" / "_gen"


def generate_python_client(out_dir: Path) -> None:
    """betterproto2 dataclasses and grpclib async stubs, with google.rpc's Status, ErrorInfo and BadRequest so
    the client reads the runtime's error details without the protobuf runtime."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # The plugin formats its output with the `ruff` on PATH and the settings of the current folder: this
    # interpreter's ruff and the client's own settings give the same code wherever this script runs.
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(BIN_DIR), saved_path])
    try:
        with contextlib.chdir(PYTHON_CLIENT_DIR):
            run_protoc(
                f"--plugin=protoc-gen-python_betterproto2={BIN_DIR / 'protoc-gen-python_betterproto2'}",
                f"--python_betterproto2_out={out_dir.resolve()}",  # resolved before the chdir
                "--python_betterproto2_opt=client_generation=async",
                *contract_protos(),
                "google/rpc/status.proto",
                "google/rpc/error_details.proto",
            )
    finally:
        os.environ["PATH"] = saved_path


TARGETS = {
    SERVER_GEN_DIR: generate_server,
    TYPESCRIPT_GEN_DIR: generate_typescript,
    PYTHON_CLIENT_GEN_DIR: generate_python_client,
}


def differences(left: Path, right: Path) -> list[str]:
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"only in {left}: {n}" for n in comparison.left_only]
    found += [f"only in {right}: {n}" for n in comparison.right_only]
    found += [f"differs: {n}" for n in comparison.diff_files]
    for name in comparison.common_dirs:
        found += differences(left / name, right / name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed _gen is stale")
    check = parser.parse_args().check
    for gen_dir, generate in TARGETS.items():
        if not check:
            shutil.rmtree(gen_dir, ignore_errors=True)
            generate(gen_dir)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "_gen"
            generate(fresh)
            stale = differences(gen_dir, fresh) if gen_dir.exists() else ["_gen is missing"]
        if stale:
            name = gen_dir.relative_to(ROOT)
            sys.exit(f"{name} is stale; run `make proto`:\n  " + "\n  ".join(stale))


if __name__ == "__main__":
    main()
