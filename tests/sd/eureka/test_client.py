"""EurekaClient against the fake server: the four operations, both JSON dialects, failures."""

from __future__ import annotations

import aiohttp
import pytest

from pygokit.sd.eureka import EurekaClient, EurekaError, EurekaInstance, InstanceInfo
from tests.sd.eureka.fake import FakeEureka, Fault

INSTANCE = EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080, metadata={"v": "1"})


async def test_register_posts_the_instance_document(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """The body is Eureka's instance document; the app is upper-cased in the path."""
    await client.register(INSTANCE)

    request = eureka.requests[-1]
    assert (request.method, request.path) == ("POST", "/eureka/apps/ADDSVC")
    assert request.body == {
        "instance": {
            "instanceId": "10.0.0.5:addsvc:8080",
            "hostName": "10.0.0.5",
            "app": "ADDSVC",
            "ipAddr": "10.0.0.5",
            "vipAddress": "addsvc",
            "secureVipAddress": "addsvc",
            "status": "UP",
            "port": {"$": 8080, "@enabled": "true"},
            "securePort": {"$": 443, "@enabled": "false"},
            "dataCenterInfo": {
                "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                "name": "MyOwn",
            },
            "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90},
            "metadata": {"v": "1"},
        }
    }
    assert "10.0.0.5:addsvc:8080" in eureka.apps["ADDSVC"]


async def test_app_instances_lists_every_status_with_accept_json(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """The listing has each instance with its status; the request accepts JSON."""
    eureka.add("addsvc", "10.0.0.1", 80)
    eureka.add("addsvc", "10.0.0.2", 81, status="DOWN")

    infos = await client.app_instances("addsvc")

    assert infos == [
        InstanceInfo("10.0.0.1:80", "10.0.0.1", "10.0.0.1", 80, "UP"),
        InstanceInfo("10.0.0.2:81", "10.0.0.2", "10.0.0.2", 81, "DOWN"),
    ]
    assert [info.instance for info in infos] == ["10.0.0.1:80", "10.0.0.2:81"]
    assert eureka.requests[-1].accept == "application/json"


async def test_the_older_json_dialect_is_read_too(eureka: FakeEureka, client: EurekaClient) -> None:
    """A single instance as an object and a port as a string still make one InstanceInfo."""
    eureka.legacy_json = True
    eureka.add("addsvc", "10.0.0.1", 80)

    assert [info.instance for info in await client.app_instances("addsvc")] == ["10.0.0.1:80"]


def test_an_ipv6_instance_gets_brackets() -> None:
    """An IPv6 ipAddr is bracketed so that host and port stay apart."""
    assert InstanceInfo("i", "h", "fe80::1", 80, "UP").instance == "[fe80::1]:80"


async def test_an_unknown_app_has_no_instances(client: EurekaClient) -> None:
    """Eureka's 404 for an application it does not know is an empty list, not an error."""
    assert await client.app_instances("nobody") == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<xml/>", "Expecting value"),
        (b"[]", "no application object"),
        (b'{"application": {"instance": 3}}', "instance is 3"),
        (b'{"application": {"instance": [3]}}', "an instance is 3"),
        (b'{"application": {"instance": [{"port": "x"}]}}', "port is 'x'"),
        (b'{"application": {"instance": [{"port": true}]}}', "port is True"),
        (b'{"application": {"instance": [{"port": 1, "ipAddr": 7}]}}', "ipAddr is 7"),
    ],
)
async def test_a_malformed_listing_is_a_eureka_error(
    eureka: FakeEureka, client: EurekaClient, body: bytes, reason: str
) -> None:
    """A body that is not the documented JSON is a EurekaError naming the problem."""
    eureka.inject("GET /eureka/apps/", Fault(body=body))
    with pytest.raises(EurekaError, match=f"with a malformed body: .*{reason}") as caught:
        await client.app_instances("addsvc")
    assert caught.value.status == 200


async def test_a_listing_without_instances_is_empty(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """An application object without an instance field has no instances."""
    eureka.inject("GET /eureka/apps/", Fault(body=b'{"application": {"name": "A"}}'))
    assert await client.app_instances("a") == []


async def test_heartbeat_renews_or_says_404(eureka: FakeEureka, client: EurekaClient) -> None:
    """A heartbeat for a known instance succeeds; for an unknown one it is a 404 EurekaError."""
    await client.register(INSTANCE)
    await client.heartbeat("addsvc", INSTANCE.instance_id)
    with pytest.raises(EurekaError) as caught:
        await client.heartbeat("addsvc", "nope")
    assert caught.value.status == 404
    assert eureka.requests[-2].path == "/eureka/apps/ADDSVC/10.0.0.5:addsvc:8080"


async def test_deregister_removes_and_an_unknown_instance_is_already_gone(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """Deregistering removes the instance; again (404) is not an error; a 500 is."""
    await client.register(INSTANCE)
    await client.deregister("addsvc", INSTANCE.instance_id)
    await client.deregister("addsvc", INSTANCE.instance_id)
    assert eureka.apps == {}

    eureka.inject("DELETE", Fault(status=500, body=b"boom"))
    with pytest.raises(EurekaError, match="HTTP 500: boom"):
        await client.deregister("addsvc", INSTANCE.instance_id)


async def test_error_statuses_carry_the_servers_text(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """A 5xx is a EurekaError with the status and the server's text, truncated."""
    eureka.inject("GET", Fault(status=503, body=b"y" * 500))
    with pytest.raises(EurekaError) as caught:
        await client.app_instances("addsvc")
    assert caught.value.status == 503
    assert len(caught.value.detail) == 300
    assert str(caught.value).startswith(
        f"Eureka at {eureka.url} answered GET /apps/ADDSVC with HTTP 503: yyy"
    )


async def test_a_request_that_is_never_answered_times_out(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """A hang is a EurekaError after the timeout, never a hang of the caller."""
    eureka.inject("PUT", Fault(hang=True))
    with pytest.raises(EurekaError, match=r"did not answer PUT /apps/A/i within 0\.5s") as caught:
        await client.heartbeat("a", "i")
    assert caught.value.status is None


async def test_an_unreachable_server_is_a_eureka_error() -> None:
    """Nothing listening: a EurekaError without status that says it could not be reached."""
    async with FakeEureka() as gone:
        url = gone.url
    async with EurekaClient(url) as client:
        with pytest.raises(EurekaError, match="could not be reached for GET") as caught:
            await client.app_instances("a")
    assert caught.value.status is None


async def test_an_oversized_body_is_refused(eureka: FakeEureka) -> None:
    """A body larger than max_response_bytes is a EurekaError."""
    for n in range(10):
        eureka.add("a", "10.0.0.1", 80 + n)
    async with EurekaClient(eureka.url, max_response_bytes=500) as client:
        with pytest.raises(EurekaError, match="more than 500 bytes"):
            await client.app_instances("a")


async def test_a_callers_session_stays_open_and_a_closed_client_refuses(
    eureka: FakeEureka,
) -> None:
    """The caller's session survives aclose; a closed client raises RuntimeError."""
    async with aiohttp.ClientSession() as session:
        client = EurekaClient(eureka.url, session=session)
        await client.app_instances("a")
        await client.aclose()
        assert not session.closed
        with pytest.raises(RuntimeError, match="is closed"):
            await client.app_instances("a")
    assert repr(client) == f"EurekaClient('{eureka.url}')"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "eureka:8761"}, "url must be"),
        ({"url": "http://"}, "url must be"),
        ({"url": "http://e/eureka", "timeout": 0}, "timeout must be"),
        ({"url": "http://e/eureka", "max_response_bytes": 0}, "max_response_bytes must be"),
    ],
)
def test_bad_client_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Constructor arguments are checked before any I/O."""
    with pytest.raises(ValueError, match=message):
        EurekaClient(**kwargs)  # type: ignore[arg-type]


async def test_empty_names_are_refused(client: EurekaClient) -> None:
    """An empty application name or instance ID is a ValueError, before any request."""
    with pytest.raises(ValueError, match="must not be empty"):
        await client.app_instances("")
    with pytest.raises(ValueError, match="must not be empty"):
        await client.heartbeat("a", "")
