"""The core needs no third-party package; each backend names the extra it needs."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pygokit._extras import missing_extra

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# Backend modules and the extra each needs. A module that imports a third-party
# package belongs here; the test below fails for one that is missing.
BACKENDS: dict[str, str] = {
    "pygokit.log.structlog": "structlog",
    "pygokit.metrics.influx_http": "influx",
    "pygokit.metrics.otel": "otel",
    "pygokit.metrics.prometheus": "prometheus",
    "pygokit.ratelimit.redis": "redis",
    "pygokit.sd._http": "consul",
    "pygokit.sd.consul": "consul",
    "pygokit.sd.dnssrv": "dns",
    "pygokit.sd.etcd": "etcd",
    "pygokit.sd.etcd._client": "etcd",
    "pygokit.sd.etcd.instancer": "etcd",
    "pygokit.sd.etcd.registrar": "etcd",
    "pygokit.sd.eureka": "eureka",
    "pygokit.sd.zk": "zookeeper",
    "pygokit.sd.zk.client": "zookeeper",
    "pygokit.sd.zk.instancer": "zookeeper",
    "pygokit.sd.zk.registrar": "zookeeper",
    "pygokit.transport.http.client": "http",
    "pygokit.transport.http.client_codec": "http",
    "pygokit.transport.http.jsonrpc.client": "http",
    "pygokit.transport.grpc": "grpc",
    "pygokit.transport.grpc.grpclib_server": "grpc",
    "pygokit.transport.http.proto": "grpc",
    "pygokit.transport.http.rp": "http",
}

# Imports every pygokit module while any non-stdlib import is refused, then reports
# which modules imported, what the others raised, and which third-party modules
# ended up loaded anyway.
PROBE = r"""
import importlib, importlib.abc, json, pkgutil, sys

preloaded = set(sys.modules)

class RefuseThirdParty(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top == "pygokit" or top in sys.stdlib_module_names:
            return None
        raise ImportError(f"third-party module {fullname} refused by the probe")

sys.meta_path.insert(0, RefuseThirdParty())
results = {}
try:
    import pygokit
    results["pygokit"] = None
    for info in pkgutil.walk_packages(pygokit.__path__, prefix="pygokit."):
        try:
            importlib.import_module(info.name)
            results[info.name] = None
        except ImportError as exc:
            results[info.name] = str(exc)
except ImportError as exc:
    results["pygokit"] = str(exc)

loaded = sorted(
    name for name in set(sys.modules) - preloaded
    if name.partition(".")[0] not in sys.stdlib_module_names
    and name.partition(".")[0] != "pygokit"
)
print(json.dumps({"results": results, "third_party_loaded": loaded}))
"""


def probe_imports() -> dict[str, object]:
    """Run PROBE in a fresh interpreter and return its report."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    report: dict[str, object] = json.loads(completed.stdout)
    return report


def declared_extras() -> set[str]:
    """The backend extras that pyproject.toml declares (not the 'all' or 'test' groups)."""
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    return set(extras) - {"all", "test"}


def test_core_imports_alone_and_each_backend_names_its_extra() -> None:
    """With third-party imports refused, core modules import and backends name their extra."""
    report = probe_imports()
    results = report["results"]
    assert isinstance(results, dict)

    for module, error in results.items():
        extra = BACKENDS.get(module)
        if extra is None:
            assert error is None, f"core module {module} needs a third-party package: {error}"
        else:
            assert error is not None, f"{module} imported without its '{extra}' extra"
            assert f"pip install 'pygokit[{extra}]'" in error
    assert report["third_party_loaded"] == []
    assert set(BACKENDS.values()) <= declared_extras()


@pytest.mark.parametrize("extra", sorted(declared_extras()))
def test_missing_extra_message_gives_the_exact_install_line(extra: str) -> None:
    """The ImportError for any declared extra names the module and the pip command."""
    error = missing_extra("pygokit.some.backend", extra)

    assert isinstance(error, ImportError)
    assert error.name == "pygokit.some.backend"
    assert str(error).startswith("pygokit.some.backend needs")
    assert str(error).endswith(f"pip install 'pygokit[{extra}]'")
