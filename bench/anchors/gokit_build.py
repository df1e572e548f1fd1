"""Build the Go programs of the benchmark offline, from Debian packages.

Go modules cannot be downloaded here, so the programs build in GOPATH mode
(``GO111MODULE=off``) against the sources Debian installs under
``/usr/share/gocode``: Go kit 0.10, the Prometheus Go client, ``x/time/rate``,
grpc-go 1.33 and golang/protobuf 1.3. Missing packages are installed with
``scripts/apt-install`` (which needs root). Binaries, generated code and Go's
build cache go to ``bench/.work/`` (ignored by git); a binary is rebuilt only
when one of its sources is newer.

* `build`: the HTTP anchor, ``bench/anchors/gokit/main.go``.
* `build_grpc`: the gRPC anchor, ``bench/anchors/gokit_grpc/main.go``, whose
  protobuf code is generated from ``examples/addsvc/pb/addsvc.proto`` with
  ``protoc`` and ``protoc-gen-go`` 1.3 into the Go package ``addsvcpb``; and the
  gRPC load generator, ``bench/anchors/grpcload/main.go``.

Both raise `GoUnavailable` with the reason when they cannot, so that the
benchmark can skip the rows instead of failing. Run this module
(``python -m bench.anchors.gokit_build``) to build everything by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import REPO_ROOT

__all__ = [
    "BINARY",
    "GRPC_PACKAGES",
    "PACKAGES",
    "PROTO",
    "GoUnavailable",
    "GrpcPrograms",
    "build",
    "build_grpc",
    "go_version",
    "package_versions",
]

PACKAGES = (
    "golang-go",
    "golang-github-go-kit-kit-dev",
    "golang-github-prometheus-client-golang-dev",
    "golang-golang-x-time-dev",
)
"""The Debian packages the HTTP anchor builds from; their dependencies come with them."""

GRPC_PACKAGES = (
    "golang-go",
    "golang-github-go-kit-kit-dev",
    "golang-google-grpc-dev",
    "golang-github-golang-protobuf-1-3-dev",
    "protoc-gen-go-1-3",
    "protobuf-compiler",
)
"""The Debian packages the gRPC anchor and the load generator build from."""

GOPATH = Path("/usr/share/gocode")
ANCHORS = Path(__file__).parent
SOURCE = ANCHORS / "gokit" / "main.go"
WORK = REPO_ROOT / "bench" / ".work"
BINARY = WORK / "gokit-sum"
PROTO = REPO_ROOT / "examples" / "addsvc" / "pb" / "addsvc.proto"
"""The service both the Python and the Go gRPC servers serve."""

_GRPC_SOURCE = ANCHORS / "gokit_grpc" / "main.go"
_LOAD_SOURCE = ANCHORS / "grpcload" / "main.go"
_GENERATED_GOPATH = WORK / "gopath"
_GENERATED = _GENERATED_GOPATH / "src" / "addsvcpb" / "addsvc.pb.go"

_IMPORTS = (
    "github.com/go-kit/kit/transport/http",
    "github.com/go-kit/kit/ratelimit",
    "github.com/prometheus/client_golang/prometheus",
    "golang.org/x/time/rate",
)
_GRPC_IMPORTS = (
    "github.com/go-kit/kit/transport/grpc",
    "google.golang.org/grpc",
    "github.com/golang/protobuf/proto",
)
_GRPC_TOOLS = ("go", "protoc", "protoc-gen-go")
_INSTALL_TIMEOUT_S = 600
_BUILD_TIMEOUT_S = 300


class GoUnavailable(RuntimeError):
    """A Go program of the benchmark cannot be built here; the message says why."""


@dataclass(frozen=True, slots=True)
class GrpcPrograms:
    """The built gRPC programs."""

    server: Path
    """The Go kit gRPC anchor, ``gokit-grpc-sum -addr HOST:PORT``."""
    load: Path
    """The load generator, ``grpcload -addr HOST:PORT -method ... -request HEX -expect HEX``."""


def build() -> Path:
    """Install what the HTTP anchor lacks, build it if it is stale, and return its path."""
    _install(PACKAGES, _IMPORTS, ("go",))
    _go_build(SOURCE, BINARY)
    return BINARY


def build_grpc() -> GrpcPrograms:
    """Install what the gRPC programs lack, generate and build what is stale, return them."""
    load = WORK / "grpcload"
    server = WORK / "gokit-grpc-sum"
    _install(GRPC_PACKAGES, _GRPC_IMPORTS, _GRPC_TOOLS)
    _go_build(_LOAD_SOURCE, load)
    if not PROTO.is_file():
        raise GoUnavailable(f"{PROTO.relative_to(REPO_ROOT)} is missing")
    _generate()
    _go_build(_GRPC_SOURCE, server, uses=_GENERATED)
    return GrpcPrograms(server=server, load=load)


def go_version() -> str:
    """``go version``'s answer, or "unknown"."""
    go = shutil.which("go")
    if go is None:
        return "unknown"
    done = subprocess.run(
        [go, "version"], env=_go_env(), capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout.strip() or "unknown"


def package_versions(packages: Sequence[str]) -> str:
    """``package version, ...`` for installed Debian *packages*, as dpkg reports them."""
    versions = []
    for package in packages:
        try:
            done = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            version = done.stdout.strip() or "(version unknown)"
        except (OSError, subprocess.TimeoutExpired):
            version = "(version unknown)"
        versions.append(f"{package} {version}")
    return ", ".join(versions)


def _stale(target: Path, sources: Sequence[Path]) -> bool:
    return not target.exists() or any(
        source.stat().st_mtime > target.stat().st_mtime for source in sources
    )


def _generate() -> None:
    """Generate the Go code of `PROTO` (old-style, ``plugins=grpc``) if it is stale."""
    if not _stale(_GENERATED, [PROTO]):
        return
    _GENERATED.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            "protoc",
            f"--proto_path={PROTO.parent}",
            f"--go_out=plugins=grpc,paths=source_relative:{_GENERATED.parent}",
            PROTO.name,
        ],
        "protoc",
    )


def _go_build(source: Path, binary: Path, uses: Path | None = None) -> None:
    """Build *source* into *binary* if it is older than the source or the code it *uses*."""
    if not _stale(binary, [source] if uses is None else [source, uses]):
        return
    WORK.mkdir(parents=True, exist_ok=True)
    go = shutil.which("go")
    if go is None:
        raise GoUnavailable("`go` is not on PATH after installing golang-go")
    _run([go, "build", "-trimpath", "-o", str(binary), str(source)], "go build")


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=_go_env(),
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GoUnavailable(f"`{what}` took more than {_BUILD_TIMEOUT_S} s") from None
    except OSError as exc:
        raise GoUnavailable(f"`{what}` did not run: {exc}") from None
    if done.returncode != 0:
        raise GoUnavailable(f"`{what}` failed:\n{done.stderr[-4000:]}")


def _go_env() -> dict[str, str]:
    return {
        **os.environ,
        "GO111MODULE": "off",
        # Generated code first, then Debian's sources.
        "GOPATH": f"{_GENERATED_GOPATH}{os.pathsep}{GOPATH}",
        "GOCACHE": str(WORK / "gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }


def _install(packages: Sequence[str], imports: Sequence[str], tools: Sequence[str]) -> None:
    have_tools = all(shutil.which(tool) is not None for tool in tools)
    if have_tools and all((GOPATH / "src" / path).is_dir() for path in imports):
        return
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / "apt-install"), *packages],
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GoUnavailable(f"installing {' '.join(packages)} failed: {exc}") from None
    if done.returncode != 0:
        raise GoUnavailable(f"installing {' '.join(packages)} failed:\n{done.stderr[-2000:]}")


if __name__ == "__main__":
    try:
        print(build())
        programs = build_grpc()
        print(programs.server)
        print(programs.load)
    except GoUnavailable as exc:
        sys.exit(f"gokit_build: {exc}")
