"""The committed protobuf code is what `make proto` generates from the committed .proto files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("grpc_tools", reason="grpcio-tools (the test extra) generates the code")

ROOT = Path(__file__).resolve().parents[3]
TREES = ("src", "tests", "examples", "bench")  # the Makefile's `proto` target searches the same


def protos() -> list[Path]:
    """Every .proto file of the project, outside hidden folders, relative to the root."""
    found = []
    for tree in TREES:
        for path in (ROOT / tree).rglob("*.proto"):
            relative = path.relative_to(ROOT)
            if not any(part.startswith(".") for part in relative.parts):
                found.append(relative)
    return sorted(found)


def test_the_examples_and_tests_have_protos() -> None:
    """The search finds addsvc's and the gRPC tests' .proto files."""
    expected = {"examples/addsvc/pb/addsvc.proto", "tests/transport/grpc/pb/grpctest.proto"}
    assert {Path(name) for name in expected} <= set(protos())


def test_generated_code_is_current(tmp_path: Path) -> None:
    """protoc run as `make proto` runs it, into a temporary folder, gives the committed files."""
    sources = [str(path) for path in protos()]
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", ".",
         f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", *sources],
        cwd=ROOT, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    generated = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())

    assert generated, "protoc generated nothing"
    stale = [
        str(path)
        for path in generated
        if not (ROOT / path).is_file()
        or (ROOT / path).read_bytes() != (tmp_path / path).read_bytes()
    ]
    assert not stale, f"generated code differs from the .proto files; run `make proto`: {stale}"
