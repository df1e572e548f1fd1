"""Build the Go kit anchor (``bench/anchors/gokit/main.go``) offline, from Debian packages.

Go modules cannot be downloaded here, so the program builds in GOPATH mode
(``GO111MODULE=off``) against the sources Debian installs under
``/usr/share/gocode``: Go kit 0.10, the Prometheus Go client and ``x/time/rate``.
Missing packages are installed with ``scripts/apt-install`` (which needs root).
The binary and Go's build cache go to ``bench/.work/`` (ignored by git); the
binary is rebuilt only when ``main.go`` is newer.

`build` returns the binary's path, or raises `GoUnavailable` with the reason, so
that the benchmark can skip the Go kit rows instead of failing. Run this module
(``python -m bench.anchors.gokit_build``) to build by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench import REPO_ROOT

__all__ = ["BINARY", "PACKAGES", "GoUnavailable", "build", "go_version"]

PACKAGES = (
    "golang-go",
    "golang-github-go-kit-kit-dev",
    "golang-github-prometheus-client-golang-dev",
    "golang-golang-x-time-dev",
)
"""The Debian packages the anchor builds from; their dependencies come with them."""

GOPATH = Path("/usr/share/gocode")
SOURCE = Path(__file__).with_name("gokit") / "main.go"
WORK = REPO_ROOT / "bench" / ".work"
BINARY = WORK / "gokit-sum"

_IMPORTS = (
    "github.com/go-kit/kit/transport/http",
    "github.com/go-kit/kit/ratelimit",
    "github.com/prometheus/client_golang/prometheus",
    "golang.org/x/time/rate",
)
_INSTALL_TIMEOUT_S = 600
_BUILD_TIMEOUT_S = 300


class GoUnavailable(RuntimeError):
    """The Go kit anchor cannot be built here; the message says why."""


def build() -> Path:
    """Install what is missing, build the binary if it is stale, and return its path."""
    _install()
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    WORK.mkdir(parents=True, exist_ok=True)
    go = shutil.which("go")
    if go is None:
        raise GoUnavailable("`go` is not on PATH after installing golang-go")
    try:
        done = subprocess.run(
            [go, "build", "-trimpath", "-o", str(BINARY), str(SOURCE)],
            cwd=REPO_ROOT,
            env=_go_env(),
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GoUnavailable(f"`go build` took more than {_BUILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise GoUnavailable(f"`go build` failed:\n{done.stderr[-4000:]}")
    return BINARY


def go_version() -> str:
    """``go version``'s answer, or "unknown"."""
    go = shutil.which("go")
    if go is None:
        return "unknown"
    done = subprocess.run(
        [go, "version"], env=_go_env(), capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout.strip() or "unknown"


def _go_env() -> dict[str, str]:
    return {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(WORK / "gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }


def _install() -> None:
    have_sources = all((GOPATH / "src" / path).is_dir() for path in _IMPORTS)
    if shutil.which("go") is not None and have_sources:
        return
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / "apt-install"), *PACKAGES],
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GoUnavailable(f"installing {' '.join(PACKAGES)} failed: {exc}") from None
    if done.returncode != 0:
        raise GoUnavailable(f"installing {' '.join(PACKAGES)} failed:\n{done.stderr[-2000:]}")


if __name__ == "__main__":
    try:
        print(build())
    except GoUnavailable as exc:
        sys.exit(f"gokit_build: {exc}")
