"""Logging: pygokit.log against structlog and the standard library, event for event.

Every variant logs the same event to a stream that discards what it is given: a
message plus four context keys (an int, a str, a float, a bool), a UTC timestamp
and the caller's file and line. pygokit binds the context with ``with_`` and the
``timestamp_utc`` and ``caller`` valuers; structlog binds it with ``bind`` after
``TimeStamper`` and ``CallsiteParameterAdder``; the standard library uses a
``LoggerAdapter`` and a ``Formatter`` naming the same fields. Targets: logfmt and
JSON at least twice structlog's throughput, a filtered-out event under 0.2 us.

Also measured: an event below the level filter, and what ``with_`` costs per event
(Go kit's BenchmarkOneWith/TenWith), both against the cheapest possible call.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, TextIO, cast

import structlog
from structlog.processors import CallsiteParameter

from bench.micro import Stats, call_loop, interleave, pin_to_one_cpu, run_child, stats
from bench.report import Row, Table, fmt_ratio
from pygokit.log import JSONLogger, LogfmtLogger, Logger, NopLogger, level, with_
from pygokit.log import caller as caller_valuer
from pygokit.log import timestamp_utc as timestamp_valuer

__all__ = ["run"]

ROUNDS = 21
ROUND_NS = 20_000_000
CONTEXT: dict[str, object] = {"a": 1, "b": "two", "c": 3.5, "d": True}
TARGET_SPEEDUP = 2.0
TARGET_FILTERED_NS = 200.0


class Discard:
    """A text stream that throws away everything written to it."""

    def write(self, text: str) -> None:
        """Discard *text*."""

    def flush(self) -> None:
        """Nothing to flush."""


def _pygokit(make: Callable[[Discard], Logger]) -> Callable[[], None]:
    logger = with_(make(Discard()), ts=timestamp_valuer, caller=caller_valuer, **CONTEXT)
    return lambda: logger.log(msg="hello world")


def _structlog(renderer: Any, *, min_level: int = logging.DEBUG) -> Any:
    return structlog.wrap_logger(
        structlog.PrintLogger(cast("TextIO", Discard())),  # any object with write() will do
        processors=[
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.CallsiteParameterAdder(
                [CallsiteParameter.FILENAME, CallsiteParameter.LINENO]
            ),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(min_level),
        cache_logger_on_first_use=True,
    ).bind(**CONTEXT)


def _stdlib(min_level: int = logging.DEBUG) -> logging.LoggerAdapter[logging.Logger]:
    handler = logging.StreamHandler(Discard())
    handler.setFormatter(
        logging.Formatter(
            "ts=%(asctime)s caller=%(filename)s:%(lineno)d "
            "a=%(a)s b=%(b)s c=%(c)s d=%(d)s msg=%(message)s"
        )
    )
    stdlib_logger = logging.getLogger(f"bench.stdlib.{min_level}")
    stdlib_logger.handlers[:] = [handler]
    stdlib_logger.setLevel(min_level)
    stdlib_logger.propagate = False
    return logging.LoggerAdapter(stdlib_logger, CONTEXT)


def _variants() -> dict[str, Callable[[], object]]:
    structlog_logfmt = _structlog(structlog.processors.LogfmtRenderer())
    structlog_kv = _structlog(structlog.processors.KeyValueRenderer())
    structlog_json = _structlog(structlog.processors.JSONRenderer())
    stdlib = _stdlib()

    filtered = with_(
        level.Filter(LogfmtLogger(Discard()), level.allow_info()),
        ts=timestamp_valuer,
        caller=caller_valuer,
        **CONTEXT,
    )
    debug = level.debug(filtered)
    structlog_filtered = _structlog(structlog.processors.LogfmtRenderer(), min_level=logging.INFO)
    stdlib_filtered = _stdlib(logging.INFO)

    nop = NopLogger()
    one_with = with_(nop, k0="v")
    ten_with: Logger = nop
    for index in range(10):
        ten_with = with_(ten_with, **{f"k{index}": "v"})

    return {
        "pygokit logfmt": _pygokit(LogfmtLogger),
        "pygokit json": _pygokit(JSONLogger),
        "structlog logfmt": lambda: structlog_logfmt.info("hello world"),
        "structlog kv": lambda: structlog_kv.info("hello world"),
        "structlog json": lambda: structlog_json.info("hello world"),
        "stdlib": lambda: stdlib.info("hello world"),
        "pygokit filtered, debug() per call": lambda: level.debug(filtered).log(msg="x"),
        "pygokit filtered, debug logger kept": lambda: debug.log(msg="x"),
        "structlog filtered": lambda: structlog_filtered.debug("x"),
        "stdlib filtered": lambda: stdlib_filtered.debug("x"),
        "no with": lambda: nop.log(k="v"),
        "one with": lambda: one_with.log(k="v"),
        "ten with": lambda: ten_with.log(k="v"),
    }


def _child() -> None:
    """Measure pinned to one CPU and print the samples as JSON (the child's side of `run`)."""
    cpu = pin_to_one_cpu()
    calls, ns = asyncio.run(interleave(_variants(), call_loop, rounds=ROUNDS, round_ns=ROUND_NS))
    print(json.dumps({"calls": calls, "cpu": cpu, "ns": ns}))


def run() -> Table:
    """Measure in a pinned child process and compare each pygokit figure to its baseline."""
    result = run_child("bench.logs", timeout_s=600)
    s: dict[str, Stats] = {name: stats(values) for name, values in result["ns"].items()}
    table = Table(
        title="Logging: pygokit.log vs structlog and stdlib logging",
        what=(
            "Time per event for the same event (msg + 4 context keys + UTC timestamp + "
            "caller file:line) written to a discarding stream. Speedup = baseline time / "
            "pygokit time (higher is better, so 2.00x means twice the throughput)."
        ),
    )
    table.rows += [
        _speedup(s, "pygokit logfmt", "structlog logfmt", "structlog LogfmtRenderer"),
        _speedup(s, "pygokit logfmt", "structlog kv", "structlog KeyValueRenderer"),
        _speedup(s, "pygokit logfmt", "stdlib", "stdlib logging + Formatter"),
        _speedup(s, "pygokit json", "structlog json", "structlog JSONRenderer"),
        _filtered(s, "pygokit filtered, debug logger kept", "structlog filtered"),
        _filtered(s, "pygokit filtered, debug() per call", "structlog filtered"),
        _filtered(s, "pygokit filtered, debug() per call", "stdlib filtered"),
        _overhead(s, "one with", "no with"),
        _overhead(s, "ten with", "no with"),
    ]
    cpu = result["cpu"]
    table.notes += [
        f"Medians over {ROUNDS} rounds of {result['calls']:,} events per variant, the "
        "variants taking turns within each round; garbage collector off while timing.",
        "Filtered: a debug event under an info filter. pygokit: "
        "`level.debug(logger).log(...)` made per call, or the debug logger made once and "
        "kept; structlog: `make_filtering_bound_logger(INFO)`; stdlib: "
        "`LoggerAdapter.debug` with the logger at INFO.",
        "with_: `with_(NopLogger(), k0=...)` and ten nested `with_` calls (flattened into "
        "one context) against logging the same pair to the NopLogger directly.",
        f"Ran in a child process pinned to CPU {cpu}." if cpu is not None else "Unpinned.",
    ]
    return table


def _ns(value: float) -> str:
    return f"{value:.0f} ns" if value >= 10 else f"{value:.1f} ns"


def _speedup(s: dict[str, Stats], ours: str, theirs: str, label: str) -> Row:
    speedup = s[theirs].median / s[ours].median
    verdict = "pass" if speedup >= TARGET_SPEEDUP else "**MISS**"
    return Row(
        f"{ours}, ns/event",
        f"{label} {_ns(s[theirs].median)}",
        _ns(s[ours].median),
        f"{speedup:.2f}x speedup",
        f">= {TARGET_SPEEDUP:.0f}x: {verdict}" if "structlog" in label else "-",
        f"IQR {s[ours].q1:.0f}-{s[ours].q3:.0f} ns",
    )


def _filtered(s: dict[str, Stats], ours: str, theirs: str) -> Row:
    verdict = "pass" if s[ours].median < TARGET_FILTERED_NS else "**MISS**"
    return Row(
        ours,
        f"{theirs} {_ns(s[theirs].median)}",
        _ns(s[ours].median),
        fmt_ratio(s[ours].median, s[theirs].median),
        f"< {TARGET_FILTERED_NS:.0f} ns: {verdict}",
        f"IQR {s[ours].q1:.0f}-{s[ours].q3:.0f} ns",
    )


def _overhead(s: dict[str, Stats], ours: str, base: str) -> Row:
    extra = s[ours].median - s[base].median
    return Row(
        f"{ours}: cost per event",
        f"{base} {_ns(s[base].median)}",
        f"{_ns(s[ours].median)} (+{_ns(extra)})",
        fmt_ratio(s[ours].median, s[base].median),
        "-",
        f"IQR {s[ours].q1:.0f}-{s[ours].q3:.0f} ns",
    )


if __name__ == "__main__":
    _child()
