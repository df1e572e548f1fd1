"""Service discovery with Eureka: Go kit's ``sd/eureka`` over Eureka's REST API.

- `EurekaInstancer`: the ``UP`` instances of an application (``ipAddr:port``), polled at
  an interval; errors become error events, with backoff.
- `EurekaRegistrar`: registers this instance, renews its lease with heartbeats,
  registers it again when Eureka answers a heartbeat with 404, and deregisters on the
  way out.
- `EurekaClient`: the small JSON client both use; `EurekaInstance` describes what to
  register and `InstanceInfo` what Eureka lists; `EurekaError` is every failure.

No Eureka SDK is needed, only aiohttp: ``pip install 'pygokit[eureka]'``.

Example::

    async with EurekaClient("http://127.0.0.1:8761/eureka") as eureka:
        instance = EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080)
        async with EurekaRegistrar(eureka, instance) as registrar:
            await registrar.register()
            async with EurekaInstancer(eureka, "addsvc") as instancer:
                print(instancer.state.instances)  # ('10.0.0.5:8080',)
"""

from pygokit.sd.eureka.client import EurekaClient as EurekaClient
from pygokit.sd.eureka.client import EurekaError as EurekaError
from pygokit.sd.eureka.client import InstanceInfo as InstanceInfo
from pygokit.sd.eureka.instancer import EurekaInstancer as EurekaInstancer
from pygokit.sd.eureka.registrar import EurekaRegistrar as EurekaRegistrar
from pygokit.sd.eureka.registration import STATUSES as STATUSES
from pygokit.sd.eureka.registration import EurekaInstance as EurekaInstance

__all__ = [
    "STATUSES",
    "EurekaClient",
    "EurekaError",
    "EurekaInstance",
    "EurekaInstancer",
    "EurekaRegistrar",
    "InstanceInfo",
]
