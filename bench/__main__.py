"""``python -m bench``: run every benchmark area, print the report, write bench/RESULTS.md.

Areas run one after another, never at the same time, so that they do not disturb
each other. Progress goes to standard error; the report goes to standard output
and, overwriting the previous one, to RESULTS.md next to this file.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    client,
    grpc_unary,
    http_chain,
    http_frameworks,
    logs,
    metrics,
    middleware,
    resilience,
    sd,
)
from bench.report import Table, machine_facts, render

RESULTS = Path(__file__).with_name("RESULTS.md")

AREAS: tuple[tuple[str, Callable[[], Table]], ...] = (
    ("endpoint middleware overhead", middleware.run),
    ("logging", logs.run),
    ("metrics", metrics.run),
    ("resilience middleware", resilience.run),
    ("service discovery", sd.run),
    ("HTTP endpoint chain on uvicorn", http_chain.run),
    ("HTTP servers: pygokit vs raw ASGI, Starlette, FastAPI, Go kit", http_frameworks.run),
    ("HTTP client", client.run),
    ("gRPC unary: pygokit vs raw grpc.aio, Go kit, other server paths", grpc_unary.run),
)


def main() -> None:
    """Run the areas in order and write the report."""
    now = datetime.datetime.now(datetime.UTC)
    began = time.monotonic()
    tables = []
    for name, run in AREAS:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        tables.append(run())
    report = render(machine_facts(now), tables, took_s=time.monotonic() - began)
    RESULTS.write_text(report)
    print(report)
    print(f"bench: wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
