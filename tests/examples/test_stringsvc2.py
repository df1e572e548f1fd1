"""stringsvc2 end to end: the service middlewares, then the served app and the process."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from examples.stringsvc2.__main__ import build_app, main
from examples.stringsvc2.instrumenting import InstrumentingMiddleware
from examples.stringsvc2.logging import LoggingMiddleware
from examples.stringsvc2.service import BasicStringService, EmptyStringError, StringService
from pygokit.log import LoggerFunc
from pygokit.log.middleware import Duration
from pygokit.metrics import generic
from pygokit.testing import CapturingLogger, FakeClock
from tests.examples.harness import run_example, serving


class SlowService:
    """A StringService whose every call takes *seconds* on a fake clock."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._inner = BasicStringService()

    def uppercase(self, s: str) -> str:
        """Uppercase *s*, advancing the clock."""
        self._clock.advance(self._seconds)
        return self._inner.uppercase(s)

    def count(self, s: str) -> int:
        """Count *s*, advancing the clock."""
        self._clock.advance(self._seconds)
        return self._inner.count(s)


def test_logging_middleware_logs_input_output_error_and_duration() -> None:
    """Each call is logged as Go kit's logging.go does; an error is logged and re-raised."""
    clock = FakeClock()
    logger = CapturingLogger()
    svc = LoggingMiddleware(logger, SlowService(clock, 0.000012), clock=clock)

    assert svc.uppercase("hello") == "HELLO"
    assert svc.count("hello") == 5
    with pytest.raises(EmptyStringError):
        svc.uppercase("")

    took = Duration(0.000012)
    errors = [event.pop("err") for event in logger.events if "err" in event]
    assert logger.events == [
        {"method": "uppercase", "input": "hello", "output": "HELLO", "took": took},
        {"method": "count", "input": "hello", "n": 5, "took": took},
        {"method": "uppercase", "input": "", "output": "", "took": took},
    ]
    assert errors[0] is None
    assert isinstance(errors[1], EmptyStringError)


def test_logging_middleware_survives_a_failing_logger() -> None:
    """A logger that raises does not change the result of the call."""

    def broken(**event: object) -> None:
        raise OSError("disk full")

    svc = LoggingMiddleware(LoggerFunc(broken), BasicStringService())
    assert svc.count("abc") == 3


def test_instrumenting_middleware_counts_times_and_records_results() -> None:
    """Calls are counted and timed in µs by method and error; count results are observed."""
    clock = FakeClock()
    requests = generic.Counter("request_count")
    latency = generic.Histogram("request_latency_microseconds")
    results = generic.Histogram("count_result")
    svc: StringService = InstrumentingMiddleware(
        requests, latency, results, SlowService(clock, 0.000250), clock=clock
    )

    svc.uppercase("a")
    svc.count("hello")
    svc.count("hi")
    with pytest.raises(EmptyStringError):
        svc.uppercase("")

    def calls(method: str, error: str) -> float:
        return requests.labels(method=method, error=error).value()

    assert (calls("uppercase", "false"), calls("uppercase", "true")) == (1, 1)
    assert calls("count", "false") == 2
    counted = latency.labels(method="count", error="false")
    assert counted.count() == 2
    assert counted.sum() == pytest.approx(500)
    assert (results.count(), results.sum()) == (2, 7)


def test_instrumenting_middleware_counts_a_failed_count() -> None:
    """A count that raises is counted with error="true" and records no result."""

    class Broken(BasicStringService):
        def count(self, s: str) -> int:
            raise RuntimeError("bug")

    requests, latency = generic.Counter("c"), generic.Histogram("h")
    results = generic.Histogram("r")
    svc = InstrumentingMiddleware(requests, latency, results, Broken())
    with pytest.raises(RuntimeError, match="bug"):
        svc.count("x")
    assert requests.labels(method="count", error="true").value() == 1
    assert results.count() == 0


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def labels(method: str, error: str) -> frozenset[tuple[str, str]]:
    """The label set of a request metric."""
    return frozenset({("method", method), ("error", error)})


async def test_serves_methods_and_metrics_on_one_listener() -> None:
    """Over real HTTP: calls answer, each is logged, and /metrics shows Go kit's metrics."""
    logger = CapturingLogger()
    async with (
        serving(build_app(logger, CollectorRegistry()), logger) as url,
        aiohttp.ClientSession() as session,
    ):
        for path, body, want in [
            ("/uppercase", '{"s":"hello"}', b'{"v":"HELLO"}'),
            ("/uppercase", '{"s":""}', b'{"v":"","err":"empty string"}'),
            ("/count", '{"s":"hello"}', b'{"v":5}'),
        ]:
            async with session.post(url + path, data=body) as reply:
                assert (reply.status, await reply.read()) == (200, want)
        async with session.get(url + "/metrics") as reply:
            assert reply.status == 200
            scraped = samples(await reply.text())

    calls = [e for e in logger.events if "method" in e]
    assert [(e["method"], e["input"], e.get("output", e.get("n"))) for e in calls] == [
        ("uppercase", "hello", "HELLO"),
        ("uppercase", "", ""),
        ("count", "hello", 5),
    ]
    assert isinstance(calls[1]["err"], EmptyStringError)
    count = "my_group_string_service_request_count_total"
    latency = "my_group_string_service_request_latency_microseconds_count"
    for method, error in [("uppercase", "false"), ("uppercase", "true"), ("count", "false")]:
        assert scraped[count, labels(method, error)] == 1
        assert scraped[latency, labels(method, error)] == 1
    assert scraped["my_group_string_service_count_result_sum", frozenset()] == 5


async def test_the_process_logs_in_logfmt_and_serves_metrics() -> None:
    """``python -m examples.stringsvc2`` logs each call in logfmt and serves /metrics (T7)."""
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}

    async def calls(url: str) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/uppercase", data='{"s":"go kit"}') as reply:
                assert await reply.read() == b'{"v":"GO KIT"}'
            async with session.get(f"{url}/metrics") as reply:
                scraped.update(samples(await reply.text()))

    status, lines = await run_example("examples.stringsvc2", ["--listen", "127.0.0.1:0"], calls)

    assert status == 0
    logged = next(line for line in lines if line.startswith("method=uppercase"))
    assert logged.startswith('method=uppercase input="go kit" output="GO KIT" err=null took=')
    count = "my_group_string_service_request_count_total"
    assert scraped[count, labels("uppercase", "false")] == 1
    assert "transport=http msg=stopped" in lines[-1]


async def test_main_rejects_a_bad_listen_address(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --listen exits with status 2 and says what is wrong."""
    with pytest.raises(SystemExit) as exited:
        await main(["--listen", ":nope"])
    assert exited.value.code == 2
    assert "address must look like" in capsys.readouterr().err
