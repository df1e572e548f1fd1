"""Service discovery with Consul: Go kit's ``sd/consul`` over Consul's HTTP API.

- `ConsulInstancer`: the instances of a service (``address:port``), filtered by tags and
  health, followed with blocking queries; errors become error events, with backoff.
- `ConsulRegistrar`: registers this instance with the local agent, keeps its TTL check
  passing (or checks that the agent still knows it), re-registers when the agent forgot
  it, and deregisters on the way out.
- `ConsulClient`: the small HTTP client both use; `ServiceRegistration`, `TTLCheck` and
  `HTTPCheck` describe what to register; `ConsulError` is every failure.

No Consul SDK is needed, only aiohttp: ``pip install 'pygokit[consul]'``.

Example::

    async with ConsulClient("127.0.0.1:8500") as consul:
        registration = ServiceRegistration(name="addsvc", address="10.0.0.5", port=8080,
                                           check=TTLCheck(ttl=10.0))
        async with ConsulRegistrar(consul, registration) as registrar:
            await registrar.register()
            async with ConsulInstancer(consul, "addsvc") as instancer:
                print(instancer.state.instances)  # ('10.0.0.5:8080',)
"""

from pygokit.sd.consul.client import ConsulClient as ConsulClient
from pygokit.sd.consul.client import ConsulError as ConsulError
from pygokit.sd.consul.client import ServiceEntry as ServiceEntry
from pygokit.sd.consul.instancer import ConsulInstancer as ConsulInstancer
from pygokit.sd.consul.registrar import ConsulRegistrar as ConsulRegistrar
from pygokit.sd.consul.registration import HTTPCheck as HTTPCheck
from pygokit.sd.consul.registration import ServiceRegistration as ServiceRegistration
from pygokit.sd.consul.registration import TTLCheck as TTLCheck

__all__ = [
    "ConsulClient",
    "ConsulError",
    "ConsulInstancer",
    "ConsulRegistrar",
    "HTTPCheck",
    "ServiceEntry",
    "ServiceRegistration",
    "TTLCheck",
]
