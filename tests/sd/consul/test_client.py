"""ConsulClient against the fake agent: queries, blocking, registration, and every failure."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from pygokit.sd.consul import (
    ConsulClient,
    ConsulError,
    HTTPCheck,
    ServiceEntry,
    ServiceRegistration,
    TTLCheck,
)
from tests.sd.consul.fake import FakeConsul, FakeService, Fault


async def test_health_service_returns_entries_and_the_index(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Entries carry the service and node records and check statuses; the index comes along."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80, ["v1"], {"zone": "z1"}), status="passing")
    consul.add(FakeService("b", "web", "", 81))
    consul.add(FakeService("c", "other", "10.0.0.3", 82))

    entries, index = await client.health_service("web")

    assert index == consul.index
    assert entries == [
        ServiceEntry(
            id="a",
            service="web",
            address="10.0.0.1",
            port=80,
            node="fake-node",
            node_address="127.0.0.1",
            tags=("v1",),
            meta={"zone": "z1"},
            checks={"serfHealth": "passing", "service:a": "passing"},
        ),
        ServiceEntry(
            id="b",
            service="web",
            address="",
            port=81,
            node="fake-node",
            node_address="127.0.0.1",
            checks={"serfHealth": "passing"},
        ),
    ]
    assert [entry.instance for entry in entries] == ["10.0.0.1:80", "127.0.0.1:81"]
    assert consul.requests[-1].query == {}


def test_an_ipv6_instance_gets_brackets() -> None:
    """An IPv6 service address is bracketed so that host and port stay apart."""
    entry = ServiceEntry(id="a", service="s", address="::1", port=80, node="n", node_address="")
    assert entry.instance == "[::1]:80"


async def test_tag_and_passing_go_to_consul(consul: FakeConsul, client: ConsulClient) -> None:
    """The tag and passing filters are query parameters that Consul applies."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80, ["v1"]), status="passing")
    consul.add(FakeService("b", "web", "10.0.0.2", 80, ["v1"]), status="critical")
    consul.add(FakeService("c", "web", "10.0.0.3", 80, ["v2"]), status="passing")

    entries, _ = await client.health_service("web", tag="v1", passing_only=True)

    assert [entry.id for entry in entries] == ["a"]
    assert consul.requests[-1].query == {"tag": "v1", "passing": "true"}


async def test_a_blocking_query_waits_for_a_change(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """With the last index, the query is held until the catalog changes, then sees it."""
    _, index = await client.health_service("web")
    query = asyncio.create_task(client.health_service("web", index=index, wait=30.0))
    await consul.wait_for(lambda: consul.count("GET", "/v1/health/service/web") == 2)
    assert not query.done()

    consul.add(FakeService("a", "web", "10.0.0.1", 80))
    entries, new_index = await query

    assert [entry.id for entry in entries] == ["a"]
    assert new_index > index
    assert consul.requests[-1].query == {"index": str(index), "wait": "30000ms"}


async def test_a_blocking_query_returns_unchanged_when_wait_runs_out(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Nothing changes: the query answers after wait with the same index (no error)."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80))
    first, index = await client.health_service("web")

    again, same = await client.health_service("web", index=index, wait=0.05)

    assert (again, same) == (first, index)


async def test_register_sends_consuls_field_names(consul: FakeConsul, client: ConsulClient) -> None:
    """The registration body uses Consul's field names, durations as Go durations."""
    registration = ServiceRegistration(
        name="web",
        address="10.0.0.1",
        port=80,
        tags=("v1",),
        meta={"zone": "z1"},
        check=TTLCheck(ttl=10.0, deregister_critical_after=90.0),
    )
    await client.register(registration)

    assert consul.requests[-1].body == {
        "ID": "web-10.0.0.1-80",
        "Name": "web",
        "Tags": ["v1"],
        "Address": "10.0.0.1",
        "Port": 80,
        "Meta": {"zone": "z1"},
        "Check": {
            "CheckID": "service:web-10.0.0.1-80",
            "TTL": "10000ms",
            "DeregisterCriticalServiceAfter": "90000ms",
        },
    }
    service = consul.services["web-10.0.0.1-80"]
    assert service.check == {
        "CheckID": "service:web-10.0.0.1-80",
        "Status": "critical",
        "TTL": "10000ms",
        "DeregisterCriticalServiceAfter": "90000ms",
    }


async def test_an_http_check_is_registered_with_interval_and_timeout(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """An HTTPCheck becomes Consul's HTTP, Interval and Timeout fields."""
    check = HTTPCheck(
        url="http://10.0.0.1/health", interval=5, timeout=1.5, deregister_critical_after=60
    )
    await client.register(ServiceRegistration(name="web", id="w1", check=check))

    assert consul.requests[-1].body["Check"] == {
        "CheckID": "service:w1",
        "HTTP": "http://10.0.0.1/health",
        "Interval": "5000ms",
        "Timeout": "1500ms",
        "DeregisterCriticalServiceAfter": "60000ms",
    }


async def test_the_fake_accepts_field_names_in_any_case(consul: FakeConsul) -> None:
    """Like Consul's decoder, the fake reads lower-case keys as py-consul sends them."""
    body = {
        "name": "web",
        "id": "w1",
        "tags": ["v1"],
        "port": 80,
        "check": {"ttl": "10s", "status": "passing"},
    }
    async with aiohttp.ClientSession() as session:
        async with session.put(consul.url + "/v1/agent/service/register", json=body) as reply:
            assert reply.status == 200
        async with session.put(consul.url + "/v1/agent/service/register", data=b"{") as reply:
            assert reply.status == 400

    service = consul.services["w1"]
    assert (service.name, service.tags, service.port) == ("web", ["v1"], 80)
    assert service.check == {"CheckID": "service:w1", "Status": "passing", "TTL": "10s"}


async def test_deregister_removes_and_an_unknown_id_is_already_gone(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Deregistering removes the service; doing it again (404) is not an error."""
    consul.add(FakeService("w/1", "web", "10.0.0.1", 80))

    await client.deregister("w/1")
    await client.deregister("w/1")

    assert consul.services == {}
    assert [r.path for r in consul.requests[-2:]] == ["/v1/agent/service/deregister/w/1"] * 2


async def test_deregister_raises_other_errors(consul: FakeConsul, client: ConsulClient) -> None:
    """A 500 from deregister is an error, unlike a 404."""
    consul.inject("PUT /v1/agent/service/deregister", Fault(status=500, body=b"boom"))
    with pytest.raises(ConsulError, match="HTTP 500: boom"):
        await client.deregister("w1")


async def test_check_pass_passes_and_reports_an_unknown_check(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """A pass turns the TTL check passing; an unknown check is a ConsulError with 404."""
    consul.add(FakeService("w1", "web", "10.0.0.1", 80), status="critical")

    await client.check_pass("service:w1", note="alive")
    with pytest.raises(ConsulError) as caught:
        await client.check_pass("service:nope")

    assert consul.services["w1"].check == {
        "CheckID": "service:w1",
        "Status": "passing",
        "TTL": "10s",
    }
    assert consul.requests[-2].query == {"note": "alive"}
    assert caught.value.status == 404
    assert caught.value.detail == 'Unknown check ID "service:nope"'


async def test_agent_service_returns_the_record_or_a_404(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """The agent's record of a known service; ConsulError 404 for an unknown one."""
    consul.add(FakeService("w1", "web", "10.0.0.1", 80))

    record = await client.agent_service("w1")
    with pytest.raises(ConsulError) as caught:
        await client.agent_service("w2")

    assert record["ID"] == "w1"
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "Expecting property name"),
        (b"{}", "not a JSON array"),
        (b"[1]", "an entry is 1"),
        (b'[{"Node": {}}]', "Service is not an object"),
        (b'[{"Node": {}, "Service": {"Port": "80"}}]', "Port is '80'"),
        (b'[{"Node": {}, "Service": {"Port": true}}]', "Port is True"),
        (b'[{"Node": {}, "Service": {"Tags": [1]}}]', "Tags is \\[1\\]"),
        (b'[{"Node": {}, "Service": {}, "Checks": [1]}]', "a check is 1"),
    ],
)
async def test_a_malformed_health_answer_is_a_consul_error(
    consul: FakeConsul, client: ConsulClient, body: bytes, reason: str
) -> None:
    """A body that is not what the API documents is a ConsulError naming the problem."""
    consul.inject("GET /v1/health/service/web", Fault(body=body))
    with pytest.raises(ConsulError, match=f"with a malformed body: .*{reason}") as caught:
        await client.health_service("web")
    assert caught.value.status == 200


async def test_a_malformed_agent_service_answer_is_a_consul_error(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """An agent service record that is not a JSON object is a ConsulError."""
    consul.inject("GET /v1/agent/service/w1", Fault(status=200, body=b"[]"))
    with pytest.raises(ConsulError, match="malformed body: the body is not a JSON object"):
        await client.agent_service("w1")


async def test_a_missing_or_odd_index_reads_as_zero(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """No X-Consul-Index, or one that is not a number, gives index 0 for the caller to judge."""
    consul.inject("GET /v1/health/service/web", Fault(no_index=True))
    assert await client.health_service("web") == ([], 0)
    consul.inject("GET /v1/health/service/web", Fault(index=-5), Fault(index="12a"))
    assert await client.health_service("web") == ([], 0)
    assert await client.health_service("web") == ([], 0)


async def test_an_error_status_carries_consuls_text(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """A 5xx is a ConsulError with the status and Consul's text, truncated."""
    consul.inject("GET /v1/health/service/web", Fault(status=500, body=b"x" * 1000))
    with pytest.raises(ConsulError) as caught:
        await client.health_service("web")
    error = caught.value
    assert error.status == 500
    assert len(error.detail) == 300
    assert error.detail.endswith("…")
    assert str(error).startswith(
        f"Consul at {consul.url} answered GET /v1/health/service/web with HTTP 500: xxx"
    )


async def test_a_request_that_is_never_answered_times_out(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """A hang is a ConsulError after the timeout, never a hang of the caller."""
    consul.inject("PUT /v1/agent/check/pass", Fault(hang=True))
    with pytest.raises(
        ConsulError, match=r"did not answer PUT /v1/agent/check/pass/c within 0\.5s"
    ):
        await client.check_pass("c")


async def test_a_blocking_query_gets_its_wait_on_top_of_the_timeout(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """The timeout of a blocking query is timeout + wait * 17/16 (Consul's jitter)."""
    consul.inject("GET /v1/health/service/web", Fault(hang=True))
    with pytest.raises(ConsulError, match=r"within 0\.553125s"):
        await client.health_service("web", index=5, wait=0.05)


async def test_an_unreachable_agent_is_a_consul_error() -> None:
    """Nothing listening: a ConsulError without status that says it could not be reached."""
    async with FakeConsul() as gone:
        url = gone.url
    async with ConsulClient(url, timeout=2.0) as client:
        with pytest.raises(ConsulError, match="could not be reached for GET") as caught:
            await client.health_service("web")
    assert caught.value.status is None


async def test_an_oversized_body_is_refused(consul: FakeConsul) -> None:
    """A body larger than max_response_bytes is a ConsulError, not a memory problem."""
    for n in range(20):
        consul.add(FakeService(f"w{n}", "web", "10.0.0.1", 80 + n))
    async with ConsulClient(consul.url, max_response_bytes=1000) as client:
        with pytest.raises(ConsulError, match="more than 1000 bytes"):
            await client.health_service("web")


async def test_token_and_datacenter_go_with_every_request(consul: FakeConsul) -> None:
    """The ACL token is a header (never in messages) and the datacenter a query parameter."""
    async with aiohttp.ClientSession() as session:
        client = ConsulClient(consul.url, token="s3cret", datacenter="dc2", session=session)
        consul.inject("GET /v1/health/service/web", Fault(status=403, body=b"denied"))
        with pytest.raises(ConsulError) as caught:
            await client.health_service("web")
        await client.aclose()
        assert not session.closed

    request = consul.requests[-1]
    assert (request.token, request.query) == ("s3cret", {"dc": "dc2"})
    assert "s3cret" not in str(caught.value)
    assert "s3cret" not in repr(client)


async def test_the_address_may_omit_the_scheme_and_carry_a_path(consul: FakeConsul) -> None:
    """``host:port`` (as in CONSUL_HTTP_ADDR) means http; a base path prefixes every request."""
    host_port = consul.url.removeprefix("http://")
    async with ConsulClient(host_port) as client:
        assert client.address == consul.url
        assert repr(client) == f"ConsulClient('{consul.url}')"
        await client.health_service("web")
    async with ConsulClient(consul.url + "/proxy/") as client:
        with pytest.raises(ConsulError, match=f"Consul at {consul.url}/proxy/ answered .* 404"):
            await client.health_service("web")
    assert consul.count("GET", "/v1/health/service/web") == 1  # the proxied one missed the fake


async def test_a_closed_client_refuses_requests(client: ConsulClient) -> None:
    """After aclose, a request is a RuntimeError rather than a new session."""
    await client.aclose()
    with pytest.raises(RuntimeError, match="is closed"):
        await client.health_service("web")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"address": "ftp://consul"}, "address must be"),
        ({"address": "http://"}, "address must be"),
        ({"timeout": 0}, "timeout must be"),
        ({"max_response_bytes": 0}, "max_response_bytes must be"),
    ],
)
def test_bad_client_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Constructor arguments are checked before any I/O."""
    with pytest.raises(ValueError, match=message):
        ConsulClient(**kwargs)  # type: ignore[arg-type]


async def test_bad_call_arguments_are_refused(client: ConsulClient) -> None:
    """An empty name or ID, or a wait outside Consul's limits, is a ValueError."""
    with pytest.raises(ValueError, match="must not be empty"):
        await client.health_service("")
    with pytest.raises(ValueError, match="must not be empty"):
        await client.deregister("")
    with pytest.raises(ValueError, match=r"wait must be in \(0, 600\]"):
        await client.health_service("web", wait=601)
