"""expvar backend: conformance read back as JSON over real HTTP, naming, JSON validity."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from pygokit.metrics import metric
from pygokit.metrics.expvar import QUANTILES, Counter, Gauge, Histogram, Vars
from pygokit.testing.metrics import check_counter, check_gauge, check_histogram
from tests.metrics.asgi_client import call, run_lifespan, serving


def strict_json(body: bytes) -> dict[str, Any]:
    """Parse *body* as JSON, refusing the NaN and Infinity that JSON does not allow."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"invalid JSON constant {constant}")

    document: dict[str, Any] = json.loads(body, parse_constant=refuse)
    return document


async def test_metrics_pass_the_conformance_suite_read_over_real_http() -> None:
    """Counter, gauge and histogram values served by uvicorn match what was recorded."""
    debug_vars = Vars()
    counter = debug_vars.counter("requests")
    gauge = debug_vars.gauge("workers")
    histogram = debug_vars.histogram("latency")

    async with serving(debug_vars.app()) as url, aiohttp.ClientSession() as session:

        async def read() -> dict[str, Any]:
            async with session.get(f"{url}/debug/vars") as reply:
                assert reply.status == 200
                assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
                return strict_json(await reply.read())

        async def read_counter() -> float:
            value: float = (await read())["requests"]
            return value

        async def read_gauge() -> float:
            value: float = (await read())["workers"]
            return value

        async def read_quantiles() -> dict[float, float]:
            document = await read()
            return {q: document[f"latency.p{round(q * 100)}"] for q in QUANTILES}

        await check_counter(counter, read_counter)
        await check_gauge(gauge, read_gauge)
        await check_histogram(histogram, read_quantiles)


def test_metrics_implement_the_interfaces_and_ignore_labels() -> None:
    """Each metric satisfies its protocol; labels and with_ return the same metric."""
    debug_vars = Vars()
    counter, gauge = debug_vars.counter("c"), debug_vars.gauge("g")
    histogram = debug_vars.histogram("h")

    assert isinstance(counter, metric.Counter)
    assert isinstance(gauge, metric.Gauge)
    assert isinstance(histogram, metric.Histogram)
    for m in (counter, gauge, histogram):
        assert m.labels(method="sum") is m
        assert m.with_("method", "sum", "odd") is m
    counter.labels(method="a").add(2)
    counter.with_("method", "b").add(3)
    assert debug_vars.snapshot()["c"] == 5


def test_snapshot_is_sorted_and_histogram_quantiles_are_nan_before_data() -> None:
    """Keys come sorted; an empty histogram publishes NaN for each quantile."""
    debug_vars = Vars()
    debug_vars.gauge("zeta").set(1)
    debug_vars.histogram("mid", quantiles=(0.5, 0.999))
    debug_vars.counter("alpha")

    snapshot = debug_vars.snapshot()

    assert list(snapshot) == ["alpha", "mid.p50", "mid.p99.9", "zeta"]
    assert math.isnan(snapshot["mid.p50"])
    assert snapshot["zeta"] == 1


def test_json_is_always_valid_with_null_for_nan_and_infinities() -> None:
    """NaN, +Inf and -Inf are published as null, so every parser accepts the document."""
    debug_vars = Vars()
    debug_vars.histogram("empty")
    debug_vars.gauge("up").set(math.inf)
    debug_vars.gauge("down").set(-math.inf)
    debug_vars.counter("n").add(2.5)

    document = strict_json(debug_vars.to_json())

    assert document == {
        "down": None,
        "empty.p50": None,
        "empty.p90": None,
        "empty.p95": None,
        "empty.p99": None,
        "n": 2.5,
        "up": None,
    }
    assert debug_vars.to_json().startswith(b'{\n"down": null,\n')


def test_histogram_quantiles_are_estimated_when_read() -> None:
    """Observations become quantile estimates at read time (values() or snapshot())."""
    histogram = Vars().histogram("size", quantiles=[0.5, 1.0])
    for value in range(1, 102):
        histogram.observe(float(value))

    values = histogram.values()

    assert values["size.p50"] == pytest.approx(51, abs=1)
    assert values["size.p100"] == 101


@pytest.mark.parametrize(
    ("make_second", "clash"),
    [
        (lambda v: v.counter("x"), "'x'"),
        (lambda v: v.gauge("x"), "'x'"),
        (lambda v: v.histogram("h"), "'h.p50'"),
        (lambda v: v.counter("h.p90"), "'h.p90'"),
    ],
)
def test_published_names_are_unique(make_second: Callable[[Vars], object], clash: str) -> None:
    """A second metric publishing a taken name is a ValueError naming it."""
    debug_vars = Vars()
    debug_vars.counter("x")
    debug_vars.histogram("h")

    with pytest.raises(ValueError, match=re.escape(f"expvar name {clash} is already published")):
        make_second(debug_vars)
    assert repr(debug_vars) == "Vars(['h.p50', 'h.p90', 'h.p95', 'h.p99', 'x'])"


def test_bad_names_and_quantiles_are_refused() -> None:
    """An empty name, a quantile outside [0, 1] or a repeated quantile is a ValueError."""
    debug_vars = Vars()
    with pytest.raises(ValueError, match="non-empty name"):
        debug_vars.counter("")
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\], got 1.5"):
        debug_vars.histogram("h", quantiles=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"publishes 'h\.p50' twice"):
        debug_vars.histogram("h", quantiles=[0.5, 0.5])
    debug_vars.histogram("h")  # nothing was published by the failed attempts


def test_reprs_show_name_and_value() -> None:
    """Each metric's repr names it and shows its state."""
    debug_vars = Vars()
    counter, gauge = debug_vars.counter("c"), debug_vars.gauge("g")
    counter.add(1)
    gauge.add(-2)
    assert repr(counter) == "expvar.Counter('c', value=1.0)"
    assert repr(gauge) == "expvar.Gauge('g', value=-2.0)"
    assert repr(debug_vars.histogram("h", [0.5])) == "expvar.Histogram('h', quantiles=(0.5,))"
    assert isinstance(Counter("direct"), Counter)
    assert Gauge("direct").value() == 0
    assert Histogram("direct").quantiles == QUANTILES


async def test_app_serves_get_and_head_and_refuses_other_methods() -> None:
    """GET gives the JSON, HEAD only its headers, anything else 405 with Allow."""
    debug_vars = Vars()
    debug_vars.counter("hits").add(3)
    app = debug_vars.app()

    get, head, post = await call(app), await call(app, "HEAD"), await call(app, "POST")

    assert (get.status, strict_json(get.body)) == (200, {"hits": 3.0})
    assert get.headers["cache-control"] == "no-store"
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == str(len(get.body))
    assert (post.status, post.headers["allow"]) == (405, "GET, HEAD")


async def test_app_answers_lifespan_and_ignores_other_scopes() -> None:
    """Lifespan startup and shutdown are acknowledged; a websocket scope is left alone."""
    app = Vars().app()
    assert await run_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    async def never() -> dict[str, object]:
        raise AssertionError("the app must not read a websocket")

    async def refuse(message: object) -> None:
        raise AssertionError("the app must not answer a websocket")

    await app({"type": "websocket"}, never, refuse)
