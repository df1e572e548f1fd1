"""apigateway end to end: real stringsvc and addsvc instances behind the gateway, on loopback."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import aiohttp
import pytest

from examples.addsvc.endpoints import make_set
from examples.addsvc.service import make_service
from examples.addsvc.transport_http import make_http_handler
from examples.apigateway.__main__ import discover, main, parse_args
from examples.apigateway.gateway import gateway
from pygokit.metrics import generic
from pygokit.ratelimit import TokenBucket
from pygokit.sd import Event, FixedInstancer, Instancer
from pygokit.sd.etcd import EtcdRegistrar, etcd_client
from pygokit.testing import CapturingLogger
from tests.examples.harness import (
    PATIENT,
    Backend,
    backend,
    closed_port,
    post,
    run_example,
    serving,
    stringsvc_backend,
    usage_error,
)
from tests.sd.helpers import EventRecorder

UNAVAILABLE = {"error": "service unavailable"}


def addsvc_backend() -> AbstractAsyncContextManager[Backend]:
    """Serve addsvc over HTTP, without its rate limits, on a free loopback port."""
    server = Backend()
    unlimited = TokenBucket(rate=math.inf, burst=1)
    svc = make_service(server.logger, generic.Counter("ints"), generic.Counter("chars"))
    endpoints = make_set(
        svc,
        server.logger,
        generic.Histogram("duration"),
        sum_limiter=unlimited,
        concat_limiter=unlimited,
    )
    return backend(make_http_handler(endpoints, server.logger), server)


@asynccontextmanager
async def front(
    stringsvc: Instancer, addsvc: Instancer
) -> AsyncIterator[tuple[str, CapturingLogger]]:
    """Serve the gateway over these instancers; yield its URL and logger."""
    logger = CapturingLogger()
    async with (
        aiohttp.ClientSession() as session,
        gateway(
            stringsvc=stringsvc,
            addsvc=addsvc,
            session=session,
            logger=logger,
            retry_timeout=PATIENT,
        ) as app,
        serving(app, logger) as url,
    ):
        yield url, logger


async def call(url: str, body: str) -> tuple[int, object]:
    """POST *body* to *url*; return the status and the parsed JSON answer, request id aside."""
    status, raw = await post(url, body)
    document = json.loads(raw)
    if isinstance(document, dict):
        document.pop("request_id", None)
    return status, document


async def test_each_route_reaches_the_instances_of_its_service_in_turn() -> None:
    """stringsvc and addsvc calls are answered by their instances, spread over both (R8)."""
    async with AsyncExitStack() as stack:
        s1 = await stack.enter_async_context(stringsvc_backend())
        s2 = await stack.enter_async_context(stringsvc_backend())
        a1 = await stack.enter_async_context(addsvc_backend())
        a2 = await stack.enter_async_context(addsvc_backend())
        strings = FixedInstancer([s1.instance, s2.instance, "127.0.0.1:99999"])
        url, logger = await stack.enter_async_context(
            front(strings, FixedInstancer([a1.instance, a2.instance]))
        )

        for n, word in enumerate(["go", "kit", "is", "fun"]):
            assert await call(f"{url}/stringsvc/uppercase", json.dumps({"s": word})) == (
                200,
                {"v": word.upper()},
            )
            assert await call(f"{url}/addsvc/sum", json.dumps({"a": n, "b": 1})) == (
                200,
                {"v": n + 1},
            )
        assert await call(f"{url}/stringsvc/count", '{"s":"hello"}') == (200, {"v": 5})
        assert await call(f"{url}/addsvc/concat", '{"a":"go ","b":"kit"}') == (200, {"v": "go kit"})
        assert await call(f"{url}/addsvc/sum", '{"a":0,"b":0}') == (
            400,
            {"error": "can't sum two zeroes"},
        )

    words = s1.calls("uppercase") + s2.calls("uppercase")
    assert sorted(map(str, words)) == ["fun", "go", "is", "kit"]
    assert [len(s1.calls("uppercase")), len(s2.calls("uppercase"))] == [2, 2]
    addends = a1.calls("sum", "a") + a2.calls("sum", "a")
    assert sorted(map(str, addends)) == ["0", "0", "1", "2", "3"]
    assert min(len(a1.calls("sum", "a")), len(a2.calls("sum", "a"))) == 2
    assert s1.calls("count") + s2.calls("count") == ["hello"]
    skipped = [e for e in logger.events if e.get("instance") == "127.0.0.1:99999"]
    assert skipped, "the endpointer should log the instance its factory refused"


async def test_with_every_instance_down_calls_fail_with_503_and_the_gateway_keeps_serving() -> None:
    """Dead or no instances give a 503 without internals, call after call (F2)."""
    dead = FixedInstancer([closed_port(), closed_port()])
    async with front(dead, FixedInstancer([])) as (url, logger):
        for _ in range(2):
            assert await call(f"{url}/stringsvc/uppercase", '{"s":"x"}') == (503, UNAVAILABLE)
            assert await call(f"{url}/addsvc/concat", '{"a":"x","b":"y"}') == (503, UNAVAILABLE)
        assert (await post(f"{url}/nowhere", "{}"))[0] == 404

    causes = [str(e["err"]) for e in logger.events if "err" in e]
    assert any(cause.startswith("no instance of stringsvc answered") for cause in causes)
    assert any(cause.startswith("no instance of addsvc answered") for cause in causes)


async def test_without_etcd_the_instances_are_the_flags_lists() -> None:
    """Without --etcd-addr each service's instancer is the fixed list its flag gives."""
    args = parse_args(["--stringsvc-instances", "127.0.0.1:1, 127.0.0.1:2"])
    recorder = EventRecorder()
    async with AsyncExitStack() as stack:
        found = await discover(stack, args, CapturingLogger())
    found["stringsvc"].register(recorder)
    found["addsvc"].register(recorder)
    assert recorder.events == [Event(["127.0.0.1:1", "127.0.0.1:2"]), Event()]


def instances(*servers: Backend) -> Callable[[Event], bool]:
    """A predicate on events: the event lists exactly the instances of *servers*."""
    wanted = tuple(sorted(server.instance for server in servers))
    return lambda event: event.error is None and event.instances == wanted


@pytest.mark.service("etcd")
async def test_instances_that_come_and_go_in_etcd_are_followed(
    etcd_addr: str, unique_name: str
) -> None:
    """An instance registered in etcd gets calls; one deregistered gets no more (F2, R8)."""
    prefix = f"/pygokit-test/{unique_name}/"
    args = parse_args(["--etcd-addr", etcd_addr, "--etcd-prefix", prefix])
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(stringsvc_backend())
        b = await stack.enter_async_context(stringsvc_backend())
        client = await stack.enter_async_context(etcd_client(etcd_addr))
        stack.push_async_callback(client.delete_prefix, prefix.encode())
        found = await discover(stack, args, CapturingLogger())
        recorder = EventRecorder()
        found["stringsvc"].register(recorder)
        url, _ = await stack.enter_async_context(front(found["stringsvc"], found["addsvc"]))
        registrars = {}
        for server in (a, b):
            key = f"{prefix}stringsvc/{server.instance}"
            registrars[server.instance] = await stack.enter_async_context(
                EtcdRegistrar(client, key, server.instance, ttl=10)
            )

        async def change(step: Awaitable[None], *now: Backend) -> None:
            after = len(recorder.events)
            await step
            async with asyncio.timeout(10):
                await recorder.wait_for(instances(*now), after=after)

        async def uppercase(*words: str) -> None:
            for word in words:
                assert await call(f"{url}/stringsvc/uppercase", json.dumps({"s": word})) == (
                    200,
                    {"v": word.upper()},
                )

        assert await call(f"{url}/stringsvc/uppercase", '{"s":"none"}') == (503, UNAVAILABLE)
        await change(registrars[a.instance].register(), a)
        await uppercase("a1", "a2")
        await change(registrars[b.instance].register(), a, b)
        await uppercase("ab1", "ab2", "ab3", "ab4")
        await change(registrars[a.instance].deregister(), b)
        await uppercase("b1", "b2")
        await change(registrars[b.instance].deregister())
        assert await call(f"{url}/stringsvc/uppercase", '{"s":"gone"}') == (503, UNAVAILABLE)

    served_a, served_b = a.calls("uppercase"), b.calls("uppercase")
    assert served_a[:2] == ["a1", "a2"]  # a alone, and no call before it was registered
    assert len(served_a) == len(served_b) == 4  # a and b in turn
    assert sorted(map(str, served_a[2:] + served_b[:2])) == ["ab1", "ab2", "ab3", "ab4"]
    assert served_b[2:] == ["b1", "b2"]  # b alone, and no call after it was deregistered


async def test_the_process_routes_to_the_instances_its_flags_name() -> None:
    """``python -m examples.apigateway`` with fixed instances serves both services, exits 0."""
    async with stringsvc_backend() as s, addsvc_backend() as a:

        async def calls(url: str) -> None:
            assert await call(f"{url}/stringsvc/uppercase", '{"s":"hi"}') == (200, {"v": "HI"})
            assert await call(f"{url}/addsvc/sum", '{"a":2,"b":3}') == (200, {"v": 5})

        args = ["--http-addr", "127.0.0.1:0"]
        args += ["--stringsvc-instances", s.instance, "--addsvc-instances", a.instance]
        status, lines = await run_example("examples.apigateway", args, calls)

    assert status == 0
    assert s.calls("uppercase") == ["hi"]
    assert a.calls("sum", "a") == [2]
    assert "transport=http msg=stopped" in lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--http-addr", "nope"], "address must look like"),
        (["--etcd-addr", "localhost"], "address must look like"),
        (["--etcd-addr", "127.0.0.1:2379", "--etcd-prefix", "/services"], "must end with '/'"),
        (["--retry-max", "0"], "--retry-max must be at least 1"),
        (["--retry-timeout", "0"], "--retry-timeout must be a positive number"),
        (["--retry-timeout", "nan"], "--retry-timeout must be a positive number"),
    ],
)
async def test_main_rejects_bad_flags_with_usage_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed flag exits with status 2 and says what is wrong."""
    assert message in await usage_error(main, args, capsys)
