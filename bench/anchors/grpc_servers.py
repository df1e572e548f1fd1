"""The gRPC servers `bench.grpc_unary` can load: how each is named and how it starts.

A `Contender` names a server of `bench.anchors.grpcaio_sum`,
`bench.anchors.pygokit_grpc_sum` or `bench.anchors.grpc_alternatives` (run as
``python -m MODULE NAME PORT``), or the Go kit anchor built by
`bench.anchors.gokit_build`, with the environment it starts with. `DEFAULT` is
what ``make bench`` loads; `ALL` adds every other server path the investigation
compared. "EE I/O off" is ``GRPC_EXPERIMENTS`` turning off gRPC's EventEngine
listener and endpoints, so that the older I/O (the polling thread does the
socket I/O itself) serves the calls.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.anchors.gokit_build import GrpcPrograms
from bench.anchors.grpc_sum import HOST

__all__ = [
    "AIO_IOMGR",
    "AIO_UVLOOP",
    "AIO_UVLOOP_IOMGR",
    "ALL",
    "BRIDGE",
    "BRIDGE_IOMGR",
    "DEFAULT",
    "GO",
    "GOKIT",
    "GRPCLIB",
    "GRPCLIB_UVLOOP",
    "PYGOKIT_BARE",
    "PYGOKIT_CHAIN",
    "PYGOKIT_TUNED",
    "RAW",
    "SYNC_1",
    "SYNC_4",
    "SYNC_4_IOMGR",
    "SYNC_16",
    "SYNC_16_IOMGR",
    "Contender",
    "available",
]

GO = "go"
"""`Contender.module` of the Go kit anchor, which is a binary, not a Python module."""


@dataclass(frozen=True, slots=True)
class Contender:
    """One server under load: its name in the report and how to start it."""

    key: str
    label: str
    module: str
    """The Python module serving it (``python -m module name PORT``), or `GO`."""
    name: str = ""
    env: tuple[tuple[str, str], ...] = ()
    """Environment variables the server starts with (gRPC reads some only at start)."""

    def command(self, programs: GrpcPrograms) -> Callable[[int], list[str]]:
        """The command line that serves on a given port."""
        if self.module == GO:
            return lambda port: [str(programs.server), "-addr", f"{HOST}:{port}"]
        return lambda port: [sys.executable, "-m", self.module, self.name, str(port)]

    def environment(self) -> dict[str, str]:
        """The variables to add to the environment (Go runs on one OS thread)."""
        return {"GOMAXPROCS": "1", **dict(self.env)}


_AIO = "bench.anchors.grpcaio_sum"
_PYGOKIT = "bench.anchors.pygokit_grpc_sum"
_OTHER = "bench.anchors.grpc_alternatives"
_IOMGR = (("GRPC_EXPERIMENTS", "-event_engine_listener,-event_engine_for_all_other_endpoints"),)

RAW = Contender("raw", "raw grpc.aio servicer", _AIO, "aio")
PYGOKIT_BARE = Contender("pygokit", "pygokit on grpc.aio", _PYGOKIT, "bare")
PYGOKIT_CHAIN = Contender("pygokit-chain", "pygokit on grpc.aio + chain", _PYGOKIT, "chain")
GOKIT = Contender("gokit", "Go kit grpctransport", GO)
PYGOKIT_TUNED = Contender(
    "pygokit-tuned", "pygokit on grpc.aio, uvloop + EE I/O off", _PYGOKIT, "bare-uvloop", _IOMGR
)
AIO_UVLOOP = Contender("aio-uvloop", "grpc.aio on uvloop", _AIO, "aio-uvloop")
AIO_IOMGR = Contender("aio-iomgr", "grpc.aio, EE I/O off", _AIO, "aio", _IOMGR)
AIO_UVLOOP_IOMGR = Contender(
    "aio-uvloop-iomgr", "grpc.aio on uvloop, EE I/O off", _AIO, "aio-uvloop", _IOMGR
)
SYNC_1 = Contender("sync-1", "sync server, 1 thread", _OTHER, "sync-1")
SYNC_4 = Contender("sync-4", "sync server, 4 threads", _OTHER, "sync-4")
SYNC_16 = Contender("sync-16", "sync server, 16 threads", _OTHER, "sync-16")
SYNC_4_IOMGR = Contender(
    "sync-4-iomgr", "sync server, 4 threads, EE I/O off", _OTHER, "sync-4", _IOMGR
)
SYNC_16_IOMGR = Contender(
    "sync-16-iomgr", "sync server, 16 threads, EE I/O off", _OTHER, "sync-16", _IOMGR
)
BRIDGE = Contender("bridge", "sync server -> async def on uvloop", _OTHER, "bridge-4")
BRIDGE_IOMGR = Contender(
    "bridge-iomgr", "sync server -> async def on uvloop, EE I/O off", _OTHER, "bridge-4", _IOMGR
)
GRPCLIB = Contender("grpclib", "grpclib (h2, asyncio)", _OTHER, "grpclib")
GRPCLIB_UVLOOP = Contender("grpclib-uvloop", "grpclib on uvloop", _OTHER, "grpclib-uvloop")

DEFAULT = (
    RAW, PYGOKIT_BARE, PYGOKIT_CHAIN, GOKIT, PYGOKIT_TUNED, SYNC_4, SYNC_4_IOMGR, BRIDGE_IOMGR,
    GRPCLIB,
)  # fmt: skip
"""What ``make bench`` loads: the issue's four rows and the most telling alternatives."""
ALL = (
    *DEFAULT, AIO_UVLOOP, AIO_IOMGR, AIO_UVLOOP_IOMGR, SYNC_1, SYNC_16, SYNC_16_IOMGR, BRIDGE,
    GRPCLIB_UVLOOP,
)  # fmt: skip
"""Every server path the investigation compared."""


def available(contenders: Sequence[Contender]) -> tuple[list[Contender], list[str]]:
    """The contenders whose module imports here, and a note for each module that does not."""
    chosen, notes = [], []
    broken: set[str] = set()
    for contender in contenders:
        if contender.module != GO and contender.module not in broken:
            try:
                importlib.import_module(contender.module)
            except Exception as exc:  # any failure to import the server means: skip it
                broken.add(contender.module)
                notes.append(
                    f"`{contender.module}` does not import, its rows are left out: "
                    f"{type(exc).__name__}: {exc}"
                )
        if contender.module not in broken:
            chosen.append(contender)
    return chosen, notes
