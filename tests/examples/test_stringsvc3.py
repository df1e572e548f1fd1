"""stringsvc3 end to end: a proxy in front of two real stringsvc2 backends on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from examples.stringsvc3.__main__ import build_app, main
from examples.stringsvc3.proxying import (
    Unavailable,
    instance_url,
    proxy_uppercase,
    split_instances,
)
from pygokit.retry import RetriesExhausted
from pygokit.testing import CapturingLogger
from tests.examples.harness import (
    PATIENT,
    closed_port,
    post,
    run_example,
    serving,
    stringsvc_backend,
    usage_error,
)
from tests.transport.http.server_harness import call


@asynccontextmanager
async def proxy(*instances: str) -> AsyncIterator[tuple[str, CapturingLogger]]:
    """Serve stringsvc3 proxying uppercase to *instances*; yield its URL and logger."""
    logger = CapturingLogger()
    async with aiohttp.ClientSession() as session:
        endpoint = proxy_uppercase(instances, session, max_time=PATIENT)
        async with serving(build_app(logger, CollectorRegistry(), endpoint), logger) as url:
            yield url, logger


def test_split_instances_drops_blanks_and_spaces() -> None:
    """--proxy's value splits on commas; spaces and empty parts are ignored."""
    assert split_instances(" 127.0.0.1:8001, 127.0.0.1:8002,,") == [
        "127.0.0.1:8001",
        "127.0.0.1:8002",
    ]
    assert split_instances("") == []


def test_instance_url_adds_scheme_and_path_but_keeps_a_given_path() -> None:
    """host:port becomes http://host:port/path; a URL keeps its scheme and its own path."""
    assert instance_url("127.0.0.1:8001", "/uppercase") == "http://127.0.0.1:8001/uppercase"
    assert instance_url("https://h:1", "/uppercase") == "https://h:1/uppercase"
    assert instance_url("http://h:1/v2/up", "/uppercase") == "http://h:1/v2/up"


async def test_proxy_refuses_no_instances_and_bad_ones() -> None:
    """Building the proxy with no instance, or one that is no valid address, is a ValueError."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="at least one instance"):
            proxy_uppercase([], session)
        with pytest.raises(ValueError, match="not a valid host:port"):
            proxy_uppercase(["127.0.0.1:99999"], session)


async def test_calls_are_answered_by_both_backends_in_turn() -> None:
    """Through the proxy uppercase is right and alternates between backends; count is local."""
    async with (
        stringsvc_backend() as a,
        stringsvc_backend() as b,
        proxy(a.instance, b.instance) as (url, logger),
    ):
        for word in ["a", "b", "c", "d", "e", "f"]:
            assert await post(f"{url}/uppercase", json.dumps({"s": word})) == (
                200,
                json.dumps({"v": word.upper()}, separators=(",", ":")).encode(),
            )
        assert await post(f"{url}/uppercase", '{"s":""}') == (200, b'{"v":"","err":"empty string"}')
        assert await post(f"{url}/count", '{"s":"hello"}') == (200, b'{"v":5}')

    served = a.calls("uppercase") + b.calls("uppercase")
    assert sorted(map(str, served)) == ["", "a", "b", "c", "d", "e", "f"]
    assert len(a.calls("uppercase")) in (3, 4)
    assert len(b.calls("uppercase")) in (3, 4)
    assert a.calls("count") == b.calls("count") == []
    assert any(e.get("method") == "count" and e.get("n") == 5 for e in logger.events)


async def test_calls_still_succeed_when_one_backend_is_down() -> None:
    """With one backend stopped, every call is retried on the other and succeeds (R8)."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(stringsvc_backend())
        down = AsyncExitStack()
        b = await down.enter_async_context(stringsvc_backend())
        url, _ = await stack.enter_async_context(proxy(a.instance, b.instance))
        assert await post(f"{url}/uppercase", '{"s":"warm"}') == (200, b'{"v":"WARM"}')
        await down.aclose()  # b stops; the proxy's pooled connection to it goes stale

        for word in ["x", "y", "z", "w"]:
            status, body = await post(f"{url}/uppercase", json.dumps({"s": word}))
            assert (status, json.loads(body)) == (200, {"v": word.upper()})

    assert a.calls("uppercase")[-4:] == ["x", "y", "z", "w"]
    assert not {"x", "y", "z", "w"} & set(b.calls("uppercase"))


async def test_all_backends_down_gives_503_without_internals_and_the_proxy_stays_up() -> None:
    """With no backend answering, uppercase is a 503 with no details; count still works (F2)."""
    dead = [closed_port(), closed_port()]
    async with proxy(*dead) as (url, logger):
        status, body = await post(f"{url}/uppercase", '{"s":"hello"}')
        assert await post(f"{url}/count", '{"s":"hello"}') == (200, b'{"v":5}')

    assert status == 503
    document = json.loads(body)
    assert document == {"error": "service unavailable", "request_id": document["request_id"]}
    logged = [err for e in logger.events if isinstance(err := e.get("err"), Unavailable)]
    assert logged, "the error handler should log why the call failed"
    cause = logged[-1].__cause__
    assert isinstance(cause, RetriesExhausted)
    assert len(cause.attempts) == 3


async def test_the_process_proxies_to_its_instances() -> None:
    """``python -m examples.stringsvc3 --proxy`` logs where it proxies and serves through it."""
    async with stringsvc_backend() as a:

        async def calls(url: str) -> None:
            assert await post(f"{url}/uppercase", '{"s":"go kit"}') == (200, b'{"v":"GO KIT"}')

        args = ["--listen", "127.0.0.1:0", "--proxy", a.instance]
        status, lines = await run_example("examples.stringsvc3", args, calls)

    assert status == 0
    assert f"listen=127.0.0.1:0 proxy_to={a.instance}\n" in lines
    assert a.calls("uppercase") == ["go kit"]
    assert "transport=http msg=stopped" in lines[-1]


async def test_without_proxy_the_app_is_stringsvc2() -> None:
    """Without a proxy, uppercase is served by the local service, logged by stringsvc2."""
    logger = CapturingLogger()
    reply = await call(build_app(logger, CollectorRegistry()), b'{"s":"go"}', path="/uppercase")
    assert (reply.status, reply.body) == (200, b'{"v":"GO"}')
    assert [e["output"] for e in logger.events if e.get("method") == "uppercase"] == ["GO"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", ":nope"], "address must look like"),
        (
            ["--listen", "127.0.0.1:0", "--proxy", "127.0.0.1:99999"],
            "--proxy: instance '127.0.0.1:99999'",
        ),
    ],
)
async def test_main_rejects_bad_flags_with_usage_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed --listen or --proxy exits with status 2 and says what is wrong."""
    assert message in await usage_error(main, args, capsys)
