"""Generate the Python code of the contract into server/agent_runtime/_gen/.

grpcio-tools writes absolute imports (`from agentruntime.v1 import ...`); they are rewritten to live
under `agent_runtime._gen` so the generated code needs nothing on sys.path. With --check, the code is
generated into a temporary folder and compared with the committed one: a stale _gen fails.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
GEN_DIR = ROOT / "server" / "agent_runtime" / "_gen"
# google/api/*.proto ship inside the googleapis-common-protos wheel that the runtime already depends on.
GOOGLEAPIS_INCLUDE = Path(next(iter(google.api.__path__))).parent.parent
BIN_DIR = Path(sys.executable).parent
IMPORT_PATTERN = re.compile(r"^(from|import) agentruntime\.", re.MULTILINE)


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{GOOGLEAPIS_INCLUDE}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        # The mypy-protobuf plugins sit beside this interpreter, which need not be on PATH.
        f"--plugin=protoc-gen-mypy={BIN_DIR / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN_DIR / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in out_dir.rglob("*_pb2_grpc.py*"):
        if "Stub" not in path.read_text():  # a file without a service has nothing in its grpc module
            path.unlink()
    for path in out_dir.rglob("*.py*"):
        text = path.read_text()
        path.write_text(IMPORT_PATTERN.sub(r"\1 agent_runtime._gen.agentruntime.", text))
    for folder in [out_dir, *(p for p in out_dir.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


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
    if not check:
        shutil.rmtree(GEN_DIR, ignore_errors=True)
        generate(GEN_DIR)
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_gen"
        generate(fresh)
        stale = differences(GEN_DIR, fresh) if GEN_DIR.exists() else ["_gen is missing"]
    if stale:
        sys.exit("server/agent_runtime/_gen is stale; run `make proto`:\n  " + "\n  ".join(stale))


if __name__ == "__main__":
    main()
