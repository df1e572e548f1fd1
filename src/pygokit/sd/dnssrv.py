"""DNS SRV discovery: the instances of a service are the targets of its SRV records.

`DNSSRVInstancer` is Go kit's ``sd/dnssrv``: it resolves an SRV name
(``_http._tcp.sum.example.com``) with dnspython's asyncio resolver, publishes
``target:port`` for each record, and resolves again every *interval* seconds.

- Instances are ``target:port`` with the target's trailing dot removed, as Go's
  ``net.LookupSRV`` gives them to Go kit (``sum-1.example.com:8080``). Priority and
  weight are ignored, as in Go kit; balancing is the balancer's job.
- A lookup that fails (NXDOMAIN, no SRV records, every nameserver failing, no answer
  within *timeout*) publishes an error event and is retried with exponential backoff,
  starting at 1 s and capped at *interval*; the endpointer decides whether to keep the
  last instances (Go kit's "don't replace potentially-good with bad"). A record with
  port 0 fails the lookup (`SRVPortZero`, Go kit's ``ErrPortZero``). A record whose
  target is ``.`` means "no service here" (RFC 2782) and yields no instance.
- TTL: Go kit ignores it, and so does the instancer by default (its *interval* is
  what Go kit calls the TTL). With ``respect_ttl=True`` it never asks again before
  the answer's TTL has run out: the wait after a good lookup is the larger of
  *interval* and the TTL, so a resolver cache is not asked for what it cannot have
  changed. *interval* stays the floor, so a TTL of 0 does not make it poll hard.

There is no registrar: SRV records are published by whoever owns the zone (Consul,
Kubernetes, a DNS provider).

Needs the ``dns`` extra (dnspython).

Example::

    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], 8600   # a Consul agent's DNS
    async with DNSSRVInstancer("sum.service.consul", resolver=resolver) as instancer:
        ...
"""

from __future__ import annotations

import asyncio
import math

from pygokit._extras import missing_extra
from pygokit.clock import Sleep
from pygokit.errors import GoKitError
from pygokit.log import Logger, NopLogger
from pygokit.retry.backoff import Backoff, Exponential
from pygokit.sd.event import Event
from pygokit.sd.watching import WatchingInstancer

try:
    import dns.asyncresolver
    import dns.exception
    import dns.name
    import dns.rdatatype
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.dnssrv", "dns") from exc

__all__ = ["DNSSRVInstancer", "SRVPortZero"]


class SRVPortZero(GoKitError):
    """An SRV record has port 0, so it names no usable instance (Go kit's ``ErrPortZero``).

    Attributes:
        name: The SRV name that was resolved.
        target: The record's target.
    """

    def __init__(self, name: str, target: str) -> None:
        super().__init__(
            f"SRV record of {name} points at {target} with port 0; fix the record in the zone"
        )
        self.name = name
        self.target = target


class DNSSRVInstancer(WatchingInstancer):
    """Publishes the targets of an SRV name, resolved every *interval*; an async context manager.

    Args:
        name: The SRV name, such as ``"_http._tcp.sum.example.com"``; taken as absolute.
        interval: Seconds between lookups (Go kit's *ttl*).
        respect_ttl: Wait at least the answer's TTL before the next lookup (see the
            module docstring).
        resolver: A dnspython ``dns.asyncresolver.Resolver``, e.g. pointed at a given
            nameserver and port; the system's (``/etc/resolv.conf``), read at the first
            lookup, when None.
        timeout: Seconds a lookup may take, retries between nameservers included.
        backoff: Waits between retries after failed lookups; exponential from 1 s (or
            *interval* if shorter) up to *interval* by default.
        sleep: How the instancer waits; a `pygokit.testing.FakeClock`'s ``sleep`` in tests.
        logger: Receives the failed lookups (``name=``, ``err=``).
    """

    def __init__(
        self,
        name: str,
        *,
        interval: float = 30.0,
        respect_ttl: bool = False,
        resolver: dns.asyncresolver.Resolver | None = None,
        timeout: float = 5.0,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        logger: Logger | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip("."):
            raise ValueError(f"name must be an SRV name such as '_http._tcp.example.com': {name!r}")
        try:
            self._qname = dns.name.from_text(name)
        except dns.exception.DNSException as exc:
            raise ValueError(f"{name!r} is not a valid DNS name: {exc}") from exc
        for what, value in (("interval", interval), ("timeout", timeout)):
            if not 0 < value < math.inf:
                raise ValueError(f"{what} must be a positive number of seconds, got {value!r}")
        super().__init__(name=f"DNS SRV instancer {self._qname}")
        self.srv_name = self._qname.to_text(omit_final_dot=True)
        """The SRV name, without the trailing dot."""
        self._interval = interval
        self._respect_ttl = respect_ttl
        self._resolver = resolver
        self._timeout = timeout
        self._backoff = (
            backoff
            if backoff is not None
            else Exponential(initial=min(1.0, interval), maximum=interval)
        )
        self._sleep = sleep
        self._logger = logger if logger is not None else NopLogger()

    async def _watch(self) -> None:
        """Look the name up, publish, wait; back off while lookups fail."""
        failures = 0
        while True:
            try:
                instances, ttl = await self._lookup()
            except (dns.exception.DNSException, SRVPortZero) as exc:
                failures += 1
                self._logger.log(name=self.srv_name, err=exc)
                self._publish(Event(error=exc))
                await self._sleep(self._backoff.delay(failures))
                continue
            failures = 0
            self._publish(Event(instances))
            await self._sleep(max(self._interval, ttl) if self._respect_ttl else self._interval)

    async def _lookup(self) -> tuple[list[str], float]:
        """Resolve the SRV records; return the instances and the answer's TTL in seconds."""
        resolver = self._resolver
        if resolver is None:
            resolver = dns.asyncresolver.get_default_resolver()
        answer = await resolver.resolve(self._qname, dns.rdatatype.SRV, lifetime=self._timeout)
        instances = []
        for record in answer:
            if record.target == dns.name.root:  # RFC 2782: "decidedly not available"
                continue
            target = record.target.to_text(omit_final_dot=True)
            if record.port == 0:
                raise SRVPortZero(self.srv_name, target)
            instances.append(f"{target}:{record.port}")
        # The smallest TTL of the answer and of any CNAME that led to it.
        return instances, float(answer.chaining_result.minimum_ttl)
