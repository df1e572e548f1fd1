"""ServiceRegistration, TTLCheck and HTTPCheck: defaults and validation, without I/O."""

from __future__ import annotations

import pytest

from pygokit.sd.consul import HTTPCheck, ServiceRegistration, TTLCheck


def test_a_registration_without_a_check_has_defaults() -> None:
    """No check, no Check field; the ID is made of the name (and address and port, if given)."""
    assert ServiceRegistration(name="web", port=80).id == "web-80"
    assert ServiceRegistration(name="web").to_json() == {
        "ID": "web",
        "Name": "web",
        "Tags": [],
        "Address": "",
        "Port": 0,
        "Meta": {},
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": ""}, ValueError, "name must be"),
        ({"name": "w", "port": 70000}, ValueError, "port must be in"),
        ({"name": "w", "port": "80"}, TypeError, "port must be an int"),
        ({"name": "w", "port": True}, TypeError, "port must be an int"),
        ({"name": "w", "tags": "v1"}, TypeError, "tags must be"),
        ({"name": "w", "tags": (1,)}, TypeError, "tags must be"),
        ({"name": "w", "meta": {"a": 1}}, TypeError, "meta must map"),
    ],
)
def test_bad_registrations_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    """A registration is checked when it is made."""
    with pytest.raises(error, match=message):
        ServiceRegistration(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TTLCheck(ttl=0), "ttl must be"),
        (lambda: TTLCheck(ttl=1, deregister_critical_after=-1), "deregister_critical_after"),
        (lambda: HTTPCheck(url="localhost/health"), "url must be"),
        (lambda: HTTPCheck(url="http://h/", interval=float("inf")), "interval must be"),
        (lambda: HTTPCheck(url="http://h/", timeout=0), "timeout must be"),
    ],
)
def test_bad_checks_are_refused(make: object, message: str) -> None:
    """Check durations must be positive and finite, and an HTTP check needs an http URL."""
    assert callable(make)
    with pytest.raises(ValueError, match=message):
        make()
