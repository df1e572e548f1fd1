"""Service discovery: find the instances of a service and turn them into endpoints.

Go kit's ``sd`` for asyncio. Discovery pushes snapshots, an endpointer keeps one endpoint
per instance, a balancer picks one per call, and retry tries another when it fails:

``Instancer -> DefaultEndpointer -> Balancer (pygokit.sd.lb) -> retry (pygokit.sd.lb)``

- `Event`: all the instances of a service, or the error that hides them.
- `Instancer`: pushes events to subscribers (callbacks); `InstanceCache` is how backends
  publish, `FixedInstancer` a static list, `WatchingInstancer` the base class of the
  backends that watch a registry in the background.
- `Factory`, `DefaultEndpointer`, `FixedEndpointer`: instance strings to endpoints, with
  Go kit's cache semantics (``invalidate_on_error`` included).
- `Registrar`: announce this instance, and withdraw it.
- `Background`: how a component owns its loops, so that a loop that dies is never silent.
- `NoEndpoints`, `DiscoveryError`, `WatcherDied`: what goes wrong.

Backends (Consul, etcd, ZooKeeper, DNS SRV, Eureka) live in subpackages behind extras.

Example::

    async with DefaultEndpointer(FixedInstancer(["a:80", "b:80"]), factory) as endpointer:
        call = retry(3, 1.0, RoundRobin(endpointer))
        response = await call(request)
"""

from pygokit.sd.background import Background as Background
from pygokit.sd.endpointer import Closer as Closer
from pygokit.sd.endpointer import DefaultEndpointer as DefaultEndpointer
from pygokit.sd.endpointer import Endpointer as Endpointer
from pygokit.sd.endpointer import Factory as Factory
from pygokit.sd.endpointer import FixedEndpointer as FixedEndpointer
from pygokit.sd.errors import DiscoveryError as DiscoveryError
from pygokit.sd.errors import NoEndpoints as NoEndpoints
from pygokit.sd.errors import WatcherDied as WatcherDied
from pygokit.sd.event import Event as Event
from pygokit.sd.instancer import FixedInstancer as FixedInstancer
from pygokit.sd.instancer import InstanceCache as InstanceCache
from pygokit.sd.instancer import Instancer as Instancer
from pygokit.sd.instancer import Subscriber as Subscriber
from pygokit.sd.registrar import Registrar as Registrar
from pygokit.sd.watching import WatchingInstancer as WatchingInstancer

__all__ = [
    "Background",
    "Closer",
    "DefaultEndpointer",
    "DiscoveryError",
    "Endpointer",
    "Event",
    "Factory",
    "FixedEndpointer",
    "FixedInstancer",
    "InstanceCache",
    "Instancer",
    "NoEndpoints",
    "Registrar",
    "Subscriber",
    "WatcherDied",
    "WatchingInstancer",
]
