"""from_url and the providers: one URL picks a backend, and the provider runs it."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pygokit.metrics import Counter, Gauge, Histogram
from pygokit.metrics.expvar import Vars
from pygokit.metrics.prometheus import PrometheusProvider
from pygokit.metrics.provider import (
    DiscardProvider,
    ExpvarProvider,
    GenericProvider,
    Provider,
    PushProvider,
    from_url,
)
from pygokit.metrics.push import UDPSender
from pygokit.metrics.statsd import Statsd
from tests.metrics.receivers import WAIT, TCPReceiver, UDPReceiver


async def test_generic_provider_keeps_metrics_by_name() -> None:
    """generic: makes in-memory metrics, the same object per name, readable in tests."""
    async with from_url("generic:") as provider:
        assert isinstance(provider, GenericProvider)
        provider.counter("hits").add(2)
        provider.counter("hits").add(1)
        provider.gauge("depth").set(4)
        provider.histogram("latency").observe(0.5)
    assert provider.counters["hits"].value() == 3
    assert provider.gauges["depth"].value() == 4
    assert provider.histograms["latency"].count() == 1


async def test_discard_and_expvar_providers() -> None:
    """discard: records nothing; expvar: publishes each metric in its Vars."""
    async with from_url("discard:") as discard:
        assert isinstance(discard, DiscardProvider)
        for metric in (discard.counter("a"), discard.gauge("b"), discard.histogram("c")):
            assert isinstance(metric, Counter | Gauge | Histogram)
    async with from_url("expvar:") as expvar:
        assert isinstance(expvar, ExpvarProvider)
        expvar.counter("hits").add(5)
        expvar.gauge("depth").set(2)
        expvar.histogram("latency").observe(1.0)
        assert {"hits": 5.0, "depth": 2.0, "latency.p50": 1.0}.items() <= (
            expvar.vars.snapshot().items()
        )
    assert ExpvarProvider(Vars()).vars is not expvar.vars


async def test_prometheus_provider_uses_its_own_registry_with_labels() -> None:
    """prometheus: metrics go to the provider's registry, named with namespace and subsystem."""
    async with from_url("prometheus:?namespace=addsvc&subsystem=api") as provider:
        assert isinstance(provider, PrometheusProvider)
        provider.counter("requests", label_names=["method"]).labels(method="sum").add(3)
        provider.gauge("inflight").set(2)
        provider.histogram("seconds", help="Time taken.").observe(0.3)
    text = prometheus_client.generate_latest(provider.registry).decode()
    samples = {
        (s.name, s.labels.get("method")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("addsvc_api_requests_total", "sum")] == 3
    assert samples[("addsvc_api_inflight", None)] == 2
    assert samples[("addsvc_api_seconds_count", None)] == 1
    assert "addsvc_api_requests" not in prometheus_client.generate_latest().decode()


async def test_prometheus_provider_serves_its_registry() -> None:
    """The provider's app is the registry's exposition."""
    provider = PrometheusProvider()
    provider.counter("hits").add(1)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        sent.append(message)  # type: ignore[arg-type]

    await provider.app()({"type": "http", "method": "GET", "headers": []}, receive, send)
    assert b"hits_total 1.0" in sent[1]["body"]  # type: ignore[operator]


async def test_statsd_url_flushes_to_a_real_udp_receiver() -> None:
    """statsd://: metrics are sent over UDP with the prefix; histograms are timings."""
    async with UDPReceiver() as receiver:
        async with from_url(f"statsd://127.0.0.1:{receiver.port}?prefix=svc.") as provider:
            assert isinstance(provider, PushProvider)
            provider.counter("hits").add(3)
            provider.histogram("latency").observe(12)
        await receiver.wait_for_bytes(1)
        assert sorted(receiver.take_lines()) == ["svc.hits:3|c", "svc.latency:12|ms"]


async def test_dogstatsd_and_influxstatsd_urls_carry_global_tags() -> None:
    """dogstatsd:// and influxstatsd:// add the URL's tags to every line."""
    async with UDPReceiver() as receiver:
        for scheme in ("dogstatsd", "influxstatsd"):
            url = f"{scheme}://127.0.0.1:{receiver.port}?tags=env:test&interval=60"
            async with from_url(url) as provider:
                provider.counter("hits").add(1)
        async with asyncio.timeout(WAIT):
            while len(receiver.lines) < 2:
                await receiver.wait_for_bytes(receiver.received + 1)
        assert sorted(receiver.take_lines()) == ["hits,env=test:1|c", "hits:1|c|#env:test"]


async def test_graphite_url_connects_over_tcp_and_flushes_on_exit() -> None:
    """graphite://: the provider owns the TCP connection and the last flush goes out."""
    async with TCPReceiver() as receiver:
        async with from_url(f"graphite://127.0.0.1:{receiver.port}?prefix=svc.") as provider:
            provider.gauge("depth").set(7)
        await receiver.wait_for_bytes(1)
        [line] = receiver.take_lines()
        assert line.startswith("svc.depth 7 ")


async def test_influx_udp_url_sends_line_protocol() -> None:
    """influx+udp://: line protocol over UDP, with the URL's tags."""
    async with UDPReceiver() as receiver:
        async with from_url(f"influx+udp://127.0.0.1:{receiver.port}?tags=env:test") as provider:
            provider.counter("hits").add(2)
        await receiver.wait_for_bytes(1)
        [line] = receiver.take_lines()
        assert line.startswith("hits,env=test count=2")


async def test_influx_url_writes_to_a_real_influxdb(influx_url: str, unique_name: str) -> None:
    """influx://host:port/db: points reach InfluxDB over its HTTP write API."""
    database = unique_name.replace("-", "_")
    query = f"{influx_url}/query"

    async def run(session: aiohttp.ClientSession, statement: str) -> None:
        async with session.post(query, params={"q": statement}) as reply:
            assert reply.status == 200, await reply.text()

    async with aiohttp.ClientSession() as session:
        await run(session, f'CREATE DATABASE "{database}"')
        try:
            host_port = influx_url.removeprefix("http://")
            async with from_url(f"influx://{host_port}/{database}") as provider:
                provider.counter("hits").labels(method="sum").add(4)
            params = {"db": database, "q": 'SELECT sum("count") FROM "hits"'}
            async with session.get(query, params=params) as reply:
                body = json.loads(await reply.read())
        finally:
            await run(session, f'DROP DATABASE "{database}"')
    assert body["results"][0]["series"][0]["values"][0][1] == 4


def test_push_provider_fits_the_provider_protocol() -> None:
    """Every provider class satisfies the Provider protocol."""
    statsd = Statsd()
    push = PushProvider(statsd, statsd.timing, UDPSender("127.0.0.1", 9))
    for provider in (push, GenericProvider(), DiscardProvider(), ExpvarProvider()):
        assert isinstance(provider, Provider)
    assert isinstance(PrometheusProvider(), Provider)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("carrier-pigeon://host:1", "no metrics backend is called 'carrier-pigeon'"),
        ("statsd://127.0.0.1", "needs a host and a port"),
        ("statsd://127.0.0.1:8125?colour=red", r"unknown metrics URL option\(s\) \['colour'\]"),
        ("statsd://127.0.0.1:8125?interval=soon", "interval must be a number"),
        ("dogstatsd://127.0.0.1:8125?tags=env", "tags must look like"),
        ("influx://127.0.0.1:8086", "needs a database"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    """A malformed or unknown URL is a ValueError that names the problem."""
    with pytest.raises(ValueError, match=message):
        from_url(url)
