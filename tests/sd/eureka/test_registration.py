"""EurekaInstance: defaults, the instance document, and validation, without I/O."""

from __future__ import annotations

import pytest

from pygokit.sd.eureka import EurekaInstance


def test_a_secure_port_is_enabled_when_given() -> None:
    """secure_port turns the securePort on; host name and IDs can be set explicitly."""
    instance = EurekaInstance(
        app="a", ip_addr="10.0.0.5", port=80, secure_port=8443, host_name="h", instance_id="i"
    )
    document = instance.to_json()["instance"]
    assert document["securePort"] == {"$": 8443, "@enabled": "true"}
    assert (document["hostName"], document["instanceId"]) == ("h", "i")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"app": ""}, ValueError, "app must be"),
        ({"ip_addr": ""}, ValueError, "ip_addr must be"),
        ({"port": 0}, ValueError, "port must be in"),
        ({"port": "80"}, TypeError, "port must be an int"),
        ({"secure_port": True}, TypeError, "secure_port must be an int"),
        ({"status": "up"}, ValueError, "status must be one of"),
        ({"renewal_interval": 0.5}, ValueError, "renewal_interval must be"),
        ({"lease_duration": 30}, ValueError, "must be longer than"),
        ({"metadata": {"a": 1}}, TypeError, "metadata must map"),
    ],
)
def test_bad_instances_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    """An instance is checked when it is made."""
    options: dict[str, object] = {"app": "a", "ip_addr": "10.0.0.1", "port": 80}
    options.update(kwargs)
    with pytest.raises(error, match=message):
        EurekaInstance(**options)  # type: ignore[arg-type]
